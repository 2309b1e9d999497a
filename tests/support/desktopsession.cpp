#include "desktopsession.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QStandardPaths>
#include <QTest>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sys/prctl.h>
#include <xcb/xcb.h>
#include <xcb/xtest.h>

namespace vigil::test {

namespace {

constexpr int stepTimeoutMs = 10000;
const QString notificationsService = QStringLiteral("org.freedesktop.Notifications");
const QString watcherService = QStringLiteral("org.kde.StatusNotifierWatcher");

// Notifications stay until the session ends (timeout 0) so that screenshots show them.
constexpr const char *dunstConfig = R"([global]
    monitor = 0
    follow = none
    width = 300
    height = 120
    origin = top-right
    offset = 10x40
    font = Monospace 10
    frame_width = 2
    frame_color = "#4060a0"
    separator_height = 2
    padding = 8
    horizontal_padding = 8
    format = "<b>%s</b>\n%b"
    show_indicators = no
    idle_threshold = 0
    sticky_history = yes
    history_length = 50
    mouse_left_click = none
    mouse_middle_click = none
    mouse_right_click = none

[urgency_low]
    background = "#ffffff"
    foreground = "#202020"
    timeout = 0

[urgency_normal]
    background = "#ffffff"
    foreground = "#202020"
    timeout = 0

[urgency_critical]
    background = "#fff0f0"
    foreground = "#900000"
    frame_color = "#c00000"
    timeout = 0
)";

// One panel across the top with nothing but the systray plugin (StatusNotifierItem and
// XEmbed). Without a channel of its own the panel copies the distribution's default layout,
// whose other plugins want a session manager, upower and pulseaudio.
constexpr const char *xfcePanelChannel = R"(<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="dark-mode" type="bool" value="false"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="28"/>
      <property name="icon-size" type="uint" value="22"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
    </property>
  </property>
</channel>
)";

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile out(path);
    return out.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           out.write(content) == content.size();
}

QByteArray readFile(const QString &path)
{
    QFile in(path);
    return in.open(QIODevice::ReadOnly) ? in.readAll() : QByteArray();
}

// Whether the XEmbed tray selection of screen 0 has an owner on `display`.
bool xembedTrayOwned(const QString &display)
{
    xcb_connection_t *connection = xcb_connect(display.toLocal8Bit().constData(), nullptr);
    bool owned = false;
    if (!xcb_connection_has_error(connection)) {
        const char name[] = "_NET_SYSTEM_TRAY_S0";
        xcb_intern_atom_reply_t *atom = xcb_intern_atom_reply(
            connection, xcb_intern_atom(connection, 1, sizeof name - 1, name), nullptr);
        if (atom && atom->atom != XCB_ATOM_NONE) {
            xcb_get_selection_owner_reply_t *owner = xcb_get_selection_owner_reply(
                connection, xcb_get_selection_owner(connection, atom->atom), nullptr);
            owned = owner && owner->owner != XCB_WINDOW_NONE;
            free(owner);
        }
        free(atom);
    }
    xcb_disconnect(connection);
    return owned;
}

// The top-level string arguments of one dbus-monitor message block ("   string \"...\"" lines;
// a string with newlines continues until a line ends in a quote).
QStringList topLevelStrings(const QList<QByteArray> &lines)
{
    QStringList strings;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray prefix = "   string \"";
        if (!lines[i].startsWith(prefix))
            continue;
        QByteArray value = lines[i].mid(prefix.size());
        while (!value.endsWith('"') && i + 1 < lines.size())
            value += '\n' + lines[++i];
        value.chop(1);
        strings.append(QString::fromUtf8(value));
    }
    return strings;
}

// xfconfd lives outside PATH, where its D-Bus service file says.
QString xfconfdPath()
{
    const QString service =
        QStandardPaths::locate(QStandardPaths::GenericDataLocation,
                               QStringLiteral("dbus-1/services/org.xfce.Xfconf.service"));
    for (const QByteArray &line : readFile(service).split('\n')) {
        if (line.startsWith("Exec="))
            return QString::fromLocal8Bit(line.mid(5).trimmed());
    }
    return QStringLiteral("/usr/lib/x86_64-linux-gnu/xfce4/xfconf/xfconfd");
}

} // namespace

