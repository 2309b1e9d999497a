#include "protocol/jose/ecdsasignature.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil;
    using namespace vigil::protocol;
    const std::span<const std::uint8_t> input(data, size);
    try {
        // Strict DER has one encoding per value, so anything accepted re-encodes to itself.
        const Bytes raw = ecdsaDerToRaw(input);
        if (raw.size() != 64 || ecdsaRawToDer(raw) != Bytes(input.begin(), input.end()))
            std::abort();
    } catch (const SignatureError &) {
    }
    try {
        const Bytes der = ecdsaRawToDer(input);
        if (ecdsaDerToRaw(der) != Bytes(input.begin(), input.end()))
            std::abort();
    } catch (const SignatureError &) {
    }
    return 0;
}
