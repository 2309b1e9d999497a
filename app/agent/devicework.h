#pragma once

// The work vigild does off its event loop, and what that work keeps between jobs. A Device
// lives on the device thread (the TPM, the device key and the verifier connection, none of them
// thread-safe); a PostureCollection on the posture thread. The agent touches neither directly:
// it hands each job to the thread that owns the object (workerthread.h).

#include "app/client/devicesession.h"
#include "app/client/httpstransport.h"
#include "core/clock.h"
#include "protocol/ipc/request.h"
#include "protocol/messages.h"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vigil::posture {
class PostureEngine;
}

namespace vigil::agent {

class UserKeyStore;
class UserWork;

class DeviceWork
{
public:
    DeviceWork(std::filesystem::path stateDirectory, std::string tcti,
               app::HttpsTransportOptions transport);
    ~DeviceWork();

    // The TPM and connection settings from a configuration that changed since vigild started
    // (ConfigReloader): they take effect from the next session or enrollment.
    void configure(std::string tcti, app::HttpsTransportOptions transport);
    // Why the identity in the state directory belongs to another machine, or none; opens the
    // session when it is this machine's (foreignidentity.h).
    std::optional<std::string> foreignIdentity();
    // Enrolls with the verifier at serverUrl, pinning the CA in caFile (which must have
    // caFingerprint when one is given), and keeps the key that enrolled for the reports. Another
    // machine's identity found in the state directory is moved aside first, never deleted.
    app::EnrollmentState enroll(const std::string &serverUrl, const std::filesystem::path &caFile,
                                const std::optional<std::string> &caFingerprint,
                                const std::string &token);
    // Nonce, quote, signed report, verdict.
    protocol::Appraisal report(const nlohmann::json &posture);
    protocol::TokenResponse token();
    std::string dpopProof(const protocol::ipc::DpopParams &params,
                          std::chrono::system_clock::time_point now);
    // The users' work with this device's verifier client and TPM, their keys in
    // <state>/users/<uid>/ (docs/mfa.md). Opens the device session first.
    UserWork &users(const Clock &clock);

private:
    // The enrolled device, opened at the first job that needs it (and again after a failure
    // to open it, so that a fixed TPM or state directory is picked up).
    app::DeviceSession &session();

    std::filesystem::path m_stateDirectory;
    std::string m_tcti;
    app::HttpsTransportOptions m_transport;
    std::optional<app::DeviceSession> m_session;
    std::unique_ptr<UserKeyStore> m_userKeys; // made with m_session, dropped with it
    std::unique_ptr<UserWork> m_users;
};

class PostureCollection
{
public:
    PostureCollection();
    ~PostureCollection();

    // PostureSnapshot::toJson(). One engine serves every collection, so that its collectors'
    // caches last from one report to the next.
    nlohmann::json collect();

private:
    std::unique_ptr<posture::PostureEngine> m_engine;
};

} // namespace vigil::agent
