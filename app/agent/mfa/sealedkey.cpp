#include "app/agent/mfa/sealedkey.h"

#include "core/opensslptr.h"
#include "protocol/jose/jwk.h"
#include "protocol/json/objectreader.h"
#include "protocol/json/strictjson.h"
#include "protocol/problem.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace vigil::agent {

namespace {

using EvpKdfPtr = std::unique_ptr<EVP_KDF, OpenSslDeleter<EVP_KDF_free>>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpenSslDeleter<EVP_KDF_CTX_free>>;

constexpr std::size_t saltSize = 16;
constexpr std::size_t nonceSize = 12;
constexpr std::size_t tagSize = 16;
constexpr std::size_t keySize = 32;
// A P-256 PKCS#8 DER is about 138 bytes; room for encodings with more optional fields.
constexpr std::size_t maxSealedSize = 1024;
// scrypt needs 128 * r * N bytes (32 MiB here); OpenSSL refuses more than maxmem.
constexpr std::uint64_t scryptMaxMemory = 64ull * 1024 * 1024;
// Binds the ciphertext to this file format.
constexpr std::string_view associatedData = "vigil user key v1";

Bytes randomBytes(std::size_t size)
{
    Bytes bytes(size);
    if (RAND_bytes(bytes.data(), int(size)) != 1)
        throw KeyError("cannot draw random bytes: " + openSslError());
    return bytes;
}

EvpCipherCtxPtr gcmContext(bool encrypt, const SecretBytes &key, const Bytes &nonce)
{
    if (key.size() != keySize || nonce.size() != nonceSize)
        throw KeyError("AES-256-GCM needs a 32-byte key and a 12-byte nonce");
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int ignored = 0;
    if (!ctx ||
        EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(nonce.size()), nullptr) != 1 ||
        EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data(), encrypt) != 1 ||
        EVP_CipherUpdate(ctx.get(), nullptr, &ignored,
                         reinterpret_cast<const unsigned char *>(associatedData.data()),
                         int(associatedData.size())) != 1)
        throw KeyError("cannot set up AES-256-GCM: " + openSslError());
    return ctx;
}

[[noreturn]] void corrupt(const std::string &file, const std::string &detail)
{
    throw UserKeyError(UserKeyError::Kind::Corrupt, "software user key file " + file +
                                                        " is corrupt: " + detail +
                                                        "; enroll again with a recovery code");
}

} // namespace

SecretBytes scryptSealingKey(const SecretBytes &pin, std::span<const std::uint8_t> salt)
{
    EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
    EvpKdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx)
        throw KeyError("OpenSSL has no scrypt: " + openSslError());
    std::uint64_t n = scryptN;
    std::uint32_t r = scryptR;
    std::uint32_t p = scryptP;
    std::uint64_t maxMemory = scryptMaxMemory;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                          const_cast<std::uint8_t *>(pin.data()), pin.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                          const_cast<std::uint8_t *>(salt.data()), salt.size()),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxMemory),
        OSSL_PARAM_construct_end(),
    };
    SecretBytes key = SecretBytes::zeroed(keySize);
    if (EVP_KDF_derive(ctx.get(), key.data(), key.size(), params) != 1)
        throw KeyError("scrypt failed: " + openSslError());
    return key;
}

SealedKey sealKey(const SecretBytes &pkcs8, const SecretBytes &pin,
                  const protocol::EcPublicKey &publicKey, const DeriveSealingKey &derive)
{
    SealedKey sealed;
    sealed.salt = randomBytes(saltSize);
    sealed.nonce = randomBytes(nonceSize);
    sealed.publicKey = publicKey;
    const SecretBytes key = derive(pin, sealed.salt);
    const EvpCipherCtxPtr ctx = gcmContext(true, key, sealed.nonce);
    sealed.sealed.resize(pkcs8.size() + tagSize);
    int length = 0;
    int final = 0;
    if (EVP_EncryptUpdate(ctx.get(), sealed.sealed.data(), &length, pkcs8.data(),
                          int(pkcs8.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), sealed.sealed.data() + length, &final) != 1 ||
        std::size_t(length + final) != pkcs8.size() ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(tagSize),
                            sealed.sealed.data() + pkcs8.size()) != 1)
        throw KeyError("cannot seal the user key: " + openSslError());
    return sealed;
}

