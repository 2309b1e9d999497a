#include "server/mfa/recoverycodes.h"

#include "server/randomid.h"

#include <array>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdexcept>

namespace vigil::server {

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; // RFC 4648 base32
constexpr std::size_t codeLength = 12;                                    // 60 bits
constexpr std::string_view keyLabel = "vigil recovery codes v1";

} // namespace

RecoveryCodes::RecoveryCodes(Storage &storage, const SecretBox &box)
    : m_storage(storage), m_key(box.deriveKey(keyLabel))
{
}

RecoveryCodes::~RecoveryCodes()
{
    OPENSSL_cleanse(m_key.data(), m_key.size());
}

std::vector<std::string> RecoveryCodes::regenerate(const std::string &userId, TimePoint now)
{
    std::vector<std::string> codes;
    std::vector<Bytes> hashes;
    while (codes.size() < std::size_t(count)) {
        Bytes random = randomBytes(codeLength);
        std::string code(codeLength, ' ');
        // 256 is a multiple of 32: each character is uniform.
        for (std::size_t i = 0; i < codeLength; ++i)
            code[i] = alphabet[random[i] & 31];
        OPENSSL_cleanse(random.data(), random.size());
        Bytes digest = hash(userId, code);
        bool repeated = false; // a 2^-60 chance, but a repeat would be one code, not two
        for (const Bytes &earlier : hashes)
            repeated = repeated || earlier == digest;
        if (repeated)
            continue;
        hashes.push_back(std::move(digest));
        codes.push_back(format(code));
    }
    m_storage.replaceRecoveryCodes(userId, hashes, now);
    return codes;
}

bool RecoveryCodes::use(const std::string &userId, std::string_view input, TimePoint now)
{
    const auto normalised = normalise(input);
    if (!normalised)
        return false;
    // Looked up by its HMAC: what the database compares reveals nothing of the code to
    // someone without the key, so the comparison's timing needs no care.
    return m_storage.useRecoveryCode(userId, hash(userId, *normalised), now);
}

std::optional<std::string> RecoveryCodes::normalise(std::string_view input)
{
    std::string code;
    for (const char c : input) {
        if (c == '-' || c == ' ')
            continue;
        const char upper = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
        if (alphabet.find(upper) == std::string_view::npos || code.size() == codeLength)
            return std::nullopt;
        code.push_back(upper);
    }
    if (code.size() != codeLength)
        return std::nullopt;
    return code;
}

std::string RecoveryCodes::format(std::string_view normalised)
{
    return std::string(normalised.substr(0, 4)) + "-" + std::string(normalised.substr(4, 4)) + "-" +
           std::string(normalised.substr(8));
}

Bytes RecoveryCodes::hash(const std::string &userId, std::string_view normalised) const
{
    // The user id and a separator first: the same code of two users hashes apart.
    Bytes message(userId.begin(), userId.end());
    message.push_back(0);
    message.insert(message.end(), normalised.begin(), normalised.end());
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    const bool ok = HMAC(EVP_sha256(), m_key.data(), static_cast<int>(m_key.size()), message.data(),
                         message.size(), mac.data(), &length) != nullptr;
    OPENSSL_cleanse(message.data(), message.size());
    if (!ok || length != 32)
        throw std::runtime_error("HMAC-SHA-256 failed");
    return Bytes(mac.begin(), mac.begin() + length);
}

} // namespace vigil::server
