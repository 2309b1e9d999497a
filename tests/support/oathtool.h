#pragma once

// oathtool (Debian's oathtool package), the TOTP implementation the tests check ours against.

#include <QProcess>
#include <QString>
#include <chrono>
#include <stdexcept>
#include <string>

namespace vigil::test {

// The 6-digit TOTP code (SHA-1, 30 s) of the base32 secret at `at`, by oathtool; throws when
// oathtool cannot run or refuses the secret.
inline std::string oathtool(const std::string &secret, std::chrono::system_clock::time_point at)
{
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
    QProcess process;
    process.start(QStringLiteral("oathtool"), {QStringLiteral("--totp"), QStringLiteral("-b"),
                                               QStringLiteral("--now=@") + QString::number(seconds),
                                               QString::fromStdString(secret)});
    if (!process.waitForFinished(10000) || process.exitCode() != 0)
        throw std::runtime_error("oathtool failed: " +
                                 process.readAllStandardError().toStdString());
    return process.readAllStandardOutput().trimmed().toStdString();
}

} // namespace vigil::test