DesktopSession::DesktopSession(TrayHost host, TrayHostStart hostStart)
    : m_host(host), m_hostStart(hostStart)
{
    m_connectionName =
        QStringLiteral("vigil-desktop-session-%1").arg(reinterpret_cast<quintptr>(this), 0, 16);
}

DesktopSession::~DesktopSession()
{
    stop();
}

QString DesktopSession::missingPrograms(TrayHost host)
{
    QStringList missing;
    const auto need = [&](const char *program, const char *package) {
        if (QStandardPaths::findExecutable(QString::fromLatin1(program)).isEmpty())
            missing.append(QStringLiteral("%1 (Debian package %2)")
                               .arg(QLatin1String(program), QLatin1String(package)));
    };
    need("dbus-daemon", "dbus-daemon");
    need("dbus-monitor", "dbus-bin");
    need("Xvfb", "xvfb");
    need("dunst", "dunst");
    if (host == TrayHost::Trayer)
        need("trayer", "trayer");
    else
        need("xfce4-panel", "xfce4-panel");
    if (host == TrayHost::XfcePanel && !QFile::exists(xfconfdPath()))
        missing.append(QStringLiteral("xfconfd (Debian package xfconf)"));
    return missing.join(QStringLiteral(", "));
}

QProcess &DesktopSession::launch(const QString &name, const QString &program,
                                 const QStringList &arguments)
{
    auto process = std::make_unique<QProcess>();
    process->setProcessEnvironment(m_environment);
    process->setWorkingDirectory(m_directory.path());
    // Gone with the test process even when it crashes or is killed by ctest's timeout (the
    // signal follows the thread that forked: sessions are started on the main thread).
    process->setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGKILL); });
    process->setStandardErrorFile(m_directory.filePath(name + QStringLiteral(".log")));
    process->setProgram(program);
    process->setArguments(arguments);
    m_children.push_back({name, std::move(process)});
    QProcess &started = *m_children.back().process;
    return started;
}

bool DesktopSession::fail(const QString &step, const Child *child)
{
    m_error = step;
    if (child) {
        m_error += QStringLiteral("\n%1's log:\n").arg(child->name) +
                   QString::fromLocal8Bit(
                       readFile(m_directory.filePath(child->name + QStringLiteral(".log"))));
    }
    stop();
    return false;
}

