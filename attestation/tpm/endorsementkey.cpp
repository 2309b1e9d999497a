#include "attestation/tpm/endorsementkey.h"

#include "attestation/ekcertificate.h"
#include "attestation/tpm/tpmerror.h"

#include <cstdio>

namespace vigil::attestation {

EndorsementKey readEndorsementKey(Tpm &tpm)
{
    for (const auto &[type, index] : {std::pair{EkType::Rsa2048, ekCertificateIndexRsa2048},
                                      std::pair{EkType::EccP256, ekCertificateIndexEccP256}}) {
        const auto stored = tpm.readNv(index);
        if (!stored)
            continue;
        char indexText[16];
        std::snprintf(indexText, sizeof indexText, "0x%08x", index);
        const std::string where = std::string("the EK certificate in NV index ") + indexText;
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
