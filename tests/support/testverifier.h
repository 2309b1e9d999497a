#pragma once

#include "httpsclient.h"
#include "manualclock.h"

#include <QTemporaryDir>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace vigil::protocol {
class SoftwareDeviceKey;
}
namespace vigil::server {
class HttpsServer;
class PolicyStore;
class SqliteStorage;
class VerifierService;
struct VerifierOptions;
} // namespace vigil::server

namespace vigil::test {

// The real verifier — data directory, SQLite, policy file, VerifierService behind the real
// HTTPS server on a free loopback port — running in the test process so that tests can set
// its clock and look into its storage. Only the clock is the test's: ManualClock lets expiry
// and staleness be tested at exact instants instead of by sleeping.
class TestVerifier
{
public:
    // policyJson replaces the default policy; ekCaDirectory's *.pem files are trusted EK CAs.
    explicit TestVerifier(const std::string &policyJson = {},
                          const std::filesystem::path &ekCaDirectory = {});
    TestVerifier(const std::string &policyJson, const std::filesystem::path &ekCaDirectory,
                 const server::VerifierOptions &options);
    ~TestVerifier();

    std::string url(const std::string &path) const { return m_baseUrl + path; }
    const std::filesystem::path &caFile() const { return m_caFile; }
    const std::filesystem::path &dataDirectory() const { return m_dataDirectory; }
    server::SqliteStorage &storage() { return *m_storage; }
    ManualClock &clock() { return m_clock; }
    protocol::SoftwareDeviceKey &tokenKey() { return *m_tokenKey; }
    // Replaces policy.json (atomically) and waits until the verifier has reloaded it.
    void setPolicy(const std::string &policyJson);
    // A single-use enrollment token valid for a day from the verifier's clock.
    std::string createEnrollmentToken(int uses = 1);

private:
    void start(const std::string &policyJson, const std::filesystem::path &ekCaDirectory,
               const server::VerifierOptions &options);

    QTemporaryDir m_temporary;
    std::filesystem::path m_dataDirectory;
    std::filesystem::path m_caFile;
    ManualClock m_clock;
    std::unique_ptr<server::SqliteStorage> m_storage;
    std::unique_ptr<server::PolicyStore> m_policies;
    std::unique_ptr<protocol::SoftwareDeviceKey> m_tokenKey;
    std::unique_ptr<server::VerifierService> m_service;
    std::unique_ptr<server::HttpsServer> m_server;
    std::thread m_thread;
    std::string m_baseUrl;
    std::atomic<int> m_reloads{0};
};

} // namespace vigil::test
