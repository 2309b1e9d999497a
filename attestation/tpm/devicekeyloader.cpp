#include "attestation/tpm/devicekeyloader.h"

#include "attestation/tpm/tpmdevicekey.h"
#include "attestation/tpm/tpmerror.h"
#include "attestation/tpm/tpmidentity.h"
#include "attestation/tpm/tpmlogging.h"
#include "protocol/jose/softwaredevicekey.h"

namespace vigil::attestation {

LoadedDeviceKey loadDeviceKey(const std::string &tcti, const std::filesystem::path &stateDirectory)
{
    std::shared_ptr<Tpm> tpm;
    try {
        tpm = std::make_shared<Tpm>(tcti);
    } catch (const TpmError &e) {
        if (e.kind() != TpmError::Kind::NoTpm)
            throw;
        qCDebug(lcTpm, "using the software device key: %s", e.what());
        return LoadedDeviceKey{protocol::SoftwareDeviceKey::loadOrCreate(
                                   stateDirectory / "software" / "devicekey.pem"),
                               nullptr, e.what()};
    }
    auto identity = std::make_shared<TpmIdentity>(std::move(tpm), stateDirectory / "tpm");
    return LoadedDeviceKey{std::make_unique<TpmDeviceKey>(identity), identity, {}};
}

} // namespace vigil::attestation
