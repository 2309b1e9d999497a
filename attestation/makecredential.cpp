#include "attestation/makecredential.h"

#include "attestation/evidenceerror.h"
#include "attestation/tpmalgorithm.h"
#include "attestation/tpmkdf.h"
#include "attestation/tpmpublic.h"
#include "core/opensslptr.h"

#include <cstring>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdexcept>
#include <string>
#include <tss2/tss2_mu.h>

namespace vigil::attestation {

namespace {

// Seeds, symmetric and HMAC keys are wiped when they go out of scope, even on a throw.
struct SecretBytes
{
    Bytes bytes;
    SecretBytes() = default;
    explicit SecretBytes(Bytes b) : bytes(std::move(b)) {}
    SecretBytes(const SecretBytes &) = delete;
    SecretBytes &operator=(const SecretBytes &) = delete;
    ~SecretBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

[[noreturn]] void fail(EvidenceError error, const std::string &message)
{
    throw EvidenceException(error, "EK public: " + message);
}

[[noreturn]] void openSslFailure(const char *what)
{
    throw std::runtime_error(std::string("MakeCredential: ") + what + ": " + openSslError());
}

// The protector's parameters: every EK template is a restricted decryption (storage) key, and
// the credential's inner wrapper is always AES-CFB with its symmetric key size.
const EVP_CIPHER *checkStorageKey(const TPMT_PUBLIC &area)
{
    if (area.type != TPM2_ALG_RSA && area.type != TPM2_ALG_ECC)
        fail(EvidenceError::UnsupportedAlgorithm,
             "key type " + tpmAlgorithmName(area.type) + " is neither RSA nor ECC");
    if (!tpmHashFunction(area.nameAlg))
        fail(EvidenceError::UnsupportedAlgorithm,
             "name algorithm " + tpmAlgorithmName(area.nameAlg) + " is not supported");

    std::string violations;
    const auto require = [&](TPMA_OBJECT bit, bool set, const char *name) {
        if (((area.objectAttributes & bit) != 0) == set)
            return;
        violations += violations.empty() ? "" : ", ";
        violations += std::string(name) + (set ? " is not set" : " is set");
    };
    require(TPMA_OBJECT_RESTRICTED, true, "restricted");
    require(TPMA_OBJECT_DECRYPT, true, "decrypt");
    require(TPMA_OBJECT_SIGN_ENCRYPT, false, "sign");
    if (!violations.empty())
        fail(EvidenceError::KeyAttributes, "not a restricted decryption key: " + violations);

    const TPMT_SYM_DEF_OBJECT &symmetric = area.type == TPM2_ALG_RSA
                                               ? area.parameters.rsaDetail.symmetric
                                               : area.parameters.eccDetail.symmetric;
    if (symmetric.algorithm != TPM2_ALG_AES || symmetric.mode.aes != TPM2_ALG_CFB)
        fail(EvidenceError::UnsupportedAlgorithm,
             "symmetric algorithm " + tpmAlgorithmName(symmetric.algorithm) + "/" +
                 tpmAlgorithmName(symmetric.mode.aes) + " is not AES-CFB");
    switch (symmetric.keyBits.aes) {
    case 128:
        return EVP_aes_128_cfb128();
    case 192:
        return EVP_aes_192_cfb128();
    case 256:
        return EVP_aes_256_cfb128();
    default:
        fail(EvidenceError::UnsupportedAlgorithm,
             "AES key size " + std::to_string(symmetric.keyBits.aes) + " is not supported");
    }
}

void checkName(std::span<const std::uint8_t> name)
{
    if (name.size() < 2)
        throw std::invalid_argument("MakeCredential: object name shorter than its algorithm");
    const auto alg = static_cast<TPM2_ALG_ID>(name[0] << 8 | name[1]);
    const EVP_MD *md = tpmHashFunction(alg);
    if (!md)
        throw std::invalid_argument("MakeCredential: object name algorithm " +
                                    tpmAlgorithmName(alg) + " is not a supported hash");
    if (name.size() != 2 + static_cast<std::size_t>(EVP_MD_get_size(md)))
        throw std::invalid_argument("MakeCredential: object name of " +
                                    std::to_string(name.size()) + " bytes for " +
                                    tpmAlgorithmName(alg));
}

Bytes randomBytes(std::size_t size)
{
    Bytes bytes(size);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        openSslFailure("RAND_bytes");
    return bytes;
}

Bytes ecCoordinate(const TPM2B_ECC_PARAMETER &parameter)
{
    return Bytes(parameter.buffer, parameter.buffer + parameter.size);
}

// RSA EK (Part 1 B.10.4): seed encrypted with OAEP, hash and MGF1 hash = nameAlg, label
// "IDENTITY" including its terminating NUL.
Bytes rsaEncryptSeed(EVP_PKEY *ek, const EVP_MD *md, std::span<const std::uint8_t> seed)
{
    static constexpr char label[] = "IDENTITY";
    const EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ek, nullptr));
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1)
        openSslFailure("RSA-OAEP setup");
    void *ownedLabel = OPENSSL_memdup(label, sizeof label);
    if (!ownedLabel)
        openSslFailure("OAEP label");
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), ownedLabel, sizeof label) != 1) {
        OPENSSL_free(ownedLabel);
        openSslFailure("OAEP label");
    }
    // The key came from a client: a failure here is about the key, not about OpenSSL.
    std::size_t length = 0;
    if (EVP_PKEY_encrypt(ctx.get(), nullptr, &length, seed.data(), seed.size()) != 1)
        fail(EvidenceError::Malformed, "RSA-OAEP with this key failed: " + openSslError());
    Bytes encrypted(length);
    if (EVP_PKEY_encrypt(ctx.get(), encrypted.data(), &length, seed.data(), seed.size()) != 1)
        fail(EvidenceError::Malformed, "RSA-OAEP with this key failed: " + openSslError());
    encrypted.resize(length);
    return encrypted;
}

