// key.sealed, the software user key's file (app/agent/mfa/sealedkey.h). UserKeyError(Corrupt) is
// the only way parse may refuse; any other exception or a crash is a bug, and so is a file that
// parsed into sizes the unsealing does not expect or that does not survive a round trip.
#include "app/agent/mfa/sealedkey.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil::agent;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        const SealedKey key = parseSealedKey(text, "'fuzz'");
        if (key.salt.size() != 16 || key.nonce.size() != 12 || key.sealed.size() <= 16 ||
            key.publicKey.x.size() != 32 || key.publicKey.y.size() != 32)
            __builtin_trap();
        const SealedKey again = parseSealedKey(serializeSealedKey(key), "'fuzz'");
        if (again.salt != key.salt || again.nonce != key.nonce || again.sealed != key.sealed ||
            again.publicKey.x != key.publicKey.x || again.failures != key.failures ||
            again.lastAttemptMs != key.lastAttemptMs)
            __builtin_trap();
    } catch (const UserKeyError &e) {
        if (e.kind() != UserKeyError::Kind::Corrupt)
            __builtin_trap();
    }
    return 0;
}
