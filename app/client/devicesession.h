#pragma once

// The device as both vigilctl's in-process commands and vigild use it: its key (TPM or
// software), its enrollment, and a VerifierClient over them. One place decides which key is the
// device's and whether it is the one enrolled, so the two never disagree.

#include "app/client/enrollmentstate.h"
#include "app/client/httpstransport.h"
#include "app/client/verifierclient.h"
#include "protocol/jose/devicekey.h"
#include "protocol/messages.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace vigil::attestation {
class TpmIdentity;
}

namespace vigil::app {

struct Device
{
    std::unique_ptr<protocol::DeviceKey> key;
    std::shared_ptr<attestation::TpmIdentity> identity; // null for the software key
    // Why the software key is used though tcti asked for a TPM ("" otherwise), and its file.
    std::string fallbackReason;
    std::filesystem::path softwareKeyFile;
};

// The device key for tcti: "none" is the software key <state>/software/devicekey.pem (created
// when missing); anything else is attestation::loadDeviceKey's choice. Throws KeyError/TpmError.
Device loadDevice(const std::string &tcti, const std::filesystem::path &stateDirectory);

// An enrolled device ready to talk to its verifier.
struct DeviceSession
{
    EnrollmentState state;
    Device device;
    std::unique_ptr<VerifierClient> client;
};

// Reads the enrollment, then loads the device with loadDevice (not before: a device that is not
// enrolled gets no key made for it). Throws EnrollmentStateError when the device is not
// enrolled, or when its key is not the one enrolled (saying which is which and what to do).
DeviceSession openDeviceSession(const std::filesystem::path &stateDirectory,
                                const std::function<Device()> &loadDevice,
                                const HttpsTransportOptions &transport);

// The nonce-quote-report exchange: a nonce, then the report answering it. posture is collected
// first by the caller, because a nonce is short-lived and collection can take seconds.
protocol::Appraisal reportPosture(VerifierClient &client, const nlohmann::json &posture);

struct EnrollmentRequest
{
    std::string serverUrl;
    PinnedCa ca;
    std::string token; // a secret
    std::string hostname;
};

struct Enrolled
{
    EnrollmentState state;
    protocol::EnrollmentComplete complete;
};

// Enrolls device and records it in stateDirectory only once the verifier has accepted it: a
// failed enrollment leaves a previous one intact. Throws as VerifierClient::enroll does.
Enrolled enrollDevice(const std::filesystem::path &stateDirectory, Device &device,
                      const EnrollmentRequest &request, const HttpsTransportOptions &transport);

// This machine's name, "localhost" when it has none.
std::string hostName();

} // namespace vigil::app
