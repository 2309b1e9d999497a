#pragma once

// Decodes the QR codes in a PNG with zbarimg (Debian's zbar-tools): an implementation
// independent of libqrencode, as a phone's camera app would be.

#include <QProcess>
#include <QStandardPaths>
#include <QString>

namespace vigil::test {

struct ZbarResult
{
    bool ran = false; // zbarimg ran and exited (0: found codes, 4: found none)
    QString text;     // the decoded symbols' data, one per line, "" when none
    QString error;    // why not, when !ran
};

inline bool haveZbarimg()
{
    return !QStandardPaths::findExecutable(QStringLiteral("zbarimg")).isEmpty();
}

inline ZbarResult decodeQr(const QString &pngPath)
{
    ZbarResult result;
    QProcess zbar;
    zbar.start(QStringLiteral("zbarimg"),
               {QStringLiteral("--raw"), QStringLiteral("-q"), QStringLiteral("-Sdisable"),
                QStringLiteral("-Sqrcode.enable"), pngPath});
    if (!zbar.waitForFinished(30000) || zbar.exitStatus() != QProcess::NormalExit) {
        result.error = QStringLiteral("zbarimg did not finish: ") + zbar.errorString();
        return result;
    }
    result.ran = zbar.exitCode() == 0 || zbar.exitCode() == 4;
    result.text = QString::fromUtf8(zbar.readAllStandardOutput());
    if (result.text.endsWith(QLatin1Char('\n')))
        result.text.chop(1);
    if (!result.ran)
        result.error = QString::fromUtf8(zbar.readAllStandardError());
    return result;
}

} // namespace vigil::test
