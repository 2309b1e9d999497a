#include "ui/desktop/trayhostwatcher.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusServiceWatcher>
#include <QDBusVariant>
#include <QLoggingCategory>
#include <QSocketNotifier>
#include <cstdlib>
#include <memory>
#include <xcb/xcb.h>

namespace vigil::ui {

namespace {

Q_LOGGING_CATEGORY(lcTrayHost, "vigil.tray.host")

const QString watcherService = QStringLiteral("org.kde.StatusNotifierWatcher");
const QString watcherPath = QStringLiteral("/StatusNotifierWatcher");
// A host may register with a watcher that was already there, or leave it.
constexpr const char *hostSignals[] = {"StatusNotifierHostRegistered",
                                       "StatusNotifierHostUnregistered"};

struct FreeDeleter
{
    void operator()(void *pointer) const { std::free(pointer); }
};
template <typename T> using XcbReply = std::unique_ptr<T, FreeDeleter>;

std::uint32_t internAtom(xcb_connection_t *connection, const QByteArray &name)
{
    const XcbReply<xcb_intern_atom_reply_t> reply(xcb_intern_atom_reply(
        connection, xcb_intern_atom(connection, 0, static_cast<uint16_t>(name.size()), name.data()),
        nullptr));
    return reply ? reply->atom : std::uint32_t(XCB_ATOM_NONE);
}

} // namespace

TrayHostWatcher::TrayHostWatcher(TrayHostWatcherTimings timings, QObject *parent)
    : TrayHostWatcher(QDBusConnection::sessionBus(), QString(), timings, parent)
{
}

TrayHostWatcher::TrayHostWatcher(const QDBusConnection &bus, const QString &display,
                                 TrayHostWatcherTimings timings, QObject *parent)
    : QObject(parent), m_bus(bus), m_display(display), m_timings(timings)
{
    m_giveUpTimer.setSingleShot(true);
    m_giveUpTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_giveUpTimer, &QTimer::timeout, this, [this] {
        if (isAvailable() || m_gaveUp)
            return;
        m_gaveUp = true;
        qCInfo(lcTrayHost) << "no system tray after" << m_timings.giveUpAfter.count() << "ms";
        Q_EMIT gaveUp();
    });
}

TrayHostWatcher::~TrayHostWatcher()
{
    if (m_started && m_bus.isConnected()) {
        for (const char *signal : hostSignals) {
            m_bus.disconnect(watcherService, watcherPath, watcherService,
                             QString::fromLatin1(signal), this, SLOT(queryStatusNotifierHost()));
        }
    }
    stopXEmbed();
}

void TrayHostWatcher::start()
{
    if (m_started)
        return;
    m_started = true;
    m_giveUpTimer.start(m_timings.giveUpAfter);
    startStatusNotifier();
    startXEmbed();
}

void TrayHostWatcher::startStatusNotifier()
{
    if (!m_bus.isConnected()) {
        qCInfo(lcTrayHost) << "no session bus: only an XEmbed tray can be found";
        return;
    }
    auto *services = new QDBusServiceWatcher(watcherService, m_bus,
                                             QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(services, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString &, const QString &, const QString &newOwner) {
                if (!newOwner.isEmpty()) {
                    queryStatusNotifierHost();
                    return;
                }
                ++m_hostGeneration;
                update(false, m_xembedTray);
            });
    for (const char *signal : hostSignals) {
        m_bus.connect(watcherService, watcherPath, watcherService, QString::fromLatin1(signal),
                      this, SLOT(queryStatusNotifierHost()));
    }
    queryStatusNotifierHost();
}

void TrayHostWatcher::queryStatusNotifierHost()
{
    auto get = QDBusMessage::createMethodCall(watcherService, watcherPath,
                                              QStringLiteral("org.freedesktop.DBus.Properties"),
                                              QStringLiteral("Get"));
    get << watcherService << QStringLiteral("IsStatusNotifierHostRegistered");
    // Asking must not start a watcher that the bus could activate: only a running one counts.
    get.setAutoStartService(false);
    const quint64 generation = ++m_hostGeneration;
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(get), this);
    connect(
        watcher, &QDBusPendingCallWatcher::finished, this,
        [this, generation](QDBusPendingCallWatcher *call) { onHostProperty(call, generation); });
}

void TrayHostWatcher::onHostProperty(QDBusPendingCallWatcher *watcher, quint64 generation)
{
    watcher->deleteLater();
    if (generation != m_hostGeneration)
        return;
    const QDBusPendingReply<QDBusVariant> reply = *watcher;
    // No watcher on the bus is an error here, and means no host.
    update(!reply.isError() && reply.value().variant().toBool(), m_xembedTray);
}

