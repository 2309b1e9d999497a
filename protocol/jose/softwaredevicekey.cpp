#include "protocol/jose/softwaredevicekey.h"

#include "core/privatefile.h"
#include "core/text.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"

#include <cerrno>
#include <cstring>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <sys/stat.h>

namespace vigil::protocol {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view fileWhat = "device key";

// PEM text of a private key: wiped before its memory goes back to the allocator.
class SecretText
{
public:
    explicit SecretText(std::size_t capacity) : m_data(capacity) {}
    ~SecretText() { OPENSSL_cleanse(m_data.data(), m_data.size()); }
    SecretText(const SecretText &) = delete;
    SecretText &operator=(const SecretText &) = delete;
    std::uint8_t *data() { return m_data.data(); }
    std::span<std::uint8_t> span() { return m_data; }

private:
    std::vector<std::uint8_t> m_data;
};

// Never prompts: an encrypted key file is an error, not a reason to block a service on a tty.
int noPassword(char *, int, int, void *)
{
    return -1;
}

// nullptr if path already exists (the caller decides whether that is an error).
EvpPkeyPtr createKeyFile(const fs::path &path)
{
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        throw KeyError("cannot generate an EC P-256 key: " + openSslError());

    // secmem: the BIO's buffer is cleared when freed and when it grows.
    BioPtr pem(BIO_new(BIO_s_secmem()));
    if (!pem ||
        PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw KeyError("cannot encode the device key as PKCS#8: " + openSslError());
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(pem.get(), &text);
    if (!text || text->length == 0)
        throw KeyError("cannot encode the device key as PKCS#8: empty output");

    // Never replaces: an existing key file is the device's identity.
    if (!writePrivateFile(
            path, std::span(reinterpret_cast<const std::uint8_t *>(text->data), text->length),
            Replace::Forbidden, fileWhat))
        return nullptr;
    return key;
}

} // namespace

SoftwareDeviceKey::SoftwareDeviceKey(EvpPkeyPtr key, std::filesystem::path path)
    : m_key(std::move(key)), m_publicKey(fromEvpPkey(m_key.get())), m_path(std::move(path))
{
}

std::unique_ptr<SoftwareDeviceKey> SoftwareDeviceKey::create(const std::filesystem::path &path)
{
    EvpPkeyPtr key = createKeyFile(path);
    if (!key)
        throw KeyError("device key file " + quoted(path) +
                       " already exists; refusing to replace it (that would change the "
                       "device's identity). Load it, or remove it to enroll afresh.");
    return std::unique_ptr<SoftwareDeviceKey>(new SoftwareDeviceKey(std::move(key), path));
}

std::unique_ptr<SoftwareDeviceKey> SoftwareDeviceKey::load(const std::filesystem::path &path)
{
    SecretText text(maxFileSize);
    const std::size_t size = readPrivateFile(path, text.span(), fileWhat);

    BioPtr bio(BIO_new_mem_buf(text.data(), int(size)));
    if (!bio)
        throw KeyError("cannot read device key file " + quoted(path) + ": " + openSslError());
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
    if (!key)
        throw KeyError("device key file " + quoted(path) +
                       " does not hold an unencrypted PEM private key: " + openSslError());
    try {
        fromEvpPkey(key.get());
    } catch (const KeyError &e) {
        throw KeyError("device key file " + quoted(path) +
                       " does not hold an EC P-256 private key: " + e.what());
    }
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_check(check.get()) != 1)
        throw KeyError("device key file " + quoted(path) +
                       " holds an inconsistent EC key pair: " + openSslError());
    return std::unique_ptr<SoftwareDeviceKey>(new SoftwareDeviceKey(std::move(key), path));
}

std::unique_ptr<SoftwareDeviceKey>
SoftwareDeviceKey::loadOrCreate(const std::filesystem::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) == 0)
        return load(path);
    if (errno != ENOENT)
        throw KeyError("cannot stat device key file " + quoted(path) + ": " + std::strerror(errno));
    if (EvpPkeyPtr key = createKeyFile(path))
        return std::unique_ptr<SoftwareDeviceKey>(new SoftwareDeviceKey(std::move(key), path));
    return load(path); // another process created it between lstat and rename
}

Bytes SoftwareDeviceKey::sign(std::span<const std::uint8_t> digest)
{
    if (digest.size() != 32)
        throw KeyError("digest to sign is " + std::to_string(digest.size()) +
                       " bytes; ES256 signs a 32-byte SHA-256 digest");
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, m_key.get(), nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0)
        throw KeyError("cannot set up ECDSA signing: " + openSslError());
    std::size_t size = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &size, digest.data(), digest.size()) <= 0)
        throw KeyError("ECDSA signing failed: " + openSslError());
    Bytes der(size);
    if (EVP_PKEY_sign(ctx.get(), der.data(), &size, digest.data(), digest.size()) <= 0)
        throw KeyError("ECDSA signing failed: " + openSslError());
    der.resize(size);
    try {
        return ecdsaDerToRaw(der);
    } catch (const SignatureError &e) {
        throw KeyError(std::string("OpenSSL produced an unusable signature: ") + e.what());
    }
}

} // namespace vigil::protocol
