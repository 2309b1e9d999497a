#include "ui/mfa/qrcodewidget.h"

#include <QPaintEngine>
#include <QPaintEvent>
#include <QPainter>
#include <cmath>
#include <memory>
#include <qrencode.h>

namespace vigil::ui {

namespace {

// Device pixels per module that a camera reads easily and that a dialog still fits: the
// widget asks for this much and draws at most at the size it is given.
constexpr int preferredModulePixels = 4;
constexpr int minimumModulePixels = 2;

} // namespace

std::optional<QrCode> QrCode::encode(const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    if (bytes.isEmpty())
        return std::nullopt;
    const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeData(int(bytes.size()),
                          reinterpret_cast<const unsigned char *>(bytes.constData()), 0,
                          QR_ECLEVEL_M),
        &QRcode_free);
    if (!code)
        return std::nullopt;
    QrCode result;
    result.m_size = code->width;
    result.m_modules.resize(std::size_t(code->width) * std::size_t(code->width));
    for (std::size_t i = 0; i < result.m_modules.size(); ++i)
        result.m_modules[i] = (code->data[i] & 1) != 0; // bit 0: dark; the rest is how it was made
    return result;
}

QImage QrCode::image(int modulePixels) const
{
    const int side = (m_size + 2 * quietZone) * modulePixels;
    QImage image(side, side, QImage::Format_RGB32);
    image.fill(Qt::white);
    for (int y = 0; y < m_size; ++y)
        for (int x = 0; x < m_size; ++x)
            if (dark(x, y))
                for (int dy = 0; dy < modulePixels; ++dy) {
                    auto *line = reinterpret_cast<QRgb *>(
                        image.scanLine((y + quietZone) * modulePixels + dy));
                    for (int dx = 0; dx < modulePixels; ++dx)
                        line[(x + quietZone) * modulePixels + dx] = qRgb(0, 0, 0);
                }
    return image;
}

QrCodeWidget::QrCodeWidget(QWidget *parent) : QWidget(parent)
{
    setAccessibleName(tr("QR code"));
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

bool QrCodeWidget::setText(const QString &text)
{
    m_text = text;
    m_code = text.isEmpty() ? std::nullopt : QrCode::encode(text);
    updateGeometry();
    update();
    return text.isEmpty() || m_code.has_value();
}

QSize QrCodeWidget::sizeHint() const
{
    // In logical pixels, rounded up, so that the preferred module size fits at any ratio.
    const int modules = (m_code ? m_code->size() : 29) + 2 * QrCode::quietZone;
    const int side = modules * preferredModulePixels;
    return {side, side};
}

QSize QrCodeWidget::minimumSizeHint() const
{
    const int modules = (m_code ? m_code->size() : 29) + 2 * QrCode::quietZone;
    return {modules * minimumModulePixels, modules * minimumModulePixels};
}

void QrCodeWidget::paintEvent(QPaintEvent *)
{
    if (!m_code)
        return;
    QPainter painter(this);
    // Whole device pixels per module: at a ratio of 1.5 a logical pixel is no whole number of
    // device pixels, so the symbol is made in device pixels and drawn unscaled.
    // The engine's device is where the pixels go (the backing store, or the image of a render()).
    const QPaintDevice *target =
        painter.paintEngine() ? painter.paintEngine()->paintDevice() : painter.device();
    const qreal ratio = target->devicePixelRatioF();
    const int modules = m_code->size() + 2 * QrCode::quietZone;
    const int available = int(std::floor(qreal(std::min(width(), height())) * ratio));
    const int modulePixels = std::max(1, available / modules);
    m_lastModulePixels = modulePixels;
    QImage image = m_code->image(modulePixels);
    image.setDevicePixelRatio(ratio);
    const QSizeF logical = QSizeF(image.size()) / ratio;
    // Centred on a whole device pixel, so that no module straddles two.
    const qreal left = std::floor((qreal(width()) - logical.width()) / 2 * ratio) / ratio;
    const qreal top = std::floor((qreal(height()) - logical.height()) / 2 * ratio) / ratio;
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.drawImage(QPointF(left, top), image);
}

} // namespace vigil::ui
