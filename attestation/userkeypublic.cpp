#include "attestation/userkeypublic.h"

#include "core/text.h"

#include <utility>
#include <vector>

namespace vigil::attestation {

namespace {

std::string attributeList(TPMA_OBJECT attributes)
{
    static constexpr std::pair<TPMA_OBJECT, const char *> names[] = {
        {TPMA_OBJECT_FIXEDTPM, "fixedTPM"},
        {TPMA_OBJECT_FIXEDPARENT, "fixedParent"},
        {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin"},
        {TPMA_OBJECT_USERWITHAUTH, "userWithAuth"},
        {TPMA_OBJECT_ADMINWITHPOLICY, "adminWithPolicy"},
        {TPMA_OBJECT_NODA, "noDA"},
        {TPMA_OBJECT_RESTRICTED, "restricted"},
        {TPMA_OBJECT_DECRYPT, "decrypt"},
        {TPMA_OBJECT_SIGN_ENCRYPT, "sign"},
    };
    std::vector<std::string> parts;
    for (const auto &[bit, name] : names)
        if (attributes & bit)
            parts.emplace_back(name);
    return joined(parts, ", ");
}

} // namespace

std::string userKeyPublicProblem(const TPMT_PUBLIC &area)
{
    std::vector<std::string> problems;
    if (area.type != TPM2_ALG_ECC)
        return "not an ECC key";
    const auto &ecc = area.parameters.eccDetail;
    if (ecc.curveID != TPM2_ECC_NIST_P256)
        problems.emplace_back("curve is not NIST P-256");
    if (ecc.scheme.scheme != TPM2_ALG_ECDSA || ecc.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256)
        problems.emplace_back("scheme is not ECDSA with SHA-256");
    if (area.nameAlg != TPM2_ALG_SHA256)
        problems.emplace_back("name algorithm is not SHA-256");
    constexpr TPMA_OBJECT required = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                     TPMA_OBJECT_SIGN_ENCRYPT;
    constexpr TPMA_OBJECT forbidden = TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
                                      TPMA_OBJECT_DECRYPT | TPMA_OBJECT_ADMINWITHPOLICY;
    if (const TPMA_OBJECT missing = required & ~area.objectAttributes)
        problems.push_back("lacks " + attributeList(missing));
    if (const TPMA_OBJECT extra = forbidden & area.objectAttributes)
        problems.push_back("has " + attributeList(extra));
    // With userWithAuth, a policy session satisfying authPolicy may sign too: without the PIN,
    // uncounted by the lockout, and surviving a PIN change.
    if (area.authPolicy.size != 0)
        problems.emplace_back("has an authPolicy (a policy session could sign without the PIN)");
    return joined(problems, "; ");
}

} // namespace vigil::attestation
