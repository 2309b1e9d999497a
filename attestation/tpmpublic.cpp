#include "attestation/tpmpublic.h"

#include "attestation/tpmalgorithm.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>
#include <vector>

namespace vigil::attestation {

namespace {

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM_free>>;

[[noreturn]] void fail(EvidenceError error, const std::string &message)
{
    throw EvidenceException(error, message);
}

EvpPkeyPtr keyFromParams(const char *type, OSSL_PARAM_BLD *builder, const std::string &what)
{
    ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
        throw std::runtime_error("OpenSSL key import setup: " + openSslError());
    EVP_PKEY *raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        fail(EvidenceError::Malformed, what + ": " + openSslError());
    EvpPkeyPtr key(raw);
    // Import accepts any numbers; a key from a client must also be a usable key (RSA: odd
    // modulus without small factors, sane exponent; EC: a point of the right order), or
    // OpenSSL fails later, mid-operation, with an internal-looking error (fuzzing found an
    // even modulus that broke RSA-OAEP in MakeCredential).
    const EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1)
        fail(EvidenceError::Malformed, what + ": " + openSslError());
    return key;
}

EvpPkeyPtr eccKey(const TPMT_PUBLIC &area)
{
    const char *group = nullptr;
    std::size_t coordinateSize = 0;
    switch (area.parameters.eccDetail.curveID) {
    case TPM2_ECC_NIST_P256:
        group = "P-256";
        coordinateSize = 32;
        break;
    case TPM2_ECC_NIST_P384:
        group = "P-384";
        coordinateSize = 48;
        break;
    default:
        fail(EvidenceError::UnsupportedAlgorithm,
             "unsupported ECC curve " + std::to_string(area.parameters.eccDetail.curveID));
    }
    const TPM2B_ECC_PARAMETER &x = area.unique.ecc.x;
    const TPM2B_ECC_PARAMETER &y = area.unique.ecc.y;
    if (x.size > coordinateSize || y.size > coordinateSize)
        fail(EvidenceError::Malformed, "ECC public point coordinate longer than the curve");
    // The TPM may drop leading zero bytes of a coordinate; the SEC1 encoding needs them back.
    Bytes point(1 + 2 * coordinateSize, 0);
    point[0] = 0x04;
    std::copy(x.buffer, x.buffer + x.size, point.begin() + 1 + (coordinateSize - x.size));
    std::copy(y.buffer, y.buffer + y.size, point.end() - y.size);

    ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder ||
        OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1)
        throw std::runtime_error("OSSL_PARAM_BLD: " + openSslError());
    return keyFromParams("EC", builder.get(),
                         std::string("ECC public point is not on curve ") + group);
}

EvpPkeyPtr rsaKey(const TPMT_PUBLIC &area)
{
    const TPMS_RSA_PARMS &parms = area.parameters.rsaDetail;
    if (parms.keyBits != 2048 && parms.keyBits != 3072 && parms.keyBits != 4096)
        fail(EvidenceError::UnsupportedAlgorithm,
             "unsupported RSA key size " + std::to_string(parms.keyBits));
    const TPM2B_PUBLIC_KEY_RSA &modulus = area.unique.rsa;
    if (modulus.size != parms.keyBits / 8)
        fail(EvidenceError::Malformed, "RSA modulus of " + std::to_string(modulus.size) +
                                           " bytes for a " + std::to_string(parms.keyBits) +
                                           "-bit key");
    // The TPM writes 0 for the default exponent 2^16 + 1.
    const std::uint32_t exponent = parms.exponent == 0 ? 65537 : parms.exponent;
    BignumPtr n(BN_bin2bn(modulus.buffer, modulus.size, nullptr));
    BignumPtr e(BN_new());
    ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!n || !e || !builder || BN_set_word(e.get(), exponent) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
        throw std::runtime_error("OSSL_PARAM_BLD: " + openSslError());
    return keyFromParams("RSA", builder.get(), "invalid RSA public key");
}

} // namespace

TpmPublic TpmPublic::parse(std::span<const std::uint8_t> marshalled)
{
    TPM2B_PUBLIC parsed{};
    if (marshalled.empty()) // tss2-mu logs a warning for an empty buffer
        fail(EvidenceError::Malformed, "empty TPM2B_PUBLIC");
    std::size_t offset = 0;
    const TSS2_RC rc =
        Tss2_MU_TPM2B_PUBLIC_Unmarshal(marshalled.data(), marshalled.size(), &offset, &parsed);
    if (rc != TSS2_RC_SUCCESS)
        fail(EvidenceError::Malformed,
             "TPM2B_PUBLIC does not unmarshal (" + std::to_string(marshalled.size()) + " bytes)");
    if (offset != marshalled.size())
        fail(EvidenceError::Malformed, "TPM2B_PUBLIC followed by " +
                                           std::to_string(marshalled.size() - offset) +
                                           " trailing bytes");
    // tss2-mu accepts a size prefix that disagrees with the structure it frames; a name
    // computed over a differently framed area would not be the TPM's name.
    if (parsed.size == 0 || std::size_t(parsed.size) + 2 != marshalled.size())
        fail(EvidenceError::Malformed, "TPM2B_PUBLIC size prefix " + std::to_string(parsed.size) +
                                           " does not frame the public area");
    TpmPublic result;
    result.m_area = parsed.publicArea;
    result.m_marshalledArea.assign(marshalled.begin() + 2, marshalled.end());
    return result;
}

