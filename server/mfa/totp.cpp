#include "server/mfa/totp.h"

#include <array>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdexcept>

namespace vigil::server {

namespace {

const EVP_MD *digestOf(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::Sha1:
        return EVP_sha1();
    case TotpAlgorithm::Sha256:
        return EVP_sha256();
    case TotpAlgorithm::Sha512:
        return EVP_sha512();
    }
    return EVP_sha1();
}

// RFC 3986 section 2.3: everything but the unreserved characters is percent-encoded.
std::string percentEncoded(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 15]);
        }
    }
    return out;
}

} // namespace

std::string_view totpAlgorithmName(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::Sha1:
        return "SHA1";
    case TotpAlgorithm::Sha256:
        return "SHA256";
    case TotpAlgorithm::Sha512:
        return "SHA512";
    }
    return "SHA1";
}

std::optional<std::uint64_t> totpTimeStep(std::chrono::system_clock::time_point at,
                                          std::chrono::seconds period)
{
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
    if (seconds < 0 || period.count() <= 0)
        return std::nullopt;
    return static_cast<std::uint64_t>(seconds) / static_cast<std::uint64_t>(period.count());
}

std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                 const TotpParameters &parameters)
{
    if (parameters.digits < 6 || parameters.digits > 8)
        throw std::invalid_argument("a one-time password has 6 to 8 digits");
    if (key.empty())
        throw std::invalid_argument("a one-time password needs a key");
    std::array<std::uint8_t, 8> message{};
    for (int i = 7; i >= 0; --i, counter >>= 8)
        message[std::size_t(i)] = static_cast<std::uint8_t>(counter & 0xff);
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    if (!HMAC(digestOf(parameters.algorithm), key.data(), static_cast<int>(key.size()),
              message.data(), message.size(), mac.data(), &length) ||
        length < 20)
        throw std::runtime_error("HMAC failed");
    // Dynamic truncation: 31 bits from the offset the last nibble names.
    const unsigned offset = mac[length - 1] & 0x0f;
    const std::uint32_t binary = (std::uint32_t(mac[offset] & 0x7f) << 24) |
                                 (std::uint32_t(mac[offset + 1]) << 16) |
                                 (std::uint32_t(mac[offset + 2]) << 8) | mac[offset + 3];
    std::uint32_t modulus = 1;
    for (int i = 0; i < parameters.digits; ++i)
        modulus *= 10;
    std::string code = std::to_string(binary % modulus);
    return std::string(std::size_t(parameters.digits) - code.size(), '0') + code;
}

std::string totp(std::span<const std::uint8_t> key, std::chrono::system_clock::time_point at,
                 const TotpParameters &parameters)
{
    const auto step = totpTimeStep(at, parameters.period);
    if (!step)
        throw std::invalid_argument("no time step before the Unix epoch");
    return hotp(key, *step, parameters);
}

std::string otpauthUri(std::string_view issuer, std::string_view account,
                       std::span<const std::uint8_t> key, const TotpParameters &parameters)
{
    if (issuer.empty() || account.empty())
        throw std::invalid_argument("an otpauth URI needs an issuer and an account");
    if (issuer.find(':') != std::string_view::npos || account.find(':') != std::string_view::npos)
        throw std::invalid_argument("':' separates issuer and account in an otpauth label");
    return "otpauth://totp/" + percentEncoded(issuer) + ":" + percentEncoded(account) +
           "?secret=" + base32Encode(key) + "&issuer=" + percentEncoded(issuer) +
           "&algorithm=" + std::string(totpAlgorithmName(parameters.algorithm)) +
           "&digits=" + std::to_string(parameters.digits) +
           "&period=" + std::to_string(parameters.period.count());
}

} // namespace vigil::server
