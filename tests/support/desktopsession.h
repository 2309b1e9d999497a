#pragma once

#include <QImage>
#include <QList>
#include <QPoint>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRect>
#include <QString>
#include <QTemporaryDir>
#include <functional>
#include <memory>
#include <vector>

namespace vigil::test {

// A desktop for UI tests and the demo, all of it private to one temporary directory: a session
// dbus-daemon, Xvfb (1280x800x24) on a free display from :90 up, dunst as the notification
// daemon, and a tray host. Started in that order, torn down in reverse; every child gets
// SIGKILL if the test process dies, so a failing or crashing test leaves nothing behind.
class DesktopSession
{
public:
    enum class TrayHost
    {
        // trayer: an XEmbed tray (_NET_SYSTEM_TRAY_S0), what minimal desktops offer.
        Trayer,
        // xfce4-panel with only its systray plugin: StatusNotifierItem (it owns
        // org.kde.StatusNotifierWatcher) and XEmbed.
        XfcePanel,
    };

    struct Notification
    {
        QString appName;
        QString summary;
        QString body;
    };

    enum class TrayHostStart
    {
        WithSession,
        // start() leaves the tray host out, and startTrayHost() starts it: a tray host that
        // comes after the tray, as it often does at login.
        Later,
    };

    explicit DesktopSession(TrayHost host = TrayHost::Trayer,
                            TrayHostStart hostStart = TrayHostStart::WithSession);
    ~DesktopSession();
    DesktopSession(const DesktopSession &) = delete;
    DesktopSession &operator=(const DesktopSession &) = delete;

    // The programs a session needs that are not on PATH (Debian packages named), empty when
    // all are there: tests QSKIP with it.
    static QString missingPrograms(TrayHost host);

    // Starts everything, each step bounded by 10 s. False with error() saying which step
    // failed and its log when one did; what started is stopped again.
    bool start();
    // Starts the tray host in a running session, bounded like start()'s steps; on failure the
    // whole session is stopped, as by start().
    bool startTrayHost();
    void stop();
    QString error() const { return m_error; }

    // For the program under test: DISPLAY, DBUS_SESSION_BUS_ADDRESS, QT_QPA_PLATFORM=xcb,
    // XDG_RUNTIME_DIR (0700), XDG_CONFIG_HOME, XDG_CURRENT_DESKTOP as the tray host sets it.
    QProcessEnvironment environment() const { return m_environment; }
    TrayHost host() const { return m_host; }
    QString display() const { return m_display; }
    QString busAddress() const { return m_busAddress; }
    QString directory() const { return m_directory.path(); }
    // Process ids of the session's programs, for tests that check teardown.
    QList<qint64> processIds() const;

    // The whole screen as a PNG; false (and error()) when it could not be taken.
    bool screenshot(const QString &path);
    // Moves the pointer to at and clicks button (1 left, 3 right) through XTest, as a person
    // would: for what only a real click opens, such as a tray icon's menu. False (and error())
    // when the X server did not take it.
    bool click(QPoint at, int button = 1);
    // Presses and releases the key of an X keysym (0xff1b is Escape) through XTest.
    bool pressKey(unsigned keysym);
    // What the screen shows in area (the whole screen when null), without a file: cheap enough
    // for a benchmark to poll the panel. Null (and error()) when it could not be taken.
    QImage grab(const QRect &area = QRect());
    // Every Notify call the notification daemon received, in order, as seen by a monitor on
    // the bus (dbus-monitor): what was sent, whether or not dunst still shows it.
    QList<Notification> notifications();
    // Whether the tray host serves: the XEmbed selection owned or, for xfce4-panel, also the
    // StatusNotifierWatcher on the bus.
    bool trayAvailable();

private:
    struct Child
    {
        QString name;
        std::unique_ptr<QProcess> process;
    };
    QProcess &launch(const QString &name, const QString &program, const QStringList &arguments);
    bool fail(const QString &step, const Child *child = nullptr);
    bool startBus();
    bool startXvfb();
    bool startMonitor();
    bool startDunst();
    bool waitForBusName(const QString &name, const Child &child);
    // Runs the helper program (tests/support/desktop_helper) in the session, returns its exit
    // code, or -1.
    int runHelper(const QStringList &arguments, QByteArray *output = nullptr);

    TrayHost m_host;
    TrayHostStart m_hostStart;
    QTemporaryDir m_directory;
    QString m_busAddress;
    QString m_display;
    QProcessEnvironment m_environment;
    QString m_error;
    std::vector<Child> m_children;
    QByteArray m_monitorOutput;
    QString m_connectionName;
};

// The main() of a suite whose application must live in the session (its QApplication connects
// to the display and bus when it is made): starts session, skipping with exit 0 when a program
// is missing, takes its environment into this process's, runs suite() and stops the session.
int runInSession(DesktopSession &session, const std::function<int()> &suite);

} // namespace vigil::test