// ECC EK (Part 1 C.6.1): an ephemeral key on the EK's curve; Z is the x coordinate of the
// shared point and seed = KDFe(nameAlg, Z, "IDENTITY", ephemeral.x, ek.x). The "encrypted
// secret" is the ephemeral public point, a marshalled TPMS_ECC_POINT.
Bytes ecdhSeed(EVP_PKEY *ek, const TPMT_PUBLIC &area, SecretBytes &seed)
{
    char group[64] = {};
    if (EVP_PKEY_get_utf8_string_param(ek, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       nullptr) != 1)
        openSslFailure("EK curve");
    const EvpPkeyPtr ephemeral(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
    if (!ephemeral)
        openSslFailure("ephemeral key");

    const EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ephemeral.get(), nullptr));
    std::size_t zLength = 0;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), ek) != 1 ||
        EVP_PKEY_derive(ctx.get(), nullptr, &zLength) != 1)
        openSslFailure("ECDH");
    SecretBytes z{Bytes(zLength)};
    if (EVP_PKEY_derive(ctx.get(), z.bytes.data(), &zLength) != 1)
        openSslFailure("ECDH");
    z.bytes.resize(zLength);

    // Uncompressed SEC1: 04 || x || y, each coordinate as long as Z (the field size).
    std::size_t pointLength = 0;
    Bytes point(1 + 2 * zLength);
    if (EVP_PKEY_get_octet_string_param(ephemeral.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                        point.data(), point.size(), &pointLength) != 1 ||
        pointLength != point.size() || point[0] != 0x04)
        openSslFailure("ephemeral public point");

    TPMS_ECC_POINT ephemeralPoint{};
    ephemeralPoint.x.size = static_cast<UINT16>(zLength);
    ephemeralPoint.y.size = static_cast<UINT16>(zLength);
    std::memcpy(ephemeralPoint.x.buffer, point.data() + 1, zLength);
    std::memcpy(ephemeralPoint.y.buffer, point.data() + 1 + zLength, zLength);

    const EVP_MD *md = tpmHashFunction(area.nameAlg);
    const Bytes ephemeralX(point.begin() + 1, point.begin() + 1 + zLength);
    seed.bytes =
        kdfe(area.nameAlg, z.bytes, "IDENTITY", ephemeralX, ecCoordinate(area.unique.ecc.x),
             static_cast<std::uint32_t>(EVP_MD_get_size(md)) * 8);

    Bytes marshalled(sizeof(TPMS_ECC_POINT));
    std::size_t offset = 0;
    if (Tss2_MU_TPMS_ECC_POINT_Marshal(&ephemeralPoint, marshalled.data(), marshalled.size(),
                                       &offset) != TSS2_RC_SUCCESS)
        throw std::runtime_error("MakeCredential: cannot marshal the ephemeral point");
    marshalled.resize(offset);
    return marshalled;
}

