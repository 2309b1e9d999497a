#include "programrun.h"

#include <QProcess>

namespace vigil::test {

ProgramRun runProgram(const QString &program, const QStringList &arguments,
                      const ProgramOptions &options)
{
    QProcess process;
    process.setProcessEnvironment(options.environment);
    if (!options.workingDirectory.isEmpty())
        process.setWorkingDirectory(options.workingDirectory);
    process.start(program, arguments);
    // Always ended, so that a program reading it sees end-of-file rather than waiting forever.
    if (!options.input.isEmpty())
        process.write(options.input);
    process.closeWriteChannel();
    ProgramRun run;
    if (!process.waitForFinished(static_cast<int>(options.timeout.count()))) {
        run.err = program.toUtf8() + " did not finish: " + process.errorString().toUtf8();
        return run; // ~QProcess kills it
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

} // namespace vigil::test
