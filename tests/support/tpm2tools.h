#pragma once

#include "swtpmsimulator.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace vigil::test {

// Runs tpm2-tools against a SwtpmSimulator, in its scratch directory (so relative file names
// land there). The swtpm TCTI has no resource manager: every tool leaves its transient objects
// and sessions loaded, so run() flushes them after each tool to keep the TPM's slots free.
class Tpm2Tools
{
public:
    explicit Tpm2Tools(const SwtpmSimulator &simulator);

    // Runs tool with args and returns its standard output. Throws std::runtime_error with the
    // command line and standard error when it cannot start or exits non-zero.
    QByteArray run(const QString &tool, const QStringList &args) const;
    // Like run() but returns the exit code and never throws; for commands expected to fail.
    int runUnchecked(const QString &tool, const QStringList &args,
                     QByteArray *output = nullptr) const;

    QString path(const QString &fileName) const;
    QByteArray readFile(const QString &fileName) const; // throws std::runtime_error
    void writeFile(const QString &fileName, const QByteArray &contents) const;

private:
    int execute(const QString &tool, const QStringList &args, QByteArray *out,
                QByteArray *err) const;
    void flush() const;

    QString m_tcti;
    QString m_directory;
};

} // namespace vigil::test
