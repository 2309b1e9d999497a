#include "server/randomid.h"

#include <openssl/rand.h>
#include <stdexcept>

namespace vigil::server {

Bytes randomBytes(std::size_t count)
{
    Bytes bytes(count);
    if (count > 0 && RAND_bytes(bytes.data(), static_cast<int>(count)) != 1)
        throw std::runtime_error("OpenSSL could not produce random bytes");
    return bytes;
}

std::string randomUuid()
{
    Bytes bytes = randomBytes(16);
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
    const std::string hex = toHex(bytes);
    return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
           hex.substr(16, 4) + '-' + hex.substr(20);
}

} // namespace vigil::server
