#include "bytes.h"

#include <openssl/crypto.h>

namespace vigil::attestation {

namespace {

constexpr char hexDigits[] = "0123456789abcdef";
constexpr char base64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int base64UrlValue(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

} // namespace

std::string toHex(std::span<const std::uint8_t> bytes)
{
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(hexDigits[b >> 4]);
        out.push_back(hexDigits[b & 0x0f]);
    }
    return out;
}

std::optional<Bytes> fromHex(std::string_view hex)
{
    if (hex.size() % 2 != 0)
        return std::nullopt;
    Bytes out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int high = hexValue(hex[i]);
        const int low = hexValue(hex[i + 1]);
        if (high < 0 || low < 0)
            return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(high << 4 | low));
    }
    return out;
}

std::string base64UrlEncode(std::span<const std::uint8_t> bytes)
{
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v =
            std::uint32_t(bytes[i]) << 16 | std::uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
        out.push_back(base64UrlAlphabet[v >> 18 & 63]);
        out.push_back(base64UrlAlphabet[v >> 12 & 63]);
        out.push_back(base64UrlAlphabet[v >> 6 & 63]);
        out.push_back(base64UrlAlphabet[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t(bytes[i]) << 16;
        out.push_back(base64UrlAlphabet[v >> 18 & 63]);
        out.push_back(base64UrlAlphabet[v >> 12 & 63]);
    } else if (rest == 2) {
        const std::uint32_t v = std::uint32_t(bytes[i]) << 16 | std::uint32_t(bytes[i + 1]) << 8;
        out.push_back(base64UrlAlphabet[v >> 18 & 63]);
        out.push_back(base64UrlAlphabet[v >> 12 & 63]);
        out.push_back(base64UrlAlphabet[v >> 6 & 63]);
    }
    return out;
}

std::optional<Bytes> base64UrlDecode(std::string_view text)
{
    if (text.size() % 4 == 1)
        return std::nullopt;
    Bytes out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        const int v = base64UrlValue(c);
        if (v < 0)
            return std::nullopt;
        buffer = buffer << 6 | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(buffer >> bits & 0xff));
        }
    }
    // Leftover bits must be zero, otherwise two encodings would decode to the same bytes.
    if ((buffer & ((1u << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace vigil::attestation
