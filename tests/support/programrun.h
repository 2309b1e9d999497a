#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <chrono>

namespace vigil::test {

// What a program run to its end left behind.
struct ProgramRun
{
    int exitCode = -1; // -1 when it did not start, did not finish in time or crashed
    QByteArray out, err;
};

struct ProgramOptions
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    QString workingDirectory; // empty: the test's own
    std::chrono::milliseconds timeout{60000};
    QByteArray input; // the program's standard input, which then ends
};

// Runs program with arguments and waits for it. A program that does not start or finish in
// time is killed and reported with exit code -1 and the reason in err, so that the test's own
// assertion on the exit code fails with it.
ProgramRun runProgram(const QString &program, const QStringList &arguments,
                      const ProgramOptions &options = {});

} // namespace vigil::test