void TrayHostWatcher::startXEmbed()
{
    int screen = 0;
    m_connection =
        xcb_connect(m_display.isEmpty() ? nullptr : m_display.toLocal8Bit().constData(), &screen);
    if (xcb_connection_has_error(m_connection)) {
        qCInfo(lcTrayHost).noquote()
            << "no X display" << m_display << "to look for an XEmbed tray on";
        stopXEmbed();
        return;
    }
    xcb_screen_iterator_t roots = xcb_setup_roots_iterator(xcb_get_setup(m_connection));
    for (int i = 0; i < screen && roots.rem > 0; ++i)
        xcb_screen_next(&roots);
    if (roots.rem == 0) {
        stopXEmbed();
        return;
    }
    const xcb_window_t root = roots.data->root;
    m_selectionAtom = internAtom(m_connection, "_NET_SYSTEM_TRAY_S" + QByteArray::number(screen));
    m_managerAtom = internAtom(m_connection, "MANAGER");
    // A new tray announces itself to StructureNotify on the root window. Selected before the
    // owner is read, so that a tray starting in between is not missed.
    const std::uint32_t mask = XCB_EVENT_MASK_STRUCTURE_NOTIFY;
    xcb_change_window_attributes(m_connection, root, XCB_CW_EVENT_MASK, &mask);
    m_xNotifier =
        new QSocketNotifier(xcb_get_file_descriptor(m_connection), QSocketNotifier::Read, this);
    connect(m_xNotifier, &QSocketNotifier::activated, this, &TrayHostWatcher::readXEvents);
    queryTrayOwner();
    readXEvents();
}

void TrayHostWatcher::stopXEmbed()
{
    delete m_xNotifier;
    m_xNotifier = nullptr;
    if (m_connection)
        xcb_disconnect(m_connection);
    m_connection = nullptr;
    m_trayOwner = XCB_WINDOW_NONE;
}

void TrayHostWatcher::queryTrayOwner()
{
    // The owner's window is watched for its DestroyNotify. It may be destroyed before that is
    // selected; the selection then has another owner or none, so it is read again until the
    // owner read after selecting is the one selected on.
    xcb_window_t owner = XCB_WINDOW_NONE;
    for (int attempt = 0; attempt < 3; ++attempt) {
        const XcbReply<xcb_get_selection_owner_reply_t> reply(xcb_get_selection_owner_reply(
            m_connection, xcb_get_selection_owner(m_connection, m_selectionAtom), nullptr));
        const xcb_window_t current = reply ? reply->owner : xcb_window_t(XCB_WINDOW_NONE);
        if (current == owner)
            break;
        owner = current;
        if (owner == XCB_WINDOW_NONE)
            break;
        const std::uint32_t mask = XCB_EVENT_MASK_STRUCTURE_NOTIFY;
        xcb_change_window_attributes(m_connection, owner, XCB_CW_EVENT_MASK, &mask);
    }
    xcb_flush(m_connection);
    m_trayOwner = owner;
    update(m_statusNotifierHost, owner != XCB_WINDOW_NONE);
}

void TrayHostWatcher::readXEvents()
{
    // Waiting for a reply also queues events, so the queue is drained after every query too.
    while (m_connection) {
        const XcbReply<xcb_generic_event_t> event(xcb_poll_for_event(m_connection));
        if (!event)
            break;
        switch (event->response_type & ~0x80) {
        case XCB_CLIENT_MESSAGE: {
            const auto *message = reinterpret_cast<const xcb_client_message_event_t *>(event.get());
            if (message->type == m_managerAtom && message->format == 32 &&
                message->data.data32[1] == m_selectionAtom)
                queryTrayOwner();
            break;
        }
        case XCB_DESTROY_NOTIFY:
            if (reinterpret_cast<const xcb_destroy_notify_event_t *>(event.get())->window ==
                m_trayOwner)
                queryTrayOwner();
            break;
        default: // errors (a window gone before it was selected on) and other notifications
            break;
        }
    }
    if (m_connection && xcb_connection_has_error(m_connection)) {
        qCWarning(lcTrayHost) << "lost the connection to the X server" << m_display;
        stopXEmbed();
        update(m_statusNotifierHost, false);
    }
}

void TrayHostWatcher::update(bool statusNotifierHost, bool xembedTray)
{
    const bool wasAvailable = isAvailable();
    if (statusNotifierHost != m_statusNotifierHost || xembedTray != m_xembedTray) {
        qCInfo(lcTrayHost) << "StatusNotifierItem host:" << statusNotifierHost
                           << "XEmbed tray:" << xembedTray;
    }
    m_statusNotifierHost = statusNotifierHost;
    m_xembedTray = xembedTray;
    if (isAvailable() == wasAvailable)
        return;
    if (isAvailable())
        m_giveUpTimer.stop();
    else if (!m_gaveUp)
        m_giveUpTimer.start(m_timings.giveUpAfter);
    Q_EMIT availableChanged(isAvailable());
}

} // namespace vigil::ui