bool DesktopSession::start()
{
    if (!m_directory.isValid())
        return fail(QStringLiteral("no temporary directory: ") + m_directory.errorString());
    if (const QString missing = missingPrograms(m_host); !missing.isEmpty())
        return fail(QStringLiteral("missing programs: ") + missing);
    m_monitorOutput.clear();
    const QDir dir(m_directory.path());
    for (const char *sub : {"runtime", "config", "cache", "data"})
        dir.mkpath(QString::fromLatin1(sub));
    QFile::setPermissions(dir.filePath(QStringLiteral("runtime")),
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);

    // Everything the session's programs (and those the bus activates, like xfconfd) might
    // write goes to the temporary directory, never to the user's home.
    m_environment = QProcessEnvironment::systemEnvironment();
    for (const char *name :
         {"DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "SESSION_MANAGER",
          "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "QT_QPA_PLATFORM", "QT_QPA_PLATFORMTHEME"})
        m_environment.remove(QString::fromLatin1(name));
    m_environment.insert(QStringLiteral("XDG_RUNTIME_DIR"),
                         dir.filePath(QStringLiteral("runtime")));
    m_environment.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    m_environment.insert(QStringLiteral("XDG_CACHE_HOME"), dir.filePath(QStringLiteral("cache")));
    m_environment.insert(QStringLiteral("XDG_DATA_HOME"), dir.filePath(QStringLiteral("data")));
    // GTK programs would otherwise start the accessibility bus (at-spi), which outlives them,
    // and write settings through dconf.
    m_environment.insert(QStringLiteral("NO_AT_BRIDGE"), QStringLiteral("1"));
    m_environment.insert(QStringLiteral("GSETTINGS_BACKEND"), QStringLiteral("memory"));
    m_environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
    if (m_host == TrayHost::XfcePanel)
        m_environment.insert(QStringLiteral("XDG_CURRENT_DESKTOP"), QStringLiteral("XFCE"));

    return startBus() && startXvfb() && startMonitor() && startDunst() &&
           (m_hostStart == TrayHostStart::Later || startTrayHost());
}

bool DesktopSession::startBus()
{
    // The stock session configuration (any name may be owned, services in
    // /usr/share/dbus-1/services are activated) on a socket of our own.
    QProcess &bus = launch(
        QStringLiteral("dbus-daemon"), QStringLiteral("dbus-daemon"),
        {QStringLiteral("--session"), QStringLiteral("--nofork"),
         QStringLiteral("--address=unix:path=") + m_directory.filePath(QStringLiteral("bus")),
         QStringLiteral("--print-address")});
    bus.start();
    const QDeadlineTimer deadline(stepTimeoutMs);
    while (!bus.canReadLine()) {
        if (bus.state() == QProcess::NotRunning || deadline.hasExpired())
            return fail(QStringLiteral("dbus-daemon did not print its address"),
                        &m_children.back());
        bus.waitForReadyRead(100);
    }
    m_busAddress = QString::fromUtf8(bus.readLine().trimmed());
    m_environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_busAddress);
    if (!QDBusConnection::connectToBus(m_busAddress, m_connectionName).isConnected())
        return fail(QStringLiteral("cannot connect to the session's bus at ") + m_busAddress);
    return true;
}

bool DesktopSession::startXvfb()
{
    // -displayfd 1: Xvfb writes the display number to stdout once it accepts clients. A
    // display with a lock file (an X server started without -displayfd) is skipped; one that
    // another Xvfb serves makes ours exit (its sockets are taken) and the next is tried.
    for (int number = 90; number < 130; ++number) {
        if (QFile::exists(QStringLiteral("/tmp/.X%1-lock").arg(number)))
            continue;
        QProcess &xvfb =
            launch(QStringLiteral("Xvfb"), QStringLiteral("Xvfb"),
                   {QStringLiteral(":%1").arg(number), QStringLiteral("-displayfd"),
                    QStringLiteral("1"), QStringLiteral("-nolisten"), QStringLiteral("tcp"),
                    QStringLiteral("-screen"), QStringLiteral("0"), QStringLiteral("1280x800x24")});
        xvfb.start();
        const QDeadlineTimer deadline(stepTimeoutMs);
        while (!xvfb.canReadLine() && xvfb.state() != QProcess::NotRunning &&
               !deadline.hasExpired())
            xvfb.waitForReadyRead(100);
        if (xvfb.canReadLine()) {
            m_display = QStringLiteral(":") + QString::fromUtf8(xvfb.readLine().trimmed());
            m_environment.insert(QStringLiteral("DISPLAY"), m_display);
            // Programs the bus starts later (xfconfd, say) see the display too.
            auto update = QDBusMessage::createMethodCall(
                QStringLiteral("org.freedesktop.DBus"), QStringLiteral("/org/freedesktop/DBus"),
                QStringLiteral("org.freedesktop.DBus"),
                QStringLiteral("UpdateActivationEnvironment"));
            qDBusRegisterMetaType<QMap<QString, QString>>(); // a{ss}
            update << QVariant::fromValue(
                QMap<QString, QString>{{QStringLiteral("DISPLAY"), m_display}});
            QDBusConnection(m_connectionName).call(update, QDBus::Block, stepTimeoutMs);
            return true;
        }
        if (deadline.hasExpired())
            return fail(QStringLiteral("Xvfb :%1 did not start in time").arg(number),
                        &m_children.back());
        xvfb.waitForFinished();
        m_children.pop_back();
    }
    return fail(QStringLiteral("no free X display between :90 and :129"));
}

bool DesktopSession::startMonitor()
{
    // Started before the notification daemon so that no Notify call is missed. The match rule
    // is given to BecomeMonitor: only those calls reach the monitor.
    QProcess &monitor =
        launch(QStringLiteral("dbus-monitor"), QStringLiteral("dbus-monitor"),
               {QStringLiteral("--address"), m_busAddress,
                QStringLiteral("type='method_call',interface='org.freedesktop.Notifications',"
                               "member='Notify'")});
    monitor.start();
    // dbus-monitor prints the NameLost of its unique name once it has become a monitor.
    const QDeadlineTimer deadline(stepTimeoutMs);
    while (!m_monitorOutput.contains("member=NameLost")) {
        if (monitor.state() == QProcess::NotRunning || deadline.hasExpired())
            return fail(QStringLiteral("dbus-monitor did not become a monitor"),
                        &m_children.back());
        monitor.waitForReadyRead(100);
        m_monitorOutput += monitor.readAllStandardOutput();
    }
    return true;
}

bool DesktopSession::waitForBusName(const QString &name, const Child &child)
{
    QDBusConnection bus(m_connectionName);
    const QDeadlineTimer deadline(stepTimeoutMs);
    while (!bus.interface()->isServiceRegistered(name)) {
        if (child.process->state() == QProcess::NotRunning || deadline.hasExpired())
            return false;
        QTest::qWait(50);
    }
    return true;
}

bool DesktopSession::startDunst()
{
    const QString config = m_directory.filePath(QStringLiteral("dunstrc"));
    if (!writeFile(config, dunstConfig))
        return fail(QStringLiteral("cannot write ") + config);
    QProcess &dunst = launch(QStringLiteral("dunst"), QStringLiteral("dunst"),
                             {QStringLiteral("-config"), config});
    dunst.start();
    if (!waitForBusName(notificationsService, m_children.back()))
        return fail(QStringLiteral("dunst did not own org.freedesktop.Notifications in 10 s"),
                    &m_children.back());
    return true;
}

bool DesktopSession::startTrayHost()
{
    if (m_display.isEmpty()) {
        m_error = QStringLiteral("startTrayHost: the session is not running");
        return false;
    }
    if (m_host == TrayHost::Trayer) {
        // A strip at the top right as wide as its icons.
        QProcess &trayer = launch(
            QStringLiteral("trayer"), QStringLiteral("trayer"),
            {QStringLiteral("--edge"), QStringLiteral("top"), QStringLiteral("--align"),
             QStringLiteral("right"), QStringLiteral("--widthtype"), QStringLiteral("request"),
             QStringLiteral("--height"), QStringLiteral("28"), QStringLiteral("--iconspacing"),
             QStringLiteral("4"), QStringLiteral("--SetDockType"), QStringLiteral("true")});
        trayer.start();
    } else {
        const QString channels =
            m_directory.filePath(QStringLiteral("config/xfce4/xfconf/xfce-perchannel-xml"));
        QDir().mkpath(channels);
        if (!writeFile(channels + QStringLiteral("/xfce4-panel.xml"), xfcePanelChannel))
            return fail(QStringLiteral("cannot write the panel's xfconf channel"));
        // xfconfd is started here rather than activated by the bus: a child of the bus daemon
        // would be left to init when the bus ends, and a container's init may not reap it.
        QProcess &xfconfd = launch(QStringLiteral("xfconfd"), xfconfdPath(), {});
        xfconfd.start();
        if (!waitForBusName(QStringLiteral("org.xfce.Xfconf"), m_children.back()))
            return fail(QStringLiteral("xfconfd did not own org.xfce.Xfconf in 10 s"),
                        &m_children.back());
        // No window manager runs: the panel would otherwise wait for one.
        QProcess &panel = launch(QStringLiteral("xfce4-panel"), QStringLiteral("xfce4-panel"),
                                 {QStringLiteral("--disable-wm-check")});
        panel.start();
    }
    const Child &host = m_children.back();
    const QDeadlineTimer deadline(stepTimeoutMs);
    while (!trayAvailable()) {
        if (host.process->state() == QProcess::NotRunning || deadline.hasExpired())
            return fail(QStringLiteral("%1 did not serve a tray in 10 s").arg(host.name), &host);
        QTest::qWait(50);
    }
    return true;
}

bool DesktopSession::trayAvailable()
{
    if (m_display.isEmpty() || !xembedTrayOwned(m_display))
        return false;
    return m_host == TrayHost::Trayer ||
           QDBusConnection(m_connectionName).interface()->isServiceRegistered(watcherService);
}

void DesktopSession::stop()
{
    if (!m_connectionName.isEmpty())
        QDBusConnection::disconnectFromBus(m_connectionName);
    // Reverse order: the tray host and dunst leave the display and the bus before they go.
    while (!m_children.empty()) {
        QProcess &process = *m_children.back().process;
        if (process.state() != QProcess::NotRunning) {
            process.terminate();
            if (!process.waitForFinished(5000)) {
                process.kill();
                process.waitForFinished();
            }
        }
        m_children.pop_back();
    }
    m_busAddress.clear();
    m_display.clear();
}

QList<qint64> DesktopSession::processIds() const
{
    QList<qint64> ids;
    for (const Child &child : m_children)
        ids.append(child.process->processId());
    return ids;
}

namespace {

// Whether the X server took every one of these checked requests.
template <std::size_t count>
bool allTaken(xcb_connection_t *connection, const xcb_void_cookie_t (&cookies)[count])
{
    bool taken = true;
    for (const auto cookie : cookies) {
        xcb_generic_error_t *failure = xcb_request_check(connection, cookie);
        taken = taken && !failure;
        free(failure);
    }
    return taken;
}

} // namespace

bool DesktopSession::click(QPoint at, int button)
{
    xcb_connection_t *connection = xcb_connect(m_display.toLocal8Bit().constData(), nullptr);
    bool done = false;
    if (!m_display.isEmpty() && !xcb_connection_has_error(connection)) {
        const xcb_window_t root = xcb_setup_roots_iterator(xcb_get_setup(connection)).data->root;
        const auto x = static_cast<int16_t>(at.x());
        const auto y = static_cast<int16_t>(at.y());
        const auto detail = static_cast<uint8_t>(button);
        const xcb_void_cookie_t cookies[] = {
            xcb_test_fake_input_checked(connection, XCB_MOTION_NOTIFY, 0, XCB_CURRENT_TIME, root, x,
                                        y, 0),
            xcb_test_fake_input_checked(connection, XCB_BUTTON_PRESS, detail, XCB_CURRENT_TIME,
                                        XCB_NONE, 0, 0, 0),
            xcb_test_fake_input_checked(connection, XCB_BUTTON_RELEASE, detail, XCB_CURRENT_TIME,
                                        XCB_NONE, 0, 0, 0),
        };
        done = allTaken(connection, cookies);
    }
    xcb_disconnect(connection);
    if (!done)
        m_error = QStringLiteral("click: the X server on %1 did not take it").arg(m_display);
    return done;
}

bool DesktopSession::pressKey(unsigned keysym)
{
    xcb_connection_t *connection = xcb_connect(m_display.toLocal8Bit().constData(), nullptr);
    bool done = false;
    if (!m_display.isEmpty() && !xcb_connection_has_error(connection)) {
        // The keycode that carries keysym in the server's keyboard map.
        const xcb_setup_t *setup = xcb_get_setup(connection);
        const int count = setup->max_keycode - setup->min_keycode + 1;
        xcb_get_keyboard_mapping_reply_t *mapping = xcb_get_keyboard_mapping_reply(
            connection, xcb_get_keyboard_mapping(connection, setup->min_keycode, uint8_t(count)),
            nullptr);
        std::optional<uint8_t> keycode;
        if (mapping) {
            const xcb_keysym_t *keysyms = xcb_get_keyboard_mapping_keysyms(mapping);
            const int perKey = mapping->keysyms_per_keycode;
            for (int i = 0; i < count * perKey && !keycode; ++i)
                if (keysyms[i] == keysym)
                    keycode = uint8_t(setup->min_keycode + i / perKey);
            free(mapping);
        }
        if (keycode) {
            const xcb_void_cookie_t cookies[] = {
                xcb_test_fake_input_checked(connection, XCB_KEY_PRESS, *keycode, XCB_CURRENT_TIME,
                                            XCB_NONE, 0, 0, 0),
                xcb_test_fake_input_checked(connection, XCB_KEY_RELEASE, *keycode, XCB_CURRENT_TIME,
                                            XCB_NONE, 0, 0, 0),
            };
            done = allTaken(connection, cookies);
        }
    }
    xcb_disconnect(connection);
    if (!done)
        m_error = QStringLiteral("pressKey: the X server on %1 did not take keysym 0x%2")
                      .arg(m_display)
                      .arg(keysym, 0, 16);
    return done;
}

QImage DesktopSession::grab(const QRect &area)
{
    if (m_display.isEmpty()) {
        m_error = QStringLiteral("screenshot: the session is not running");
        return {};
    }
    // GetImage of the root window: without a compositor the X server answers with what is on
    // screen, every window included. No extra program needed.
    xcb_connection_t *connection = xcb_connect(m_display.toLocal8Bit().constData(), nullptr);
    QImage image;
    if (!xcb_connection_has_error(connection)) {
        const xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(connection)).data;
        const QRect rect =
            (area.isNull() ? QRect(0, 0, screen->width_in_pixels, screen->height_in_pixels) : area)
                .intersected(QRect(0, 0, screen->width_in_pixels, screen->height_in_pixels));
        xcb_get_image_reply_t *reply = xcb_get_image_reply(
            connection,
            xcb_get_image(connection, XCB_IMAGE_FORMAT_Z_PIXMAP, screen->root, int16_t(rect.x()),
                          int16_t(rect.y()), uint16_t(rect.width()), uint16_t(rect.height()), ~0U),
            nullptr);
        // Depth 24 comes as 32 bits per pixel, little-endian BGRX: QImage's RGB32.
        if (reply && reply->depth == 24 &&
            xcb_get_image_data_length(reply) == rect.width() * rect.height() * 4) {
            image =
                QImage(xcb_get_image_data(reply), rect.width(), rect.height(), QImage::Format_RGB32)
                    .copy();
        }
        free(reply);
    }
    xcb_disconnect(connection);
    if (image.isNull())
        m_error = QStringLiteral("screenshot: GetImage of the root window failed on ") + m_display;
    return image;
}