std::optional<SecretBytes> unsealKey(const SealedKey &sealed, const SecretBytes &pin,
                                     const DeriveSealingKey &derive)
{
    if (sealed.sealed.size() <= tagSize)
        return std::nullopt;
    const std::size_t size = sealed.sealed.size() - tagSize;
    const SecretBytes key = derive(pin, sealed.salt);
    const EvpCipherCtxPtr ctx = gcmContext(false, key, sealed.nonce);
    SecretBytes plain = SecretBytes::zeroed(size);
    Bytes tag(sealed.sealed.end() - tagSize, sealed.sealed.end());
    int length = 0;
    int final = 0;
    if (EVP_DecryptUpdate(ctx.get(), plain.data(), &length, sealed.sealed.data(), int(size)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(tagSize), tag.data()) != 1)
        throw KeyError("cannot unseal the user key: " + openSslError());
    // The plaintext is only released when the tag verifies; `plain` is wiped either way.
    if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + length, &final) != 1)
        return std::nullopt;
    if (std::size_t(length + final) != size)
        throw KeyError("cannot unseal the user key: short output");
    return plain;
}

std::string serializeSealedKey(const SealedKey &key)
{
    const nlohmann::json json = {
        {"version", 1},
        {"kdf", "scrypt"},
        {"n", scryptN},
        {"r", scryptR},
        {"p", scryptP},
        {"salt", base64UrlEncode(key.salt)},
        {"cipher", "A256GCM"},
        {"nonce", base64UrlEncode(key.nonce)},
        {"sealed", base64UrlEncode(key.sealed)},
        {"x", base64UrlEncode(key.publicKey.x)},
        {"y", base64UrlEncode(key.publicKey.y)},
        {"failures", key.failures},
        {"last_attempt_ms", key.lastAttemptMs},
    };
    return json.dump() + "\n";
}

SealedKey parseSealedKey(std::string_view text, const std::string &file)
{
    nlohmann::json json;
    if (const std::string problem = protocol::parseStrictJson(text, json); !problem.empty())
        corrupt(file, "its contents " + problem);
    try {
        const protocol::detail::ObjectReader reader(json, "");
        reader.requireVersion();
        if (reader.string("kdf", 16) != "scrypt")
            reader.fail("kdf", "must be \"scrypt\"");
        if (reader.integer("n", 0, 1ll << 40) != std::int64_t(scryptN) ||
            reader.integer("r", 0, 1024) != scryptR || reader.integer("p", 0, 1024) != scryptP)
            reader.fail("n", "scrypt parameters must be N=32768, r=8, p=1");
        if (reader.string("cipher", 16) != "A256GCM")
            reader.fail("cipher", "must be \"A256GCM\"");
        SealedKey key;
        key.salt = reader.bytes("salt", saltSize, saltSize);
        key.nonce = reader.bytes("nonce", nonceSize, nonceSize);
        key.sealed = reader.bytes("sealed", maxSealedSize, tagSize + 1);
        key.publicKey.x = reader.bytes("x", 32, 32);
        key.publicKey.y = reader.bytes("y", 32, 32);
        try {
            protocol::toEvpPkey(key.publicKey);
        } catch (const KeyError &) {
            reader.fail("x", "the public key is not a point on P-256");
        }
        key.failures = std::uint32_t(reader.integer("failures", 0, 1000));
        key.lastAttemptMs = reader.integer("last_attempt_ms", 0, 1ll << 52);
        return key;
    } catch (const protocol::MessageError &e) {
        corrupt(file, e.what());
    }
}

} // namespace vigil::agent
