// The six state icons: each renders at the sizes panels use, and every pair differs in its alpha
// mask (shape, not only colour: what a monochrome panel and a colour-blind user see). The
// renderings are saved under the build directory, on a light and a dark panel, to be looked at.
#include "ui/icons/trayicons.h"

#include <QDir>
#include <QGuiApplication>
#include <QPainter>
#include <QtTest>

using namespace vigil;
using ui::TrayState;

namespace {

constexpr int sizes[] = {16, 22, 24, 32, 48};

// 1 where the pixel is at least half opaque.
QImage alphaMask(const QImage &image)
{
    QImage mask(image.size(), QImage::Format_Grayscale8);
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            mask.setPixel(x, y, qAlpha(image.pixel(x, y)) >= 128 ? 0xffffffff : 0xff000000);
    return mask;
}

int differingPixels(const QImage &a, const QImage &b)
{
    int count = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x)
            count += a.pixel(x, y) != b.pixel(x, y);
    return count;
}

QString screenshots()
{
    return QStringLiteral(VIGIL_BINARY_DIR "/screenshots/icons");
}

} // namespace

class TestTrayIcons : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(QDir().mkpath(screenshots())); }

    void everyStateRenders()
    {
        for (const TrayState state : ui::allTrayStates) {
            for (const int size : sizes) {
                const QImage image = ui::renderTrayIcon(state, size);
                QVERIFY2(!image.isNull(), ui::trayStateName(state));
                QCOMPARE(image.size(), QSize(size, size));
                // Something is drawn, and the corner stays clear.
                int opaque = 0;
                for (int y = 0; y < size; ++y)
                    for (int x = 0; x < size; ++x)
                        opaque += qAlpha(image.pixel(x, y)) >= 128;
                QVERIFY2(opaque > size * size / 8, ui::trayStateName(state));
                QCOMPARE(qAlpha(image.pixel(0, size - 1)), 0);
                QVERIFY(image.save(QStringLiteral("%1/%2-%3.png")
                                       .arg(screenshots(), QLatin1String(ui::trayStateName(state)))
                                       .arg(size)));
            }
        }
    }

    void shapesDifferPairwise()
    {
        for (const int size : sizes) {
            for (const TrayState a : ui::allTrayStates) {
                for (const TrayState b : ui::allTrayStates) {
                    if (a >= b)
                        continue;
                    const int differing = differingPixels(alphaMask(ui::renderTrayIcon(a, size)),
                                                          alphaMask(ui::renderTrayIcon(b, size)));
                    // A few pixels of anti-aliasing would not be a shape a person can tell.
                    QVERIFY2(differing >= size * size / 40,
                             qPrintable(QStringLiteral("%1 and %2 at %3 px: %4 pixels differ")
                                            .arg(QLatin1String(ui::trayStateName(a)),
                                                 QLatin1String(ui::trayStateName(b)))
                                            .arg(size)
                                            .arg(differing)));
                }
            }
        }
    }

    void iconCarriesEverySize()
    {
        const QIcon icon = ui::trayIcon(TrayState::Compliant);
        QVERIFY(!icon.isNull());
        for (const int size : sizes)
            QVERIFY(icon.availableSizes().contains(QSize(size, size)));
    }

    // The tray sets an icon at every change of state: it must be the same QIcon each time.
    void cacheRendersEachStateOnce()
    {
        ui::TrayIconCache cache{16, 32};
        const qint64 compliant = cache.icon(TrayState::Compliant).cacheKey();
        QCOMPARE(cache.icon(TrayState::NonCompliant).availableSizes(),
                 (QList<QSize>{{16, 16}, {32, 32}}));
        QCOMPARE(cache.icon(TrayState::Compliant).cacheKey(), compliant);
        QVERIFY(cache.icon(TrayState::NonCompliant).cacheKey() != compliant);
    }

    // One sheet per panel colour: each state in a row, at each size, magnified 4x without
    // smoothing so that every pixel can be judged.
    void contactSheets()
    {
        const QList<QPair<QString, QColor>> panels = {{QStringLiteral("light"), QColor(0xf0f0f0)},
                                                      {QStringLiteral("dark"), QColor(0x2b2b2b)},
                                                      {QStringLiteral("grey"), QColor(0x808080)}};
        constexpr int zoom = 4;
        constexpr int cell = 52;
        for (const auto &[name, colour] : panels) {
            QImage sheet(cell * zoom * int(std::size(sizes)), cell * zoom * 6,
                         QImage::Format_ARGB32);
            sheet.fill(colour);
            QPainter painter(&sheet);
            int row = 0;
            for (const TrayState state : ui::allTrayStates) {
                int column = 0;
                for (const int size : sizes) {
                    const QImage image = ui::renderTrayIcon(state, size);
                    painter.drawImage(QRect(column * cell * zoom + 8, row * cell * zoom + 8,
                                            size * zoom, size * zoom),
                                      image);
                    ++column;
                }
                ++row;
            }
            painter.end();
            QVERIFY(sheet.save(QStringLiteral("%1/sheet-%2.png").arg(screenshots(), name)));
        }
    }
};

int main(int argc, char **argv)
{
    // The icons need a QGuiApplication, not a display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestTrayIcons test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_trayicons.moc"