bool DesktopSession::screenshot(const QString &path)
{
    const QImage image = grab();
    if (image.isNull())
        return false;
    QDir().mkpath(QFileInfo(path).absolutePath());
    if (!image.save(path, "PNG")) {
        m_error = QStringLiteral("screenshot: cannot write ") + path;
        return false;
    }
    return true;
}

QList<DesktopSession::Notification> DesktopSession::notifications()
{
    for (Child &child : m_children) {
        if (child.name == QStringLiteral("dbus-monitor")) {
            // The monitor prints each message as soon as the bus routes it to dunst.
            child.process->waitForReadyRead(100);
            m_monitorOutput += child.process->readAllStandardOutput();
        }
    }
    // Blocks start with an unindented header line; Notify's arguments are app_name,
    // replaces_id, app_icon, summary, body, actions, hints, expire_timeout.
    QList<Notification> found;
    QList<QByteArray> block;
    const auto flush = [&] {
        if (!block.isEmpty() && block.first().contains("member=Notify")) {
            const QStringList strings = topLevelStrings(block);
            if (strings.size() >= 4)
                found.append({strings[0], strings[2], strings[3]});
        }
        block.clear();
    };
    for (const QByteArray &line : m_monitorOutput.split('\n')) {
        if (!line.isEmpty() && !line.startsWith(' '))
            flush();
        block.append(line);
    }
    flush();
    return found;
}

int runInSession(DesktopSession &session, const std::function<int()> &suite)
{
    if (const QString missing = DesktopSession::missingPrograms(session.host());
        !missing.isEmpty()) {
        std::fprintf(stderr, "SKIP: the desktop needs %s\n", qPrintable(missing));
        return 0;
    }
    if (!session.start()) {
        std::fprintf(stderr, "FAIL: no desktop: %s\n", qPrintable(session.error()));
        return 1;
    }
    const QProcessEnvironment environment = session.environment();
    for (const QString &key : environment.keys())
        qputenv(key.toLocal8Bit().constData(), environment.value(key).toLocal8Bit());
    const int result = suite();
    session.stop();
    return result;
}

} // namespace vigil::test
