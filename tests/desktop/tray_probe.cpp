// A stand-in for vigil-tray in tst_desktopsession: shows a QSystemTrayIcon with a generated
// 22 px icon (solid magenta, easy to find in a screenshot), sends one notification through
// org.freedesktop.Notifications, prints "ready" and waits to be terminated.
//   tray_probe SUMMARY BODY
#include <QApplication>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QPainter>
#include <QPixmap>
#include <QSystemTrayIcon>
#include <QTimer>
#include <cstdio>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const QStringList arguments = app.arguments();
    if (arguments.size() != 3) {
        std::fprintf(stderr, "usage: tray_probe SUMMARY BODY\n");
        return 2;
    }
    QPixmap pixmap(22, 22);
    pixmap.fill(QColor(255, 0, 255));
    QSystemTrayIcon tray{QIcon(pixmap)};
    tray.setToolTip(QStringLiteral("tray_probe"));
    tray.show();

    auto notify = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.Notifications"),
                                                 QStringLiteral("/org/freedesktop/Notifications"),
                                                 QStringLiteral("org.freedesktop.Notifications"),
                                                 QStringLiteral("Notify"));
    notify << QStringLiteral("tray_probe") << 0U << QString() << arguments[1] << arguments[2]
           << QStringList() << QVariantMap() << -1;
    const QDBusMessage reply = QDBusConnection::sessionBus().call(notify, QDBus::Block, 10000);
    if (reply.type() != QDBusMessage::ReplyMessage) {
        std::fprintf(stderr, "tray_probe: Notify failed: %s\n", qPrintable(reply.errorMessage()));
        return 1;
    }
    // Once the event loop has run, the tray icon's window has been mapped and docked.
    QTimer::singleShot(200, [&tray] {
        std::printf("ready %s\n", tray.isVisible() ? "visible" : "hidden");
        std::fflush(stdout);
    });
    return app.exec();
}
