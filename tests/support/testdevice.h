#pragma once

#include "core/bytes.h"
#include "httpsclient.h"
#include "protocol/evidence.h"
#include "protocol/jose/devicekey.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vigil::attestation {
class TpmIdentity;
class Tpm;
} // namespace vigil::attestation

namespace vigil::posture {
struct PostureSnapshot;
}

namespace vigil::test {

class SwtpmSimulator;

// A snapshot that passes the verifier's default policy, collected at now.
posture::PostureSnapshot compliantSnapshot(std::chrono::system_clock::time_point now);

// One workstation speaking Vigil's protocol to a verifier: a software key, or keys in a real
// swtpm (EK with certificate, AK, device key certified by the AK). It builds every request the
// way docs/protocol.md says, so tests can send it as is or spoil one part of it. (vigild gets
// its own client; this one exists to drive the verifier from tests and the load generator.)
class TestDevice
{
public:
    using Now = std::function<std::chrono::system_clock::time_point()>;

    // A device with a software key in stateDirectory.
    static std::unique_ptr<TestDevice> software(const std::filesystem::path &stateDirectory,
                                                Now now);
    // A device whose AK and device key live in the swtpm (blobs in stateDirectory).
    static std::unique_ptr<TestDevice> tpm(const SwtpmSimulator &swtpm,
                                           const std::filesystem::path &stateDirectory, Now now);
    ~TestDevice();

    protocol::DeviceKey &key() { return *m_key; }
    attestation::TpmIdentity *identity() { return m_identity.get(); }
    std::chrono::system_clock::time_point now() const { return m_now(); }

    // The enrollment body for this token (for TPM devices with the certify over
    // SHA-256(token)).
    nlohmann::json enrollmentRequest(const std::string &enrollmentToken,
                                     const std::string &hostname = "ws-test");
    // Runs ActivateCredential on the verifier's challenge; returns the activation body.
    nlohmann::json activationRequest(const nlohmann::json &challenge);

    // "DPoP: <proof>" for method and url, bound to accessToken when given.
    std::string dpopHeader(const std::string &method, const std::string &url,
                           const std::optional<std::string> &accessToken = {});

    // The posture report EAT for nonce: the snapshot (a compliant one by default), and for TPM
    // devices a quote over pcrs with the nonce as qualifying data.
    std::string report(const std::string &deviceId, const std::string &nonce,
                       const std::vector<unsigned> &pcrs,
                       const std::optional<nlohmann::json> &posture = {});
    // A snapshot that passes the default policy.
    nlohmann::json compliantPosture() const;

    // Enrolls through the verifier's API (activating for TPM devices) and returns the
    // EnrollmentComplete body. Throws std::runtime_error with the response on failure.
    nlohmann::json enroll(HttpsClient &client, const std::string &baseUrl,
                          const std::string &enrollmentToken);

private:
    TestDevice() = default;

    Now m_now;
    std::unique_ptr<protocol::DeviceKey> m_key;
    std::shared_ptr<attestation::Tpm> m_tpm;
    std::shared_ptr<attestation::TpmIdentity> m_identity;
    std::string m_enrollmentToken;
};

} // namespace vigil::test
