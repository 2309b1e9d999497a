#pragma once

#include "swtpmsimulator.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace vigil::test {

// Runs tpm2-tools (or any program, with TPM2TOOLS_TCTI pointing at the simulator) in the
// simulator's scratch directory, so relative file names land there. The swtpm TCTI has no
// resource manager: every tool leaves its transient objects and sessions loaded. By default
// run() flushes them after each tool to keep the TPM's slots free; Flush::Never leaves that to
// the test, for flows that keep a session across tools or hold Vigil's own keys loaded (which a
// flush of everything would unload).
class Tpm2Tools
{
public:
    enum class Flush
    {
        AfterEachTool,
        Never
    };

    explicit Tpm2Tools(const SwtpmSimulator &simulator, Flush flush = Flush::AfterEachTool);

    // Runs tool with args and returns its standard output. Throws std::runtime_error with the
    // command line and standard error when it cannot start or exits non-zero.
    QByteArray run(const QString &tool, const QStringList &args) const;
    // Like run() but returns the exit code and never throws; for commands expected to fail.
    int runUnchecked(const QString &tool, const QStringList &args, QByteArray *output = nullptr,
                     QByteArray *error = nullptr) const;

    QString path(const QString &fileName) const;
    QByteArray readFile(const QString &fileName) const; // throws std::runtime_error
    void writeFile(const QString &fileName, const QByteArray &contents) const;

private:
    int execute(const QString &tool, const QStringList &args, QByteArray *out,
                QByteArray *err) const;
    void flush() const;

    Flush m_flush;
    QString m_tcti;
    QString m_directory;
};

} // namespace vigil::test
