#include "app/agent/service/servicenotifier.h"

#include <chrono>
#include <cstdint>
#include <systemd/sd-daemon.h>

namespace vigil::agent {

ServiceNotifier::ServiceNotifier(QObject *parent) : QObject(parent)
{
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        // The timer fires from the event loop, so a stuck loop stops the pings and systemd
        // restarts vigild.
        m_watchdog.setInterval(std::chrono::milliseconds(usec / 2000));
        connect(&m_watchdog, &QTimer::timeout, this, [] { sd_notify(0, "WATCHDOG=1"); });
        m_watchdog.start();
    }
}

void ServiceNotifier::ready()
{
    sd_notify(0, "READY=1");
}

void ServiceNotifier::status(const std::string &text)
{
    // The message is newline-separated assignments: a line break in the text would let the rest
    // of it pass for another one (READY=1, MAINPID=…).
    std::string line = text;
    for (char &c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
    sd_notifyf(0, "STATUS=%s", line.c_str());
}

void ServiceNotifier::stopping()
{
    m_watchdog.stop();
    sd_notify(0, "STOPPING=1");
}

} // namespace vigil::agent
