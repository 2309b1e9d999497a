#pragma once

#include <QProcess>
#include <QString>
#include <QTemporaryDir>

namespace vigil::test {

// A dbus-daemon with the stock session configuration (anyone may own any name) on a socket in
// a directory of its own: a bus where a test plays logind or any other service. Killed when
// destroyed.
class PrivateBus
{
public:
    PrivateBus() = default;
    ~PrivateBus();
    PrivateBus(const PrivateBus &) = delete;
    PrivateBus &operator=(const PrivateBus &) = delete;

    // Starts it and reads its address (bounded by 10 s); false with error() when it could not.
    bool start();
    QString address() const { return m_address; }
    QString error() const { return m_error; }

private:
    QTemporaryDir m_directory;
    QProcess m_daemon;
    QString m_address;
    QString m_error;
};

} // namespace vigil::test
