// MakeCredential over an EK public sent by a client (marshalled TPM2B_PUBLIC): every malformed or
// unsuitable key must end in EvidenceException, never in a crash or an OpenSSL misuse.
#include "attestation/evidenceerror.h"
#include "attestation/makecredential.h"

#include <cstdint>
#include <span>

using namespace vigil;
using namespace vigil::attestation;
using namespace vigil::protocol;
using vigil::Bytes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // An AK name (SHA-256) and a 32-byte secret, as enrollment uses them.
    Bytes name(34, 0x5a);
    name[0] = 0x00;
    name[1] = 0x0b;
    const Bytes secret(32, 0xa5);
    try {
        makeCredential(std::span<const std::uint8_t>(data, size), name, secret);
    } catch (const EvidenceException &) {
    } catch (const std::invalid_argument &) {
        // a SHA-1 EK allows only 20-byte secrets
    }
    return 0;
}
