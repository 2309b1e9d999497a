#include "vigildprocess.h"

#include <QFile>
#include <QTest>
#include <chrono>
#include <fstream>

namespace vigil::test {

namespace {

QString q(const std::filesystem::path &path)
{
    return QString::fromStdString(path.string());
}

} // namespace

VigildProcess::VigildProcess(std::filesystem::path directory, nlohmann::json config,
                             std::filesystem::path tokenFile, QProcessEnvironment environment)
    : m_directory(std::move(directory)), m_config(std::move(config)),
      m_tokenFile(std::move(tokenFile))
{
    m_process.setProcessEnvironment(environment);
}

VigildProcess::~VigildProcess()
{
    stop();
}

std::filesystem::path VigildProcess::socket() const
{
    return m_config.at("socket_path").get<std::string>();
}

QByteArray VigildProcess::log() const
{
    QFile in(q(m_directory / "vigild.log"));
    return in.open(QIODevice::ReadOnly) ? in.readAll() : QByteArray();
}

bool VigildProcess::start()
{
    std::filesystem::create_directories(m_directory);
    std::ofstream(configFile()) << m_config.dump(2);
    m_process.setStandardOutputFile(q(m_directory / "vigild.log"), QIODevice::Append);
    m_process.setStandardErrorFile(q(m_directory / "vigild.log"), QIODevice::Append);
    QStringList command = m_wrapper;
    command << QStringLiteral(VIGIL_BINARY_DIR "/app/vigild") << QStringLiteral("--config")
            << q(configFile()) << QStringLiteral("--enrollment-token-file") << q(m_tokenFile);
    const QString program = command.takeFirst();
    m_process.start(program, command);
    const auto logBefore = log().size();
    if (!m_process.waitForStarted())
        return false;
    // The socket alone is no sign: another vigild's may be there.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!log().mid(logBefore).contains(" started; state in ")) {
        if (!isRunning() || std::chrono::steady_clock::now() > deadline)
            return false;
        QTest::qWait(20);
    }
    return true;
}

int VigildProcess::stop()
{
    if (!isRunning())
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    m_process.terminate();
    if (!m_process.waitForFinished(10000)) {
        m_process.kill();
        m_process.waitForFinished();
        return -1;
    }
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

int VigildProcess::waitForExit()
{
    if (isRunning() && !m_process.waitForFinished(20000))
        return -1;
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

} // namespace vigil::test
