#pragma once

#include "core/filedescriptor.h"

#include <QObject>

class QSocketNotifier;

namespace vigil::agent {

// SIGTERM and SIGINT as an event: blocked in every thread (construct before starting any) and
// read from a signalfd through a QSocketNotifier, so vigild stops from its event loop, cleanly,
// with no handler running at an arbitrary point.
class TerminationSignals : public QObject
{
    Q_OBJECT

public:
    // Throws std::system_error when the signalfd cannot be made.
    explicit TerminationSignals(QObject *parent = nullptr);
    ~TerminationSignals() override;

Q_SIGNALS:
    void received(int signal);

private:
    void readPending();

    FileDescriptor m_fd;
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace vigil::agent
