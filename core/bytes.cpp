#include "core/bytes.h"

#include <array>
#include <openssl/crypto.h>

namespace vigil {

namespace {

constexpr char hexDigits[] = "0123456789abcdef";
constexpr char base64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The value of each byte as a base64url digit, or -1. A table because the verifier decodes every
// JWS and quote it receives; branching per character took three times as long there.
constexpr auto base64UrlValues = [] {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    for (int i = 0; i < 64; ++i)
        values[static_cast<unsigned char>(base64UrlAlphabet[i])] = static_cast<std::int8_t>(i);
    return values;
}();

} // namespace

int hexDigitValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

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
        const int high = hexDigitValue(hex[i]);
        const int low = hexDigitValue(hex[i + 1]);
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

namespace {

constexpr std::string_view base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int base32Value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

} // namespace

std::string base32Encode(std::span<const std::uint8_t> bytes)
{
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const std::uint8_t byte : bytes) {
        buffer = (buffer << 8 | byte) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(base32Alphabet[buffer >> bits & 31]);
        }
    }
    if (bits > 0)
        out.push_back(base32Alphabet[buffer << (5 - bits) & 31]);
    return out;
}

std::optional<Bytes> base32Decode(std::string_view text)
{
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    // Each byte is 8 bits of 5-bit characters: 2, 4, 5, 7 or 8 characters per 1 to 5 bytes.
    const std::size_t rest = text.size() % 8;
    if (rest == 1 || rest == 3 || rest == 6)
        return std::nullopt;
    Bytes out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = base32Value(c);
        if (value < 0)
            return std::nullopt;
        buffer = (buffer << 5 | std::uint32_t(value)) & 0x1fff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(std::uint8_t(buffer >> bits));
        }
    }
    if ((buffer & ((1U << bits) - 1)) != 0)
        return std::nullopt; // trailing bits a canonical encoder leaves zero
    return out;
}

std::optional<Bytes> base64UrlDecode(std::string_view text)
{
    const std::size_t rest = text.size() % 4;
    if (rest == 1)
        return std::nullopt;
    Bytes out(text.size() / 4 * 3 + (rest ? rest - 1 : 0));
    const auto digits = [&](std::size_t at, std::size_t count, std::uint32_t &value) {
        // OR-ing the digits keeps one test per group: any -1 sets the sign bit.
        int any = 0;
        value = 0;
        for (std::size_t k = 0; k < count; ++k) {
            const int digit = base64UrlValues[static_cast<unsigned char>(text[at + k])];
            any |= digit;
            value = value << 6 | static_cast<std::uint32_t>(digit & 63);
        }
        return any >= 0;
    };
    std::size_t in = 0, at = 0;
    std::uint32_t value = 0;
    for (; in + 4 <= text.size(); in += 4, at += 3) {
        if (!digits(in, 4, value))
            return std::nullopt;
        out[at] = static_cast<std::uint8_t>(value >> 16);
        out[at + 1] = static_cast<std::uint8_t>(value >> 8);
        out[at + 2] = static_cast<std::uint8_t>(value);
    }
    if (rest != 0) {
        if (!digits(in, rest, value))
            return std::nullopt;
        // Two digits carry one byte and four spare bits, three carry two bytes and two spare
        // bits. The spare bits must be zero, otherwise two encodings would decode to the same
        // bytes.
        const int spare = rest == 2 ? 4 : 2;
        if ((value & ((1u << spare) - 1)) != 0)
            return std::nullopt;
        value >>= spare;
        if (rest == 3)
            out[at++] = static_cast<std::uint8_t>(value >> 8);
        out[at] = static_cast<std::uint8_t>(value);
    }
    return out;
}

bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace vigil
