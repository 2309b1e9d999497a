#pragma once

// Screen lock is a per-user setting that vigild, a system service, cannot read. The tray runs
// posture's ScreenLockCollector in the user's session and hands the result to vigild
// (session_posture, docs/ipc.md section 7.8): at start(), whenever the files and directories
// the collector reads change (inotify, never a timer), and on resend() (the tray calls it each
// time its subscription to vigild starts over, since a restarted vigild has forgotten).
//
// Collection spawns gsettings (~10 ms each, up to a few seconds when the session bus is slow),
// so it runs on a thread of its own; the GUI thread only sends the result.

#include "posture/checkresult.h"

#include <QObject>
#include <QString>
#include <QThread>
#include <QTimer>
#include <chrono>
#include <memory>
#include <optional>

class QSocketNotifier;

namespace vigil::posture {
class ChangeWatch;
class Host;
class PostureEngine;
} // namespace vigil::posture

namespace vigil::ipcclient {
class VigildClient;
}

namespace vigil::ui {

class ScreenLockReporter : public QObject
{
    Q_OBJECT

public:
    // Editors and desktop settings write a file in several steps: one collection once they
    // have been quiet this long.
    static constexpr std::chrono::milliseconds settleTime{300};
    // A vigild that accepts but does not answer.
    static constexpr std::chrono::milliseconds answerTimeout{10000};

    explicit ScreenLockReporter(QString socketPath, QObject *parent = nullptr);
    // host: the machine and environment the collector reads (tests give a fixture HOME).
    ScreenLockReporter(QString socketPath, std::shared_ptr<const posture::Host> host,
                       QObject *parent = nullptr);
    // Waits for a collection under way (bounded by the collector's own time limits).
    ~ScreenLockReporter() override;

    // Starts watching the settings (once), collects and sends.
    void start();

public Q_SLOTS:
    // Sends the last result again, or collects first when there is none yet.
    void resend();

Q_SIGNALS:
    // vigild took result.
    void sent(const vigil::posture::CheckResult &result);
    // The result could not be handed over, or changes of the settings cannot be watched;
    // reason is a sentence for the tray's log.
    void failed(const QString &reason);

private:
    void watchSettings();
    void settingsChanged();
    void collect();
    void collected(posture::CheckResult result);
    void send(const posture::CheckResult &result);
    void finishSending(const std::optional<QString> &failure);

    QString m_socketPath;
    std::shared_ptr<const posture::Host> m_host;
    // Used on m_thread only; destroyed after it has stopped.
    std::unique_ptr<posture::PostureEngine> m_engine;
    QThread m_thread;
    QObject *m_threadContext; // lives on m_thread: collections run in its event loop
    std::unique_ptr<posture::ChangeWatch> m_watch;
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_settle;
    QTimer m_answerTimer;

    bool m_collecting = false;
    bool m_collectAgain = false;  // the settings changed during the collection under way
    bool m_sendCollected = false; // send the next result even if it is the last one sent
    std::optional<posture::CheckResult> m_last;     // the latest collected
    std::optional<posture::CheckResult> m_lastSent; // the latest vigild took
    ipcclient::VigildClient *m_client = nullptr;    // the call under way
    std::optional<posture::CheckResult> m_inFlight;
    bool m_sendAgain = false; // a newer result waits for the call under way
};

} // namespace vigil::ui
