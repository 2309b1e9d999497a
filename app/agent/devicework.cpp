#include "app/agent/devicework.h"

#include "app/agent/agentlogging.h"
#include "app/agent/foreignidentity.h"
#include "app/agent/mfa/userkeystore.h"
#include "app/agent/mfa/userwork.h"
#include "app/agent/statelock.h"
#include "app/client/enrollmentstate.h"
#include "attestation/tpm/tpmidentity.h"
#include "posture/host/host.h"
#include "posture/postureengine.h"
#include "posture/standardcollectors.h"
#include "protocol/jose/dpop.h"

namespace vigil::agent {

DeviceWork::DeviceWork(std::filesystem::path stateDirectory, std::string tcti,
                       app::HttpsTransportOptions transport)
    : m_stateDirectory(std::move(stateDirectory)), m_tcti(std::move(tcti)),
      m_transport(std::move(transport))
{
}

DeviceWork::~DeviceWork() = default;

UserWork &DeviceWork::users(const Clock &clock)
{
    app::DeviceSession &device = session();
    if (!m_users) {
        const auto &identity = device.device.identity;
        // The TPM the identity holds, kept alive by it.
        std::shared_ptr<attestation::Tpm> tpm =
            identity ? std::shared_ptr<attestation::Tpm>(identity, &identity->tpm()) : nullptr;
        m_userKeys = std::make_unique<UserKeyStore>(m_stateDirectory / "users", tpm, clock);
        m_users = std::make_unique<UserWork>(*device.client, *m_userKeys, identity.get(), clock);
    }
    return *m_users;
}

app::DeviceSession &DeviceWork::session()
{
    if (!m_session)
        m_session.emplace(app::openDeviceSession(
            m_stateDirectory, [this] { return app::loadDevice(m_tcti, m_stateDirectory); },
            m_transport));
    return *m_session;
}

void DeviceWork::configure(std::string tcti, app::HttpsTransportOptions transport)
{
    m_tcti = std::move(tcti);
    m_transport = std::move(transport);
}

std::optional<std::string> DeviceWork::foreignIdentity()
{
    m_users.reset();
    m_userKeys.reset();
    m_session.reset();
    return agent::foreignIdentity(m_stateDirectory, m_tcti, [this] { session(); });
}

app::EnrollmentState DeviceWork::enroll(const std::string &serverUrl,
                                        const std::filesystem::path &caFile,
                                        const std::optional<std::string> &caFingerprint,
                                        const std::string &token)
{
    const auto foreign = foreignIdentity();
    // Closed again either way: the key is loaded once, below, on the one TPM connection.
    m_session.reset();
    if (foreign) {
        const auto aside = app::moveIdentityAside(
            m_stateDirectory, StateLock::lockFile(m_stateDirectory).filename().string(),
            std::chrono::system_clock::now());
        qCWarning(lcAgent, "%s; moved it to %s and enrolling as a new device", foreign->c_str(),
                  aside.c_str());
    }
    app::EnrollmentRequest request;
    request.serverUrl = serverUrl;
    request.ca = app::readCaFile(caFile, caFingerprint);
    request.token = token;
    app::Device key = app::loadDevice(m_tcti, m_stateDirectory);
    const app::Enrolled enrolled = app::enrollDevice(m_stateDirectory, key, request, m_transport);
    // The key that enrolled stays loaded (a TPM without a resource manager has few slots).
    // Should the session not open, the device is enrolled all the same: the first report opens
    // it again and says what is wrong.
    try {
        m_session.emplace(app::openDeviceSession(
            m_stateDirectory, [&key] { return std::move(key); }, m_transport));
    } catch (const std::exception &) {
    }
    return enrolled.state;
}

protocol::Appraisal DeviceWork::report(const nlohmann::json &posture)
{
    return app::reportPosture(*session().client, posture);
}

protocol::TokenResponse DeviceWork::token()
{
    return session().client->token();
}

std::string DeviceWork::dpopProof(const protocol::ipc::DpopParams &params,
                                  std::chrono::system_clock::time_point now)
{
    protocol::DpopProofRequest request;
    request.htm = params.method;
    request.htu = params.url;
    request.iat = now;
    request.accessToken = params.accessToken;
    return protocol::createDpopProof(*session().device.key, request);
}

PostureCollection::PostureCollection() = default;
PostureCollection::~PostureCollection() = default;

nlohmann::json PostureCollection::collect()
{
    if (!m_engine)
        m_engine = std::make_unique<posture::PostureEngine>(
            std::make_shared<const posture::Host>(posture::Host::local()),
            posture::standardCollectors());
    return m_engine->collect().toJson();
}

} // namespace vigil::agent
