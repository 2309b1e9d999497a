#include "testdevice.h"

#include "attestation/tpm/endorsementkey.h"
#include "attestation/tpm/tpmdevicekey.h"
#include "attestation/tpm/tpmidentity.h"
#include "posture/checkresult.h"
#include "posture/posturesnapshot.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/messages.h"
#include "protocol/posturereport.h"
#include "protocol/rfc3339.h"
#include "swtpmsimulator.h"

#include <openssl/sha.h>
#include <stdexcept>

namespace vigil::test {

namespace {

Bytes sha256(const std::string &text)
{
    Bytes digest(SHA256_DIGEST_LENGTH);
    SHA256(reinterpret_cast<const unsigned char *>(text.data()), text.size(), digest.data());
    return digest;
}

nlohmann::json parseResponse(const HttpResponse &response, long expectedStatus,
                             const std::string &what)
{
    if (response.status != expectedStatus)
        throw std::runtime_error(what + " answered " + std::to_string(response.status) + ": " +
                                 response.body);
    return nlohmann::json::parse(response.body);
}

} // namespace

std::unique_ptr<TestDevice> TestDevice::software(const std::filesystem::path &stateDirectory,
                                                 Now now)
{
    std::unique_ptr<TestDevice> device(new TestDevice);
    device->m_now = std::move(now);
    device->m_key = protocol::SoftwareDeviceKey::create(stateDirectory / "devicekey.pem");
    return device;
}

std::unique_ptr<TestDevice> TestDevice::tpm(const SwtpmSimulator &swtpm,
                                            const std::filesystem::path &stateDirectory, Now now)
{
    std::unique_ptr<TestDevice> device(new TestDevice);
    device->m_now = std::move(now);
    device->m_tpm = std::make_shared<attestation::Tpm>(swtpm.tcti());
    device->m_identity =
        std::make_shared<attestation::TpmIdentity>(device->m_tpm, stateDirectory / "tpm");
    device->m_key = std::make_unique<attestation::TpmDeviceKey>(device->m_identity);
    return device;
}

TestDevice::~TestDevice() = default;

nlohmann::json TestDevice::enrollmentRequest(const std::string &enrollmentToken,
                                             const std::string &hostname)
{
    protocol::EnrollmentRequest request;
    request.enrollmentToken = enrollmentToken;
    request.hostname = hostname;
    request.deviceKey = m_key->publicJwk();
    request.assurance = m_key->assurance();
    if (m_identity) {
        const auto ek = attestation::readEndorsementKey(*m_tpm);
        protocol::TpmEnrollment tpm;
        tpm.ekPublic = ek.publicArea;
        tpm.ekCertificate = ek.certificate;
        tpm.akPublic = m_identity->attestationKeyPublic();
        tpm.deviceKeyPublic = m_identity->deviceKeyPublic();
        tpm.deviceKeyCertify = m_identity->certifyDeviceKey(sha256(enrollmentToken));
        request.tpm = tpm;
    }
    return request.toJson();
}

nlohmann::json TestDevice::activationRequest(const nlohmann::json &challenge)
{
    if (!m_identity)
        throw std::logic_error("a software device has nothing to activate");
    const auto parsed = protocol::EnrollmentChallenge::fromJson(challenge);
    const auto ek = attestation::readEndorsementKey(*m_tpm);
    protocol::ActivationRequest request;
    request.secret = m_identity->activateCredential(ek.type, parsed.credential);
    return request.toJson();
}

std::string TestDevice::dpopHeader(const std::string &method, const std::string &url,
                                   const std::optional<std::string> &accessToken)
{
    protocol::DpopProofRequest proof;
    proof.htm = method;
    proof.htu = url;
    proof.iat = m_now();
    proof.accessToken = accessToken;
    return "DPoP: " + protocol::createDpopProof(*m_key, proof);
}

posture::PostureSnapshot compliantSnapshot(std::chrono::system_clock::time_point now)
{
    using posture::CheckResult;
    const std::string today = protocol::formatRfc3339(now);
    posture::PostureSnapshot snapshot;
    snapshot.collectedAt = now;
    snapshot.checks = {
        CheckResult::pass("os", "Debian GNU/Linux 12",
                          {{"id", "debian"}, {"version_id", "12"}, {"name", "Debian GNU/Linux"}}),
        CheckResult::pass("patch_level", "up to date",
                          {{"package_manager", "apt"},
                           {"security_updates", 0},
                           {"pending_updates", 0},
                           {"last_refresh", today},
                           {"last_upgrade", today},
                           {"reboot_required", false}}),
        CheckResult::pass("disk_encryption", "/ on LUKS2"),
        CheckResult::pass("firewall", "nftables drops inbound"),
        CheckResult::pass("screen_lock", "GNOME locks after 300 s",
                          {{"lock_enabled", true}, {"seconds_to_lock", 300}}),
        CheckResult::pass("secure_boot", "Secure Boot is enabled and enforcing"),
    };
    return snapshot;
}

nlohmann::json TestDevice::compliantPosture() const
{
    return compliantSnapshot(m_now()).toJson();
}

std::string TestDevice::report(const std::string &deviceId, const std::string &nonce,
                               const std::vector<unsigned> &pcrs,
                               const std::optional<nlohmann::json> &posture)
{
    protocol::PostureReport report;
    report.nonce = nonce;
    report.iat = m_now();
    report.exp = report.iat + std::chrono::seconds(300);
    report.jti = protocol::randomJti();
    report.ueid = protocol::ueidForKey(m_key->publicKey());
    report.swversion = "0.1.0";
    report.posture = posture ? *posture : compliantPosture();
    if (m_identity) {
        const auto nonceBytes = base64UrlDecode(nonce);
        if (!nonceBytes)
            throw std::invalid_argument("the nonce is not base64url");
        report.tpm = protocol::TpmClaims{m_identity->quote(*nonceBytes, pcrs), std::nullopt};
    }
    return protocol::signPostureReport(report, deviceId, *m_key);
}

nlohmann::json TestDevice::enroll(HttpsClient &client, const std::string &baseUrl,
                                  const std::string &enrollmentToken)
{
    const std::string url = baseUrl + "/v1/enrollments";
    const auto response =
        client.postJson(url, enrollmentRequest(enrollmentToken).dump(), {dpopHeader("POST", url)});
    const auto body = parseResponse(response, 201, "enrollment");
    if (!m_identity)
        return body;
    const std::string activationUrl =
        url + "/" + body.at("enrollment_id").get<std::string>() + "/activation";
    return parseResponse(client.postJson(activationUrl, activationRequest(body).dump(),
                                         {dpopHeader("POST", activationUrl)}),
                         200, "activation");
}

} // namespace vigil::test
