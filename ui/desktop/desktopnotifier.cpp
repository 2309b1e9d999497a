#include "ui/desktop/desktopnotifier.h"

#include "ui/icons/trayicons.h"

#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QImage>
#include <QLoggingCategory>
#include <QVariantMap>
#include <utility>

namespace vigil::ui {

namespace {

Q_LOGGING_CATEGORY(lcNotify, "vigil.tray.notify")

const QString service = QStringLiteral("org.freedesktop.Notifications");
const QString path = QStringLiteral("/org/freedesktop/Notifications");
constexpr int iconSize = 64;

QDBusMessage notificationsCall(const QString &method)
{
    return QDBusMessage::createMethodCall(service, path, service, method);
}

// The spec's image-data hint, (iiibiiay): width, height, row stride, alpha, bits per sample,
// channels, RGBA bytes.
QDBusArgument imageData(const QImage &icon)
{
    const QImage image = icon.convertToFormat(QImage::Format_RGBA8888);
    QDBusArgument argument;
    argument.beginStructure();
    argument << image.width() << image.height() << static_cast<int>(image.bytesPerLine()) << true
             << 8 << 4
             << QByteArray(reinterpret_cast<const char *>(image.constBits()),
                           static_cast<qsizetype>(image.sizeInBytes()));
    argument.endStructure();
    return argument;
}

} // namespace

DesktopNotifier::DesktopNotifier(QObject *parent)
    : DesktopNotifier(QDBusConnection::sessionBus(), parent)
{
}

DesktopNotifier::DesktopNotifier(const QDBusConnection &bus, QObject *parent)
    : QObject(parent), m_bus(bus)
{
    if (!m_bus.isConnected())
        return;
    auto *watcher = new QDBusPendingCallWatcher(
        m_bus.asyncCall(notificationsCall(QStringLiteral("GetCapabilities")),
                        static_cast<int>(m_callTimeout.count())),
        this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, &DesktopNotifier::onCapabilities);
}

// The watchers are children: a reply that arrives later finds nobody to call.
DesktopNotifier::~DesktopNotifier() = default;

void DesktopNotifier::send(const DesktopNotification &notification)
{
    if (m_inFlight) {
        m_queued = notification;
        return;
    }
    call(notification);
}

void DesktopNotifier::call(const DesktopNotification &notification)
{
    if (!m_bus.isConnected()) {
        const QString message = QStringLiteral("no session bus: ") + m_bus.lastError().message();
        warnOnce(message);
        Q_EMIT failed(message);
        return;
    }
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"),
                 QVariant::fromValue(static_cast<uchar>(notification.urgency)));
    const QImage icon = renderTrayIcon(
        notification.icon.value_or(notificationIconState(notification.kind)), iconSize);
    if (!icon.isNull())
        hints.insert(QStringLiteral("image-data"), QVariant::fromValue(imageData(icon)));

    QDBusMessage message = notificationsCall(QStringLiteral("Notify"));
    message << QStringLiteral("Vigil") << m_lastId << QString() << notification.summary
            << (m_bodyMarkup ? notification.body.toHtmlEscaped() : notification.body)
            << QStringList() << hints << -1;
    m_inFlight = true;
    auto *watcher = new QDBusPendingCallWatcher(
        m_bus.asyncCall(message, static_cast<int>(m_callTimeout.count())), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, &DesktopNotifier::onReply);
}

void DesktopNotifier::onReply(QDBusPendingCallWatcher *watcher)
{
    watcher->deleteLater();
    m_inFlight = false;
    const QDBusPendingReply<uint> reply = *watcher;
    if (reply.isError()) {
        const QString message =
            reply.error().name() + QStringLiteral(": ") + reply.error().message();
        warnOnce(message);
        Q_EMIT failed(message);
    } else {
        m_warned = false; // the daemon is back: the next outage is worth a warning again
        m_lastId = reply.value();
        Q_EMIT shown(m_lastId);
    }
    if (m_queued) {
        const DesktopNotification next = *std::exchange(m_queued, std::nullopt);
        call(next);
    }
}

void DesktopNotifier::onCapabilities(QDBusPendingCallWatcher *watcher)
{
    watcher->deleteLater();
    const QDBusPendingReply<QStringList> reply = *watcher;
    if (!reply.isError())
        m_bodyMarkup = reply.value().contains(QStringLiteral("body-markup"));
}

void DesktopNotifier::warnOnce(const QString &message)
{
    if (m_warned)
        return;
    m_warned = true;
    qCWarning(lcNotify).noquote() << "desktop notifications cannot be shown:" << message;
}

} // namespace vigil::ui
