#include "attestation/tpmsignature.h"

#include "attestation/tpmalgorithm.h"
#include "core/opensslptr.h"

#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

namespace vigil::attestation {

namespace {

[[noreturn]] void fail(EvidenceError error, const std::string &message)
{
    throw EvidenceException(error, message);
}

// DER ECDSA-Sig-Value from the TPM's r and s. Going through BIGNUM makes their length (short,
// exact or zero-padded) irrelevant; only values beyond the order's size are refused.
Bytes ecdsaDer(const TPMS_SIGNATURE_ECC &ecc, EVP_PKEY *key)
{
    const std::size_t orderBytes = (static_cast<std::size_t>(EVP_PKEY_get_bits(key)) + 7) / 8;
    if (ecc.signatureR.size == 0 || ecc.signatureS.size == 0 || ecc.signatureR.size > orderBytes ||
        ecc.signatureS.size > orderBytes)
        fail(EvidenceError::BadSignature, "ECDSA r or s is empty or longer than the curve order");
    BignumPtr r(BN_bin2bn(ecc.signatureR.buffer, ecc.signatureR.size, nullptr));
    BignumPtr s(BN_bin2bn(ecc.signatureS.buffer, ecc.signatureS.size, nullptr));
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
        throw std::runtime_error("ECDSA_SIG: " + openSslError());
    r.release();
    s.release();
    unsigned char *der = nullptr;
    const int length = i2d_ECDSA_SIG(sig.get(), &der);
    if (length <= 0)
        throw std::runtime_error("i2d_ECDSA_SIG: " + openSslError());
    Bytes result(der, der + length);
    OPENSSL_free(der);
    return result;
}

} // namespace

TpmSignature TpmSignature::parse(std::span<const std::uint8_t> marshalled)
{
    TpmSignature result;
    if (marshalled.empty()) // tss2-mu logs a warning for an empty buffer
        fail(EvidenceError::Malformed, "empty TPMT_SIGNATURE");
    std::size_t offset = 0;
    if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(marshalled.data(), marshalled.size(), &offset,
                                         &result.m_signature) != TSS2_RC_SUCCESS)
        fail(EvidenceError::Malformed,
             "TPMT_SIGNATURE does not unmarshal (" + std::to_string(marshalled.size()) + " bytes)");
    if (offset != marshalled.size())
        fail(EvidenceError::Malformed, "TPMT_SIGNATURE followed by " +
                                           std::to_string(marshalled.size() - offset) +
                                           " trailing bytes");
    return result;
}

TPMI_ALG_HASH TpmSignature::hashAlg() const
{
    switch (m_signature.sigAlg) {
    case TPM2_ALG_ECDSA:
    case TPM2_ALG_ECDAA:
    case TPM2_ALG_SM2:
    case TPM2_ALG_ECSCHNORR:
        return m_signature.signature.ecdsa.hash;
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS:
        return m_signature.signature.rsassa.hash;
    case TPM2_ALG_HMAC:
        return m_signature.signature.hmac.hashAlg;
    default:
        return TPM2_ALG_NULL;
    }
}

void verifyTpmSignature(const TpmSignature &signature, EVP_PKEY *key,
                        std::span<const std::uint8_t> message)
{
    const TPMT_SIGNATURE &sig = signature.signature();
    const bool ecdsa = sig.sigAlg == TPM2_ALG_ECDSA;
    if (!ecdsa && sig.sigAlg != TPM2_ALG_RSASSA && sig.sigAlg != TPM2_ALG_RSAPSS)
        fail(EvidenceError::UnsupportedAlgorithm,
             "unsupported signature scheme " + tpmAlgorithmName(sig.sigAlg));
    const TPMI_ALG_HASH hashAlg = signature.hashAlg();
    // SHA-1 signatures are forgeable by collision; they prove nothing about the message.
    const EVP_MD *md = hashAlg == TPM2_ALG_SHA1 ? nullptr : tpmHashFunction(hashAlg);
    if (!md)
        fail(EvidenceError::UnsupportedAlgorithm,
             "unsupported signature hash " + tpmAlgorithmName(hashAlg));
    const int keyType = EVP_PKEY_get_base_id(key);
    if ((ecdsa && keyType != EVP_PKEY_EC) || (!ecdsa && keyType != EVP_PKEY_RSA))
        fail(EvidenceError::BadSignature,
             "a " + tpmAlgorithmName(sig.sigAlg) + " signature cannot come from this key type");

    Bytes encoded;
    if (ecdsa) {
        encoded = ecdsaDer(sig.signature.ecdsa, key);
    } else {
        const TPM2B_PUBLIC_KEY_RSA &rsa = sig.signature.rsassa.sig;
        if (rsa.size != EVP_PKEY_get_size(key))
            fail(EvidenceError::BadSignature,
                 "RSA signature of " + std::to_string(rsa.size) + " bytes for a " +
                     std::to_string(EVP_PKEY_get_size(key)) + "-byte key");
        encoded.assign(rsa.buffer, rsa.buffer + rsa.size);
    }

    const Bytes digest = tpmHash(md, message);
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1)
        throw std::runtime_error("EVP_PKEY_verify setup: " + openSslError());
    if (sig.sigAlg == TPM2_ALG_RSASSA &&
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1)
        throw std::runtime_error("RSA padding: " + openSslError());
    // TPMs differ in the PSS salt length they use (hash length or the maximum).
    if (sig.sigAlg == TPM2_ALG_RSAPSS &&
        (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) != 1))
        throw std::runtime_error("RSA-PSS padding: " + openSslError());
    if (EVP_PKEY_verify(ctx.get(), encoded.data(), encoded.size(), digest.data(), digest.size()) !=
        1) {
        openSslError(); // clears the queue so the next caller's error text is its own
        fail(EvidenceError::BadSignature, tpmAlgorithmName(sig.sigAlg) + "/" +
                                              tpmAlgorithmName(hashAlg) +
                                              " signature does not verify");
    }
}

} // namespace vigil::attestation
