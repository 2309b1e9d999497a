#include "attestation/tpmalgorithm.h"

#include "core/opensslptr.h"

#include <cstdio>
#include <stdexcept>

namespace vigil::attestation {

const EVP_MD *tpmHashFunction(TPM2_ALG_ID hashAlg)
{
    switch (hashAlg) {
    case TPM2_ALG_SHA1:
        return EVP_sha1();
    case TPM2_ALG_SHA256:
        return EVP_sha256();
    case TPM2_ALG_SHA384:
        return EVP_sha384();
    case TPM2_ALG_SHA512:
        return EVP_sha512();
    default:
        return nullptr;
    }
}

Bytes tpmHash(const EVP_MD *md, std::span<const std::uint8_t> data)
{
    Bytes digest(static_cast<std::size_t>(EVP_MD_get_size(md)));
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, md, nullptr) != 1)
        throw std::runtime_error("EVP_Digest: " + openSslError());
    digest.resize(length);
    return digest;
}

std::string tpmAlgorithmName(TPM2_ALG_ID alg)
{
    switch (alg) {
    case TPM2_ALG_RSA:
        return "rsa";
    case TPM2_ALG_ECC:
        return "ecc";
    case TPM2_ALG_KEYEDHASH:
        return "keyedhash";
    case TPM2_ALG_SYMCIPHER:
        return "symcipher";
    case TPM2_ALG_SHA1:
        return "sha1";
    case TPM2_ALG_SHA256:
        return "sha256";
    case TPM2_ALG_SHA384:
        return "sha384";
    case TPM2_ALG_SHA512:
        return "sha512";
    case TPM2_ALG_SM3_256:
        return "sm3_256";
    case TPM2_ALG_HMAC:
        return "hmac";
    case TPM2_ALG_ECDSA:
        return "ecdsa";
    case TPM2_ALG_ECDAA:
        return "ecdaa";
    case TPM2_ALG_ECSCHNORR:
        return "ecschnorr";
    case TPM2_ALG_SM2:
        return "sm2";
    case TPM2_ALG_RSASSA:
        return "rsassa";
    case TPM2_ALG_RSAPSS:
        return "rsapss";
    case TPM2_ALG_NULL:
        return "null";
    default: {
        char text[8];
        std::snprintf(text, sizeof text, "0x%04x", static_cast<unsigned>(alg));
        return text;
    }
    }
}

} // namespace vigil::attestation
