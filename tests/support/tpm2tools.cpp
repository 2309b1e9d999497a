#include "tpm2tools.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <stdexcept>

namespace vigil::test {

Tpm2Tools::Tpm2Tools(const SwtpmSimulator &simulator, Flush flush)
    : m_flush(flush), m_tcti(QString::fromStdString(simulator.tcti())),
      m_directory(QString::fromStdString(simulator.scratchDirectory().string()))
{
    QDir().mkpath(m_directory);
}

int Tpm2Tools::execute(const QString &tool, const QStringList &args, QByteArray *out,
                       QByteArray *err) const
{
    QProcess process;
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("TPM2TOOLS_TCTI"), m_tcti);
    process.setProcessEnvironment(environment);
    process.setWorkingDirectory(m_directory);
    process.start(tool, args);
    if (!process.waitForStarted(10000))
        throw std::runtime_error("cannot start " + tool.toStdString());
    process.closeWriteChannel();
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        throw std::runtime_error(tool.toStdString() + " did not finish in 60 s");
    }
    if (out)
        *out = process.readAllStandardOutput();
    if (err)
        *err = process.readAllStandardError();
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
}

void Tpm2Tools::flush() const
{
    if (m_flush == Flush::Never)
        return;
    for (const char *kind : {"-t", "-s"}) {
        QByteArray err;
        if (execute(QStringLiteral("tpm2_flushcontext"), {QString::fromLatin1(kind)}, nullptr,
                    &err) != 0)
            throw std::runtime_error("tpm2_flushcontext " + std::string(kind) + ": " +
                                     err.toStdString());
    }
}

QByteArray Tpm2Tools::run(const QString &tool, const QStringList &args) const
{
    QByteArray out;
    QByteArray err;
    const int code = execute(tool, args, &out, &err);
    flush();
    if (code != 0)
        throw std::runtime_error(
            (tool + QLatin1Char(' ') + args.join(QLatin1Char(' '))).toStdString() + " exited " +
            std::to_string(code) + ": " + err.toStdString());
    return out;
}

int Tpm2Tools::runUnchecked(const QString &tool, const QStringList &args, QByteArray *output,
                            QByteArray *error) const
{
    QByteArray err;
    const int code = execute(tool, args, output, error ? error : &err);
    flush();
    return code;
}

QString Tpm2Tools::path(const QString &fileName) const
{
    return m_directory + QLatin1Char('/') + fileName;
}

QByteArray Tpm2Tools::readFile(const QString &fileName) const
{
    QFile file(path(fileName));
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + path(fileName).toStdString());
    return file.readAll();
}

void Tpm2Tools::writeFile(const QString &fileName, const QByteArray &contents) const
{
    QFile file(path(fileName));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        file.write(contents) != contents.size())
        throw std::runtime_error("cannot write " + path(fileName).toStdString());
}

} // namespace vigil::test
