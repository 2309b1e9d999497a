#include "attestation/tpm/tpmtemplates.h"

#include <algorithm>
#include <array>

namespace vigil::attestation {

namespace {

// PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the EK's authPolicy in templates L-1 and L-2.
constexpr std::array<BYTE, 32> ekPolicy = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

constexpr TPMA_OBJECT ekAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                                     TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;

TPM2B_PUBLIC eccTemplate(TPMA_OBJECT attributes)
{
    TPM2B_PUBLIC key{};
    key.publicArea.type = TPM2_ALG_ECC;
    key.publicArea.nameAlg = TPM2_ALG_SHA256;
    key.publicArea.objectAttributes = attributes;
    auto &ecc = key.publicArea.parameters.eccDetail;
    ecc.symmetric.algorithm = TPM2_ALG_NULL;
    ecc.scheme.scheme = TPM2_ALG_NULL;
    ecc.curveID = TPM2_ECC_NIST_P256;
    ecc.kdf.scheme = TPM2_ALG_NULL;
    return key;
}

TPM2B_PUBLIC ecdsaSigningTemplate(TPMA_OBJECT extra)
{
    TPM2B_PUBLIC key = eccTemplate(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                   TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                   TPMA_OBJECT_SIGN_ENCRYPT | extra);
    auto &ecc = key.publicArea.parameters.eccDetail;
    ecc.scheme.scheme = TPM2_ALG_ECDSA;
    ecc.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    return key;
}

} // namespace

TPM2B_PUBLIC endorsementKeyTemplate(EkType type)
{
    TPM2B_PUBLIC key{};
    key.publicArea.nameAlg = TPM2_ALG_SHA256;
    key.publicArea.objectAttributes = ekAttributes;
    key.publicArea.authPolicy.size = ekPolicy.size();
    std::copy(ekPolicy.begin(), ekPolicy.end(), key.publicArea.authPolicy.buffer);
    if (type == EkType::Rsa2048) {
        key.publicArea.type = TPM2_ALG_RSA;
        auto &rsa = key.publicArea.parameters.rsaDetail;
        rsa.symmetric.algorithm = TPM2_ALG_AES;
        rsa.symmetric.keyBits.aes = 128;
        rsa.symmetric.mode.aes = TPM2_ALG_CFB;
        rsa.scheme.scheme = TPM2_ALG_NULL;
        rsa.keyBits = 2048;
        rsa.exponent = 0;
        key.publicArea.unique.rsa.size = 256; // 256 zero bytes, as the template requires
    } else {
        key.publicArea.type = TPM2_ALG_ECC;
        auto &ecc = key.publicArea.parameters.eccDetail;
        ecc.symmetric.algorithm = TPM2_ALG_AES;
        ecc.symmetric.keyBits.aes = 128;
        ecc.symmetric.mode.aes = TPM2_ALG_CFB;
        ecc.scheme.scheme = TPM2_ALG_NULL;
        ecc.curveID = TPM2_ECC_NIST_P256;
        ecc.kdf.scheme = TPM2_ALG_NULL;
        key.publicArea.unique.ecc.x.size = 32;
        key.publicArea.unique.ecc.y.size = 32;
    }
    return key;
}

TPM2B_PUBLIC storageRootKeyTemplate()
{
    TPM2B_PUBLIC key = eccTemplate(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                   TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                   TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
    auto &ecc = key.publicArea.parameters.eccDetail;
    ecc.symmetric.algorithm = TPM2_ALG_AES;
    ecc.symmetric.keyBits.aes = 128;
    ecc.symmetric.mode.aes = TPM2_ALG_CFB;
    key.publicArea.unique.ecc.x.size = 32;
    key.publicArea.unique.ecc.y.size = 32;
    return key;
}

TPM2B_PUBLIC attestationKeyTemplate()
{
    return ecdsaSigningTemplate(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_NODA);
}

TPM2B_PUBLIC signingKeyTemplate()
{
    return ecdsaSigningTemplate(TPMA_OBJECT_NODA);
}

TPM2B_PUBLIC userKeyTemplate()
{
    // Unlike the device key's: without noDA.
    return ecdsaSigningTemplate(0);
}

} // namespace vigil::attestation