Bytes TpmPublic::name() const
{
    const EVP_MD *md = tpmHashFunction(m_area.nameAlg);
    if (!md)
        fail(EvidenceError::UnsupportedAlgorithm,
             "unsupported name algorithm " + tpmAlgorithmName(m_area.nameAlg));
    Bytes name{static_cast<std::uint8_t>(m_area.nameAlg >> 8),
               static_cast<std::uint8_t>(m_area.nameAlg & 0xff)};
    const Bytes digest = tpmHash(md, m_marshalledArea);
    name.insert(name.end(), digest.begin(), digest.end());
    return name;
}

EvpPkeyPtr TpmPublic::publicKey() const
{
    switch (m_area.type) {
    case TPM2_ALG_ECC:
        return eccKey(m_area);
    case TPM2_ALG_RSA:
        return rsaKey(m_area);
    default:
        fail(EvidenceError::UnsupportedAlgorithm,
             "unsupported public key type " + tpmAlgorithmName(m_area.type));
    }
}

Bytes tpmName(std::span<const std::uint8_t> marshalledPublic)
{
    return TpmPublic::parse(marshalledPublic).name();
}

void checkAttestationKey(const TpmPublic &key)
{
    const TPMT_PUBLIC &area = key.area();
    TPMT_SIG_SCHEME scheme{};
    if (area.type == TPM2_ALG_ECC) {
        if (area.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
            fail(EvidenceError::UnsupportedAlgorithm, "attestation key is not on curve P-256");
        scheme.scheme = area.parameters.eccDetail.scheme.scheme;
        scheme.details.any.hashAlg = area.parameters.eccDetail.scheme.details.anySig.hashAlg;
    } else if (area.type == TPM2_ALG_RSA) {
        if (area.parameters.rsaDetail.keyBits != 2048)
            fail(EvidenceError::UnsupportedAlgorithm, "attestation key is RSA but not RSA-2048");
        scheme.scheme = area.parameters.rsaDetail.scheme.scheme;
        scheme.details.any.hashAlg = area.parameters.rsaDetail.scheme.details.anySig.hashAlg;
    } else {
        fail(EvidenceError::UnsupportedAlgorithm,
             "attestation key type " + tpmAlgorithmName(area.type) + " is neither ECC nor RSA");
    }

    struct Required
    {
        TPMA_OBJECT bit;
        bool set;
        const char *name;
    };
    static constexpr Required required[] = {
        {TPMA_OBJECT_RESTRICTED, true, "restricted"},
        {TPMA_OBJECT_SIGN_ENCRYPT, true, "sign"},
        {TPMA_OBJECT_FIXEDTPM, true, "fixedTPM"},
        {TPMA_OBJECT_FIXEDPARENT, true, "fixedParent"},
        {TPMA_OBJECT_SENSITIVEDATAORIGIN, true, "sensitiveDataOrigin"},
        {TPMA_OBJECT_DECRYPT, false, "decrypt"},
    };
    std::string violations;
    for (const Required &r : required) {
        if (((area.objectAttributes & r.bit) != 0) == r.set)
            continue;
        violations += violations.empty() ? "" : ", ";
        violations += std::string(r.name) + (r.set ? " is not set" : " is set");
    }
    if (!violations.empty())
        fail(EvidenceError::KeyAttributes, "attestation key attributes: " + violations);

    const bool schemeFits = area.type == TPM2_ALG_ECC ? scheme.scheme == TPM2_ALG_ECDSA
                                                      : scheme.scheme == TPM2_ALG_RSASSA ||
                                                            scheme.scheme == TPM2_ALG_RSAPSS;
    if (!schemeFits || scheme.details.any.hashAlg != TPM2_ALG_SHA256)
        fail(EvidenceError::KeyAttributes,
             "attestation key scheme " + tpmAlgorithmName(scheme.scheme) + "/" +
                 tpmAlgorithmName(scheme.details.any.hashAlg) + " is not " +
                 (area.type == TPM2_ALG_ECC ? "ecdsa/sha256" : "rsassa or rsapss/sha256"));
}

} // namespace vigil::attestation