Bytes hmac(const EVP_MD *md, std::span<const std::uint8_t> key, std::span<const std::uint8_t> first,
           std::span<const std::uint8_t> second)
{
    const EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    const EvpMacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                               OSSL_MAC_PARAM_DIGEST, const_cast<char *>(EVP_MD_get0_name(md)), 0),
                           OSSL_PARAM_construct_end()};
    Bytes out(EVP_MAX_MD_SIZE);
    std::size_t length = 0;
    if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), first.data(), first.size()) != 1 ||
        EVP_MAC_update(ctx.get(), second.data(), second.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1)
        openSslFailure("HMAC");
    out.resize(length);
    return out;
}

Bytes aesCfbEncrypt(const EVP_CIPHER *cipher, std::span<const std::uint8_t> key,
                    std::span<const std::uint8_t> plain)
{
    // The credential's key is used once, so the spec's all-zero IV is safe here.
    const unsigned char iv[16] = {};
    const EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    Bytes out(plain.size() + 16);
    int length = 0;
    int finalLength = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.data(), iv) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data(), &length, plain.data(),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + length, &finalLength) != 1)
        openSslFailure("AES-CFB");
    out.resize(static_cast<std::size_t>(length + finalLength));
    return out;
}

void appendBe16(Bytes &out, std::size_t value)
{
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

} // namespace

protocol::CredentialChallenge makeCredential(std::span<const std::uint8_t> ekPublic,
                                   std::span<const std::uint8_t> objectName,
                                   std::span<const std::uint8_t> secret)
{
    const TpmPublic ek = TpmPublic::parse(ekPublic);
    const TPMT_PUBLIC &area = ek.area();
    const EVP_CIPHER *cipher = checkStorageKey(area);
    const EvpPkeyPtr ekKey = ek.publicKey();
    const EVP_MD *md = tpmHashFunction(area.nameAlg);
    const auto digestSize = static_cast<std::size_t>(EVP_MD_get_size(md));

    checkName(objectName);
    if (secret.empty() || secret.size() > digestSize)
        throw std::invalid_argument("MakeCredential: secret of " + std::to_string(secret.size()) +
                                    " bytes; the EK's " + tpmAlgorithmName(area.nameAlg) +
                                    " allows 1 to " + std::to_string(digestSize));

    SecretBytes seed;
    Bytes encryptedSecret;
    if (area.type == TPM2_ALG_RSA) {
        seed.bytes = randomBytes(digestSize);
        encryptedSecret = rsaEncryptSeed(ekKey.get(), md, seed.bytes);
    } else {
        encryptedSecret = ecdhSeed(ekKey.get(), area, seed);
    }

    // Part 1 section 24.4: the credential (a TPM2B_DIGEST) is encrypted with a key bound to
    // the object's name, then an HMAC over ciphertext and name guards both.
    const std::uint32_t symmetricBits = EVP_CIPHER_get_key_length(cipher) * 8;
    const SecretBytes symmetricKey(
        kdfa(area.nameAlg, seed.bytes, "STORAGE", objectName, {}, symmetricBits));
    SecretBytes plain;
    appendBe16(plain.bytes, secret.size());
    plain.bytes.insert(plain.bytes.end(), secret.begin(), secret.end());
    const Bytes encIdentity = aesCfbEncrypt(cipher, symmetricKey.bytes, plain.bytes);

    const SecretBytes hmacKey(kdfa(area.nameAlg, seed.bytes, "INTEGRITY", {}, {},
                                   static_cast<std::uint32_t>(digestSize * 8)));
    const Bytes outerHmac = hmac(md, hmacKey.bytes, encIdentity, objectName);

    protocol::CredentialChallenge challenge;
    Bytes idObject;
    appendBe16(idObject, outerHmac.size());
    idObject.insert(idObject.end(), outerHmac.begin(), outerHmac.end());
    idObject.insert(idObject.end(), encIdentity.begin(), encIdentity.end());
    appendBe16(challenge.credentialBlob, idObject.size());
    challenge.credentialBlob.insert(challenge.credentialBlob.end(), idObject.begin(),
                                    idObject.end());
    appendBe16(challenge.encryptedSecret, encryptedSecret.size());
    challenge.encryptedSecret.insert(challenge.encryptedSecret.end(), encryptedSecret.begin(),
                                     encryptedSecret.end());
    return challenge;
}

} // namespace vigil::attestation
