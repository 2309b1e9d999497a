#include "privatebus.h"

#include <QStandardPaths>

namespace vigil::test {

PrivateBus::~PrivateBus()
{
    m_daemon.kill();
    m_daemon.waitForFinished();
}

bool PrivateBus::start()
{
    const QString daemon = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    if (daemon.isEmpty()) {
        m_error = QStringLiteral("dbus-daemon is needed (Debian package dbus-daemon)");
        return false;
    }
    if (!m_directory.isValid()) {
        m_error =
            QStringLiteral("no temporary directory for the bus: ") + m_directory.errorString();
        return false;
    }
    m_daemon.start(daemon, {QStringLiteral("--session"),
                            QStringLiteral("--address=unix:path=") +
                                m_directory.filePath(QStringLiteral("bus")),
                            QStringLiteral("--nofork"), QStringLiteral("--print-address")});
    if (!m_daemon.waitForStarted()) {
        m_error = QStringLiteral("dbus-daemon did not start: ") + m_daemon.errorString();
        return false;
    }
    while (!m_daemon.canReadLine()) {
        if (!m_daemon.waitForReadyRead(10000)) {
            m_error = QStringLiteral("dbus-daemon gave no address: ") +
                      QString::fromUtf8(m_daemon.readAllStandardError());
            return false;
        }
    }
    m_address = QString::fromUtf8(m_daemon.readLine().trimmed());
    if (m_address.isEmpty())
        m_error = QStringLiteral("dbus-daemon gave an empty address");
    return !m_address.isEmpty();
}

} // namespace vigil::test
