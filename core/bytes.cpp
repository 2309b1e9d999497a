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
