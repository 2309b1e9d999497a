#include "endorsementkey.h"

#include "ekcertificate.h"
#include "tpmerror.h"

namespace vigil::attestation {

EndorsementKey readEndorsementKey(Tpm &tpm)
{
    for (const auto &[type, index] : {std::pair{EkType::Rsa2048, ekCertificateIndexRsa2048},
                                     std::pair{EkType::EccP256, ekCertificateIndexEccP256}}) {
        const auto stored = tpm.readNv(index);
        if (!stored)
            continue;
        const std::string where = "the EK certificate in NV index 0x0" + [index] {
            char hex[16];
            std::snprintf(hex, sizeof hex, "%x", index);
            return std::string(hex);
        }();
        try {
            const EkCertificate certificate = EkCertificate::parse(*stored);
            const TpmObject ek = tpm.createEndorsementKey(type);
            if (!ekCertificateMatchesPublic(certificate, ek.publicArea()))
                throw TpmError(TpmError::Kind::Other,
                               where + " certifies another key than the EK made from the TCG "
                                       "default template (this TPM may use a custom EK "
                                       "template)");
            return EndorsementKey{type, ek.publicArea(), certificate.der()};
        } catch (const EkCertificateException &e) {
            throw TpmError(TpmError::Kind::Other, where + " is unreadable: " + e.what());
        }
    }
    const TpmObject ek = tpm.createEndorsementKey(EkType::Rsa2048);
    return EndorsementKey{EkType::Rsa2048, ek.publicArea(), std::nullopt};
}

} // namespace vigil::attestation
