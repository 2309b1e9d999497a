#include "core/sha256.h"

#include <openssl/sha.h>

namespace vigil {

Bytes sha256(std::span<const std::uint8_t> data)
{
    Bytes digest(SHA256_DIGEST_LENGTH);
    SHA256(data.data(), data.size(), digest.data());
    return digest;
}

Bytes sha256(std::string_view text)
{
    return sha256(std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
}

} // namespace vigil
