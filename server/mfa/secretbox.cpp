#include "server/mfa/secretbox.h"

#include "core/keyerror.h"
#include "core/opensslptr.h"
#include "core/privatefile.h"
#include "core/text.h"
#include "server/randomid.h"

#include <array>
#include <cerrno>
#include <climits>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <sys/stat.h>

namespace vigil::server {

namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t formatVersion = 1;
constexpr std::size_t nonceSize = 12; // GCM's natural nonce: random, 2^-32 collision bound
constexpr std::size_t tagSize = 16;
constexpr std::size_t overhead = 1 + nonceSize + tagSize;
constexpr std::string_view keyWhat = "secret box key";

std::string keyFixFor(const fs::path &path)
{
    return "the key seals the TOTP secrets in verifier.db: restore " + quoted(path) +
           " from the data directory's backup (a new key makes every user set up TOTP again)";
}

int intSize(std::size_t size)
{
    if (size > static_cast<std::size_t>(INT_MAX))
        throw SecretBoxError("secret box: input too large");
    return static_cast<int>(size);
}

} // namespace

void SecretBox::createKeyFile(const fs::path &path)
{
    Bytes key = randomBytes(keySize);
    try {
        const bool written = writePrivateFile(path, key, Replace::Forbidden, keyWhat);
        OPENSSL_cleanse(key.data(), key.size());
        if (!written)
            throw SecretBoxError(std::string(keyWhat) + " file " + quoted(path) +
                                 " exists already; it was left alone");
    } catch (const KeyError &e) {
        OPENSSL_cleanse(key.data(), key.size());
        throw SecretBoxError(e.what());
    }
}

SecretBox SecretBox::load(const fs::path &path)
{
    // One byte more than a key, so that a longer file is told apart from one of the right size.
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT)
        throw SecretBoxError(std::string(keyWhat) + " file " + quoted(path) + " is missing; " +
                             keyFixFor(path));
    std::array<std::uint8_t, keySize + 1> buffer{};
    std::size_t size = 0;
    try {
        size = readPrivateFile(path, buffer, keyWhat);
    } catch (const KeyError &e) {
        throw SecretBoxError(e.what());
    }
    if (size != keySize) {
        OPENSSL_cleanse(buffer.data(), buffer.size());
        throw SecretBoxError(std::string(keyWhat) + " file " + quoted(path) + " holds " +
                             std::to_string(size) + " bytes, not " + std::to_string(keySize) +
                             "; " + keyFixFor(path));
    }
    SecretBox box(std::span(buffer.data(), keySize));
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return box;
}

SecretBox SecretBox::loadOrCreate(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
        try {
            createKeyFile(path);
        } catch (const SecretBoxError &) {
            // Another process may have created it meanwhile: load judges what is there.
            if (::lstat(path.c_str(), &st) != 0)
                throw;
        }
    }
    return load(path);
}

SecretBox::SecretBox(std::span<const std::uint8_t> key) : m_key(key.begin(), key.end())
{
    if (key.size() != keySize)
        throw std::invalid_argument("a secret box key is 32 bytes");
}

SecretBox::~SecretBox()
{
    OPENSSL_cleanse(m_key.data(), m_key.size());
}

SecretBox::SecretBox(const SecretBox &other) = default;

SecretBox &SecretBox::operator=(const SecretBox &other)
{
    if (this != &other) {
        OPENSSL_cleanse(m_key.data(), m_key.size());
        m_key = other.m_key;
    }
    return *this;
}

Bytes SecretBox::seal(std::span<const std::uint8_t> plaintext,
                      std::string_view associatedData) const
{
    const Bytes nonce = randomBytes(nonceSize);
    Bytes sealed(overhead + plaintext.size());
    sealed[0] = formatVersion;
    std::copy(nonce.begin(), nonce.end(), sealed.begin() + 1);
    std::uint8_t *out = sealed.data() + 1 + nonceSize;

    const EvpCipherCtxPtr context(EVP_CIPHER_CTX_new());
    int length = 0;
    int finalLength = 0;
    if (!context ||
        EVP_EncryptInit_ex2(context.get(), EVP_aes_256_gcm(), m_key.data(), nonce.data(),
                            nullptr) != 1 ||
        EVP_EncryptUpdate(context.get(), nullptr, &length,
                          reinterpret_cast<const unsigned char *>(associatedData.data()),
                          intSize(associatedData.size())) != 1 ||
        EVP_EncryptUpdate(context.get(), out, &length, plaintext.data(),
                          intSize(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(context.get(), out + length, &finalLength) != 1 ||
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, int(tagSize),
                            out + plaintext.size()) != 1)
        throw SecretBoxError("secret box: sealing failed: " + openSslError());
    return sealed;
}

Bytes SecretBox::open(std::span<const std::uint8_t> sealed, std::string_view associatedData) const
{
    if (sealed.size() < overhead)
        throw SecretBoxError("sealed secret is truncated (" + std::to_string(sealed.size()) +
                             " bytes)");
    if (sealed[0] != formatVersion)
        throw SecretBoxError("sealed secret has unknown format version " +
                             std::to_string(sealed[0]));
    const std::uint8_t *nonce = sealed.data() + 1;
    const std::uint8_t *ciphertext = nonce + nonceSize;
    const std::size_t size = sealed.size() - overhead;
    // GCM_SET_TAG takes a non-const pointer; the tag is copied.
    std::array<std::uint8_t, tagSize> tag{};
    std::copy_n(ciphertext + size, tagSize, tag.begin());

    Bytes plaintext(size);
    const EvpCipherCtxPtr context(EVP_CIPHER_CTX_new());
    int length = 0;
    if (!context ||
        EVP_DecryptInit_ex2(context.get(), EVP_aes_256_gcm(), m_key.data(), nonce, nullptr) != 1 ||
        EVP_DecryptUpdate(context.get(), nullptr, &length,
                          reinterpret_cast<const unsigned char *>(associatedData.data()),
                          intSize(associatedData.size())) != 1 ||
        EVP_DecryptUpdate(context.get(), plaintext.data(), &length, ciphertext, intSize(size)) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, int(tagSize), tag.data()) != 1)
        throw SecretBoxError("secret box: opening failed: " + openSslError());
    int finalLength = 0;
    if (EVP_DecryptFinal_ex(context.get(), plaintext.data() + length, &finalLength) != 1) {
        openSslError(); // clear the queue
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        throw SecretBoxError("sealed secret does not open: it was changed, belongs to another "
                             "user, or was sealed under another key");
    }
    return plaintext;
}

Bytes SecretBox::deriveKey(std::string_view label) const
{
    EVP_KDF *kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (!kdf)
        throw SecretBoxError("secret box: HKDF unavailable: " + openSslError());
    EVP_KDF_CTX *context = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!context)
        throw SecretBoxError("secret box: HKDF unavailable: " + openSslError());
    char digest[] = "SHA256";
    Bytes key = m_key;
    Bytes info(label.begin(), label.end());
    const OSSL_PARAM parameters[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key.data(), key.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
        OSSL_PARAM_construct_end()};
    Bytes derived(32);
    const int rc = EVP_KDF_derive(context, derived.data(), derived.size(), parameters);
    EVP_KDF_CTX_free(context);
    OPENSSL_cleanse(key.data(), key.size());
    if (rc != 1)
        throw SecretBoxError("secret box: HKDF failed: " + openSslError());
    return derived;
}

} // namespace vigil::server
