#include "verifierprocess.h"

#include "programrun.h"

#include <QFile>
#include <QTest>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vigil::test {

namespace {

const QString verifierProgram = QStringLiteral(VIGIL_BINARY_DIR "/server/vigil-verifier");

QString q(const std::filesystem::path &path)
{
    return QString::fromStdString(path.string());
}

QByteArray readFile(const std::filesystem::path &file)
{
    QFile in(q(file));
    return in.open(QIODevice::ReadOnly) ? in.readAll() : QByteArray();
}

} // namespace

VerifierProcess::VerifierProcess(const std::string &policyJson,
                                 const std::filesystem::path &ekCaDirectory)
{
    if (!m_temporary.isValid())
        throw std::runtime_error("no temporary directory for the verifier");
    m_data = std::filesystem::path(m_temporary.path().toStdString()) / "data";
    m_log = std::filesystem::path(m_temporary.path().toStdString()) / "serve.log";
    admin({QStringLiteral("init"), QStringLiteral("--data"), q(m_data), QStringLiteral("--name"),
           QStringLiteral("127.0.0.1")});
    std::ofstream(m_data / "policy.json") << policyJson;
    for (const auto &entry : std::filesystem::directory_iterator(ekCaDirectory))
        if (entry.path().extension() == ".pem")
            std::filesystem::copy_file(entry.path(), m_data / "ek-cas" / entry.path().filename());
    start();
}

VerifierProcess::~VerifierProcess()
{
    stop();
}

std::string VerifierProcess::admin(const QStringList &arguments)
{
    const ProgramRun run = runProgram(verifierProgram, arguments);
    if (run.exitCode != 0)
        throw std::runtime_error("vigil-verifier " + arguments.join(u' ').toStdString() +
                                 " failed: " + run.err.toStdString());
    return run.out.toStdString();
}

void VerifierProcess::start()
{
    m_serve.setStandardOutputFile(q(m_log), QIODevice::Append);
    m_serve.setStandardErrorFile(q(m_log), QIODevice::Append);
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_port);
    const auto before = readFile(m_log).count("vigil-verifier: serving ");
    m_serve.start(verifierProgram, {QStringLiteral("serve"), QStringLiteral("--data"), q(m_data),
                                    QStringLiteral("--listen"), listen});
    if (!m_serve.waitForStarted())
        throw std::runtime_error("vigil-verifier serve did not start: " +
                                 m_serve.errorString().toStdString());
    // Its log says where it serves once it does.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        const QByteArray log = readFile(m_log);
        if (log.count("vigil-verifier: serving ") > before) {
            const auto line = log.mid(log.lastIndexOf("vigil-verifier: serving "));
            const auto colon = line.indexOf(':', line.indexOf("on 127.0.0.1") + 3);
            m_port = static_cast<unsigned short>(
                line.mid(colon + 1, line.indexOf('\n', colon) - colon - 1).trimmed().toUInt());
            if (m_port == 0)
                throw std::runtime_error("cannot read the verifier's port from: " +
                                         line.toStdString());
            return;
        }
        if (m_serve.state() == QProcess::NotRunning || std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("vigil-verifier serve did not start serving: " +
                                     log.toStdString());
        QTest::qWait(50);
    }
}

void VerifierProcess::stop()
{
    if (m_serve.state() == QProcess::NotRunning)
        return;
    m_serve.terminate();
    if (!m_serve.waitForFinished(10000)) {
        m_serve.kill();
        m_serve.waitForFinished();
    }
}

int VerifierProcess::reloadCount() const
{
    return static_cast<int>(readFile(m_log).count("policy reloaded"));
}

void VerifierProcess::setPolicy(const std::string &policyJson)
{
    const int before = reloadCount();
    const auto staged = m_data / "policy.json.new";
    std::ofstream(staged) << policyJson;
    std::filesystem::rename(staged, m_data / "policy.json");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (reloadCount() <= before) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("the verifier did not reload its policy: " +
                                     readFile(m_log).toStdString());
        QTest::qWait(50);
    }
}

std::string VerifierProcess::createEnrollmentToken()
{
    const std::string out = admin({QStringLiteral("token"), QStringLiteral("create"),
                                   QStringLiteral("--data"), q(m_data), QStringLiteral("--json")});
    return nlohmann::json::parse(out).at("token").get<std::string>();
}

std::string VerifierProcess::addUser(const std::string &name)
{
    const std::string out =
        admin({QStringLiteral("users"), QStringLiteral("add"), QStringLiteral("--data"), q(m_data),
               QString::fromStdString(name), QStringLiteral("--json")});
    return nlohmann::json::parse(out).at("id").get<std::string>();
}

std::string VerifierProcess::createUserInvite(const std::string &name)
{
    const std::string out =
        admin({QStringLiteral("users"), QStringLiteral("invite"), QStringLiteral("--data"),
               q(m_data), QString::fromStdString(name), QStringLiteral("--json")});
    return nlohmann::json::parse(out).at("code").get<std::string>();
}

void VerifierProcess::revokeDevice(const std::string &deviceId)
{
    admin({QStringLiteral("devices"), QStringLiteral("revoke"), QStringLiteral("--data"), q(m_data),
           QString::fromStdString(deviceId)});
}

int VerifierProcess::deviceCount()
{
    const std::string out = admin({QStringLiteral("devices"), QStringLiteral("list"),
                                   QStringLiteral("--data"), q(m_data), QStringLiteral("--json")});
    const auto json = nlohmann::json::parse(out);
    return static_cast<int>(json.is_array() ? json.size() : json.at("devices").size());
}

} // namespace vigil::test
