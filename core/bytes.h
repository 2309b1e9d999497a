#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

using Bytes = std::vector<std::uint8_t>;

// The value of one hexadecimal digit, upper or lower case, or -1.
int hexDigitValue(char c);

std::string toHex(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case; nullopt for odd length or a non-hex character.
std::optional<Bytes> fromHex(std::string_view hex);

// RFC 4648 section 5 without padding, as JOSE (RFC 7515 section 2) requires.
std::string base64UrlEncode(std::span<const std::uint8_t> bytes);
// Strict: rejects padding, characters outside the URL-safe alphabet and non-zero trailing bits.
std::optional<Bytes> base64UrlDecode(std::string_view text);

// RFC 4648 section 6 (A-Z 2-7) without padding, as otpauth:// URIs carry TOTP secrets.
std::string base32Encode(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case and optional '=' padding at the end, as authenticator apps and
// people typing a secret produce; rejects other characters, impossible lengths and non-zero
// trailing bits.
std::optional<Bytes> base32Decode(std::string_view text);

inline Bytes toBytes(std::string_view text)
{
    return Bytes(text.begin(), text.end());
}

// Constant-time comparison for secrets; lengths are not secret.
bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

} // namespace vigil
