#include "app/client/devicesession.h"

#include "attestation/tpm/devicekeyloader.h"
#include "attestation/tpm/tpmidentity.h"
#include "posture/host/filesystem.h"
#include "protocol/jose/softwaredevicekey.h"

#include <chrono>
#include <unistd.h>

namespace vigil::app {

Device loadDevice(const std::string &tcti, const std::filesystem::path &stateDirectory)
{
    const auto softwareKey = stateDirectory / "software" / "devicekey.pem";
    if (tcti == "none")
        return {protocol::SoftwareDeviceKey::loadOrCreate(softwareKey), nullptr, {}, softwareKey};
    attestation::LoadedDeviceKey loaded = attestation::loadDeviceKey(tcti, stateDirectory);
    return {std::move(loaded.key), std::move(loaded.identity), std::move(loaded.fallbackReason),
            softwareKey};
}

DeviceSession openDeviceSession(const std::filesystem::path &stateDirectory,
                                const std::function<Device()> &loadDevice,
                                const HttpsTransportOptions &transport)
{
    const EnrollmentStore store(stateDirectory);
    auto state = store.load();
    if (!state)
        throw EnrollmentStateError("this device is not enrolled (no " + store.stateFile().string() +
                                   "); run vigilctl enroll first");
    Device device = loadDevice();
    if (device.key->thumbprint() != state->deviceKeyThumbprint)
        throw EnrollmentStateError("the device key here (" +
                                   std::string(protocol::assuranceName(device.key->assurance())) +
                                   ", thumbprint " + device.key->thumbprint() +
                                   ") is not the one enrolled as device " + state->deviceId + " (" +
                                   std::string(protocol::assuranceName(state->assurance)) +
                                   ", thumbprint " + state->deviceKeyThumbprint +
                                   "); use the TPM it was enrolled with (--tcti) or enroll again");
    DeviceSession session{std::move(*state), std::move(device), nullptr};
    session.client = std::make_unique<VerifierClient>(session.state.serverUrl, store.caFile(),
                                                      *session.device.key,
                                                      session.device.identity.get(), transport);
    session.client->setDeviceId(session.state.deviceId);
    return session;
}

protocol::Appraisal reportPosture(VerifierClient &client, const nlohmann::json &posture)
{
    const protocol::NonceResponse nonce = client.nonce();
    return client.report(posture, nonce.nonce, nonce.pcrs);
}

Enrolled enrollDevice(const std::filesystem::path &stateDirectory, Device &device,
                      const EnrollmentRequest &request, const HttpsTransportOptions &transport)
{
    const EnrollmentStore store(stateDirectory);
    struct DiscardStaged
    {
        const EnrollmentStore &store;
        ~DiscardStaged() { store.discardStaged(); }
    } discard{store};
    const auto stagedCa = store.stageCa(request.ca);
    VerifierClient client(request.serverUrl, stagedCa, *device.key, device.identity.get(),
                          transport);
    const std::string hostname = request.hostname.empty() ? hostName() : request.hostname;
    Enrolled enrolled{{}, client.enroll(request.token, hostname)};
    EnrollmentState &state = enrolled.state;
    state.serverUrl = client.baseUrl();
    state.deviceId = enrolled.complete.deviceId;
    state.assurance = enrolled.complete.assurance;
    state.deviceKeyThumbprint = device.key->thumbprint();
    state.caFingerprint = request.ca.fingerprint;
    state.hostname = hostname;
    state.enrolledAt = std::chrono::system_clock::now();
    // What tells a copy of this state directory on another machine (machinebinding.h).
    state.machine = readMachineBinding(posture::FileSystem("/"),
                                       device.identity ? &device.identity->tpm() : nullptr);
    store.commit(state);
    return enrolled;
}

std::string hostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
        return "localhost";
    return name;
}

} // namespace vigil::app
