#pragma once

// Whether the desktop has a system tray, learnt without asking QSystemTrayIcon: Qt decides once,
// at its first check, whether to use a StatusNotifierItem host and keeps that choice (see
// isDBusTrayAvailable in qgenericunixthemes.cpp), so the tray must not create its icon before a
// host exists. At login the panel often starts after the autostarted tray, and on GNOME there is
// none without the AppIndicator extension.
//
// Two kinds of host, either of which Qt can use:
// - StatusNotifierItem: org.kde.StatusNotifierWatcher on the session bus, watched with a
//   QDBusServiceWatcher, with its IsStatusNotifierHostRegistered property (what Qt checks) read
//   again when a host registers or leaves.
// - XEmbed: the owner of the _NET_SYSTEM_TRAY_S<screen> selection, read once at start; then, on a
//   connection of its own to the X server, the MANAGER client message that the freedesktop
//   system tray specification has a new tray send to the root window, and the DestroyNotify of
//   the owner's window when it goes.
// Everything is event-driven; nothing polls. When no host has come after giveUpAfter, gaveUp()
// is emitted once, so the tray can show a window instead; it keeps watching, so the tray can
// switch to an icon when a host comes later.

#include <QDBusConnection>
#include <QObject>
#include <QString>
#include <QTimer>
#include <chrono>
#include <cstdint>

class QDBusPendingCallWatcher;
class QSocketNotifier;
struct xcb_connection_t;

namespace vigil::ui {

struct TrayHostWatcherTimings
{
    std::chrono::milliseconds giveUpAfter{30'000};
};

class TrayHostWatcher : public QObject
{
    Q_OBJECT

public:
    // The session bus and $DISPLAY.
    explicit TrayHostWatcher(TrayHostWatcherTimings timings = {}, QObject *parent = nullptr);
    // display: as xcb_connect takes it, empty for $DISPLAY.
    TrayHostWatcher(const QDBusConnection &bus, const QString &display,
                    TrayHostWatcherTimings timings = {}, QObject *parent = nullptr);
    ~TrayHostWatcher() override;

    // Starts watching; availableChanged(true) follows when a host is, or becomes, available.
    void start();

    bool isAvailable() const { return m_statusNotifierHost || m_xembedTray; }
    bool hasStatusNotifierHost() const { return m_statusNotifierHost; }
    bool hasXEmbedTray() const { return m_xembedTray; }
    bool hasGivenUp() const { return m_gaveUp; }

Q_SIGNALS:
    void availableChanged(bool available);
    // No host for giveUpAfter since start (or since the last one went): emitted at most once.
    void gaveUp();

private Q_SLOTS:
    void queryStatusNotifierHost();

private:
    void startStatusNotifier();
    void onHostProperty(QDBusPendingCallWatcher *watcher, quint64 generation);
    void startXEmbed();
    void stopXEmbed();
    void readXEvents();
    void queryTrayOwner();
    void update(bool statusNotifierHost, bool xembedTray);

    QDBusConnection m_bus;
    QString m_display;
    TrayHostWatcherTimings m_timings;
    QTimer m_giveUpTimer;
    bool m_started = false;
    bool m_statusNotifierHost = false;
    bool m_xembedTray = false;
    bool m_gaveUp = false;
    // Answers to an older query are dropped: the watcher may have gone since it was asked.
    quint64 m_hostGeneration = 0;

    xcb_connection_t *m_connection = nullptr;
    QSocketNotifier *m_xNotifier = nullptr;
    std::uint32_t m_selectionAtom = 0;
    std::uint32_t m_managerAtom = 0;
    std::uint32_t m_trayOwner = 0; // the selection owner's window, 0 for none
};

} // namespace vigil::ui
