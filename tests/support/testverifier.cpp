#include "testverifier.h"

#include "protocol/jose/softwaredevicekey.h"
#include "server/admin/admincommands.h"
#include "server/admin/datadirectory.h"
#include "server/api/verifierservice.h"
#include "server/http/httpsserver.h"
#include "server/policy/policy.h"
#include "server/policy/policystore.h"
#include "server/storage/sqlitestorage.h"

#include <QTest>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vigil::test {

namespace {

void writeFile(const std::filesystem::path &path, const std::string &text)
{
    const auto temporary = path.string() + ".new";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << text;
        if (!out.flush())
            throw std::runtime_error("cannot write " + temporary);
    }
    std::filesystem::rename(temporary, path);
}

} // namespace

TestVerifier::TestVerifier(const std::string &policyJson,
                           const std::filesystem::path &ekCaDirectory)
    // The clock starts at the real time (the certificates init makes are valid from then) and
    // moves only when a test moves it.
    : m_clock(std::chrono::system_clock::now())
{
    start(policyJson, ekCaDirectory, server::VerifierOptions{});
}

TestVerifier::TestVerifier(const std::string &policyJson,
                           const std::filesystem::path &ekCaDirectory,
                           const server::VerifierOptions &options)
    : m_clock(std::chrono::system_clock::now())
{
    start(policyJson, ekCaDirectory, options);
}

void TestVerifier::start(const std::string &policyJson, const std::filesystem::path &ekCaDirectory,
                         const server::VerifierOptions &givenOptions)
{
    if (!m_temporary.isValid())
        throw std::runtime_error("cannot create a temporary directory");
    m_dataDirectory = std::filesystem::path(m_temporary.path().toStdString()) / "verifier";
    std::ostringstream out, err;
    if (server::initDataDirectory(m_dataDirectory, {"127.0.0.1", "localhost"}, m_clock.now(), out,
                                  err) != 0)
        throw std::runtime_error("vigil-verifier init failed: " + err.str());
    const auto data = server::DataDirectory::open(m_dataDirectory);
    m_caFile = data.caCertificate();
    if (!policyJson.empty())
        writeFile(data.policy(), policyJson);
    if (!ekCaDirectory.empty())
        for (const auto &entry : std::filesystem::directory_iterator(ekCaDirectory))
            if (entry.path().extension() == ".pem")
                std::filesystem::copy_file(entry.path(),
                                           data.ekCaDirectory() / entry.path().filename());

    m_storage = server::SqliteStorage::open(data.database());
    m_policies = std::make_unique<server::PolicyStore>(
        data.policy(), [this](const std::shared_ptr<const server::Policy> &) { ++m_reloads; },
        [](const std::string &error) { qWarning("policy rejected: %s", error.c_str()); });
    m_tokenKey = protocol::SoftwareDeviceKey::load(data.tokenSigningKey());

    server::HttpsServerOptions https;
    https.port = 0;
    https.credentials = data.tlsCredentials();
    https.threads = 4;
    m_server = std::make_unique<server::HttpsServer>(
        https, [this](const server::HttpRequest &request) { return m_service->handle(request); });
    m_baseUrl = "https://127.0.0.1:" + std::to_string(m_server->port());

    server::VerifierOptions options = givenOptions;
    options.publicUrl = m_baseUrl;
    options.ekCaDirectory = data.ekCaDirectory().string();
    m_service = std::make_unique<server::VerifierService>(*m_storage, *m_policies, *m_tokenKey,
                                                          m_clock, options);
    m_thread = std::thread([this] { m_server->serve(); });
}

TestVerifier::~TestVerifier()
{
    if (m_server)
        m_server->stop();
    if (m_thread.joinable())
        m_thread.join();
}

void TestVerifier::setPolicy(const std::string &policyJson)
{
    server::parsePolicy(policyJson); // a test that means to write a bad policy says so
    const int before = m_reloads;
    writeFile(server::DataDirectory::open(m_dataDirectory).policy(), policyJson);
    if (!QTest::qWaitFor([&] { return m_reloads > before; }, 10000))
        throw std::runtime_error("the verifier did not reload its policy within 10 s");
}

std::string TestVerifier::createEnrollmentToken(int uses)
{
    server::TokenOptions options;
    options.uses = uses;
    std::ostringstream out;
    server::createEnrollmentToken(*m_storage, options, m_clock.now(), false, out);
    std::string token = out.str();
    return token.substr(0, token.find('\n'));
}

} // namespace vigil::test
