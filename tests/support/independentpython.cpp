#include "independentpython.h"

#include <QProcess>

namespace vigil::test {

bool runPython(const char *script, const QStringList &arguments, const QByteArray &input,
               QByteArray &output, QByteArray &error)
{
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
                 QStringList{QStringLiteral("-c"), QString::fromUtf8(script)} + arguments);
    if (!python.waitForStarted(10000)) {
        error = "cannot start /usr/bin/python3: " + python.errorString().toUtf8();
        return false;
    }
    python.write(input);
    python.closeWriteChannel();
    if (!python.waitForFinished(60000)) {
        error = "python3 did not finish";
        return false;
    }
    output = python.readAllStandardOutput();
    if (python.exitStatus() != QProcess::NormalExit || python.exitCode() != 0) {
        error = "python3 failed: " + python.readAllStandardError();
        return false;
    }
    return true;
}

} // namespace vigil::test
