#pragma once

#include <QProcess>
#include <QTemporaryDir>
#include <filesystem>
#include <string>

namespace vigil::test {

// The built vigil-verifier as a separate process, the way a deployment runs it: `init` in a
// temporary data directory, a policy, trusted EK CAs, then `serve` on loopback. It can be
// stopped and started again on the same port, to play an unreachable verifier that comes back.
class VerifierProcess
{
public:
    // Throws std::runtime_error naming the step that failed, with the verifier's output.
    VerifierProcess(const std::string &policyJson, const std::filesystem::path &ekCaDirectory);
    ~VerifierProcess();
    VerifierProcess(const VerifierProcess &) = delete;
    VerifierProcess &operator=(const VerifierProcess &) = delete;

    std::string baseUrl() const { return "https://127.0.0.1:" + std::to_string(m_port); }
    std::filesystem::path caFile() const { return m_data / "ca.pem"; }
    std::filesystem::path dataDirectory() const { return m_data; }

    // serve, on the port of the first start; returns once it serves.
    void start();
    // SIGTERM, and waits for it.
    void stop();

    // Replaces policy.json atomically and returns once the verifier has reloaded it.
    void setPolicy(const std::string &policyJson);
    // A single-use enrollment token from `vigil-verifier token create`.
    std::string createEnrollmentToken();
    // `vigil-verifier users add NAME`: the new user's id.
    std::string addUser(const std::string &name);
    // `vigil-verifier users invite NAME`: the one-time code.
    std::string createUserInvite(const std::string &name);
    // `vigil-verifier devices revoke`.
    void revokeDevice(const std::string &deviceId);
    // How many devices `vigil-verifier devices list` shows.
    int deviceCount();

private:
    // Runs a vigil-verifier command to its end; its standard output, or throws with its errors.
    std::string admin(const QStringList &arguments);
    int reloadCount() const;

    QTemporaryDir m_temporary;
    std::filesystem::path m_data;
    std::filesystem::path m_log;
    QProcess m_serve;
    unsigned short m_port = 0;
};

} // namespace vigil::test
