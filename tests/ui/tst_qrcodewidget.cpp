// QrCodeWidget: the otpauth URI drawn as a QR code that an independent decoder (zbarimg) reads
// back exactly, from a PNG of the rendered widget at device pixel ratios 1, 1.5 and 2: black and
// white only, each module a whole number of device pixels, with the four-module quiet zone.
#include "ui/mfa/qrcodewidget.h"
#include "zbardecoder.h"

#include <QApplication>
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using vigil::ui::QrCode;
using vigil::ui::QrCodeWidget;

namespace {

const QString uri =
    QStringLiteral("otpauth://totp/Vigil%20Test:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                   "&issuer=Vigil%20Test&algorithm=SHA1&digits=6&period=30");
constexpr QRgb background = 0xff808080; // around the widget's own drawing

QImage render(QrCodeWidget &widget, qreal ratio)
{
    QImage image((QSizeF(widget.size()) * ratio).toSize(), QImage::Format_RGB32);
    image.setDevicePixelRatio(ratio);
    image.fill(background);
    widget.render(&image, QPoint(), QRegion(), QWidget::DrawChildren); // no window background
    return image;
}

} // namespace

class TestQrCodeWidget : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void encodes()
    {
        const auto code = QrCode::encode(uri);
        QVERIFY(code);
        QVERIFY(code->size() >= 21 && (code->size() - 17) % 4 == 0); // a QR version's size
        // The three finder patterns' dark corners.
        QVERIFY(code->dark(0, 0) && code->dark(code->size() - 1, 0) &&
                code->dark(0, code->size() - 1));
        QVERIFY(!QrCode::encode(QString()));
        QVERIFY(!QrCode::encode(QString(4000, QLatin1Char('x')))); // more than version 40 holds
        QrCodeWidget widget;
        QVERIFY(!widget.setText(QString(4000, QLatin1Char('x'))));
        QVERIFY(!widget.hasCode());
    }

    void decodesAtEveryRatio_data()
    {
        QTest::addColumn<qreal>("ratio");
        QTest::addColumn<int>("extra"); // logical pixels more than the size hint, each way
        QTest::newRow("1") << 1.0 << 0;
        QTest::newRow("2") << 2.0 << 0;
        QTest::newRow("1.5") << 1.5 << 0;
        QTest::newRow("2, odd size") << 2.0 << 37;
    }
    void decodesAtEveryRatio()
    {
        QFETCH(qreal, ratio);
        QFETCH(int, extra);
        // scripts/bootstrap.sh installs it: a missing decoder is a failure, not a skip.
        QVERIFY2(vigil::test::haveZbarimg(), "zbarimg is missing (Debian package zbar-tools)");
        QrCodeWidget widget;
        QVERIFY(widget.setText(uri));
        QCOMPARE(widget.text(), uri);
        widget.resize(widget.sizeHint() + QSize(extra, extra));
        const QImage image = render(widget, ratio);
        const auto code = QrCode::encode(uri);
        const int modules = code->size() + 2 * QrCode::quietZone;
        const int module = widget.lastModulePixels();
        QVERIFY(module >= 4);
        QVERIFY(modules * module <= image.width());

        // Black and white in a square of whole modules; the rest is the background.
        QRect drawn;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) {
                const QRgb pixel = image.pixel(x, y);
                QVERIFY2(pixel == background || pixel == qRgb(0, 0, 0) ||
                             pixel == qRgb(255, 255, 255),
                         qPrintable(
                             QStringLiteral("pixel %1 at %2,%3").arg(pixel, 8, 16).arg(x).arg(y)));
                if (pixel != background)
                    drawn |= QRect(x, y, 1, 1);
            }
        QCOMPARE(drawn.size(), QSize(modules * module, modules * module));
        // Each module one colour, as the code has it; the quiet zone white.
        for (int my = 0; my < modules; ++my)
            for (int mx = 0; mx < modules; ++mx) {
                const int cx = mx - QrCode::quietZone;
                const int cy = my - QrCode::quietZone;
                const bool dark = cx >= 0 && cy >= 0 && cx < code->size() && cy < code->size() &&
                                  code->dark(cx, cy);
                const QRgb want = dark ? qRgb(0, 0, 0) : qRgb(255, 255, 255);
                for (int dy = 0; dy < module; ++dy)
                    for (int dx = 0; dx < module; ++dx)
                        if (image.pixel(drawn.x() + mx * module + dx,
                                        drawn.y() + my * module + dy) != want)
                            QFAIL(qPrintable(QStringLiteral("module %1,%2 is not %3")
                                                 .arg(mx)
                                                 .arg(my)
                                                 .arg(QLatin1String(dark ? "dark" : "light"))));
            }

        QTemporaryDir directory;
        const QString png = directory.filePath(QStringLiteral("qr.png"));
        QVERIFY(image.save(png));
        const QString kept = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/ui");
        QDir().mkpath(kept);
        image.save(kept + QStringLiteral("/qrcode-%1.png")
                              .arg(QString::fromLatin1(QTest::currentDataTag()))
                              .replace(QLatin1Char(' '), QLatin1Char('_'))
                              .remove(QLatin1Char(',')));
        const auto decoded = vigil::test::decodeQr(png);
        QVERIFY2(decoded.ran, qPrintable(decoded.error));
        QCOMPARE(decoded.text, uri);
    }

    void emptyTextDrawsNothing()
    {
        QrCodeWidget widget;
        QVERIFY(widget.setText(uri));
        QVERIFY(widget.setText(QString()));
        QVERIFY(!widget.hasCode());
        widget.resize(200, 200);
        const QImage image = render(widget, 1.0);
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                QCOMPARE(image.pixel(x, y), background);
    }
};

QTEST_MAIN(TestQrCodeWidget)
#include "tst_qrcodewidget.moc"
