#include "ui/icons/trayicons.h"

#include <QPainter>
#include <QPixmap>
#include <QSvgRenderer>

// The resource lives in a static library: it is registered on first use, outside any namespace
// as Q_INIT_RESOURCE requires.
static void initTrayIconResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(icons);
        return true;
    }();
    (void)done;
}

namespace vigil::ui {

QString trayIconPath(TrayState state)
{
    return QStringLiteral(":/vigil/icons/%1.svg").arg(QLatin1String(trayStateName(state)));
}

QImage renderTrayIcon(TrayState state, int size)
{
    initTrayIconResources();
    QSvgRenderer renderer(trayIconPath(state));
    if (!renderer.isValid())
        return {};
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    renderer.render(&painter, QRectF(0, 0, size, size));
    painter.end();
    return image;
}

namespace {

template <typename Sizes> QIcon renderedIcon(TrayState state, const Sizes &sizes)
{
    QIcon icon;
    for (const int size : sizes)
        icon.addPixmap(QPixmap::fromImage(renderTrayIcon(state, size)));
    return icon;
}

} // namespace

QIcon trayIcon(TrayState state, std::initializer_list<int> sizes)
{
    return renderedIcon(state, sizes);
}

const QIcon &TrayIconCache::icon(TrayState state)
{
    QIcon &icon = m_icons.at(static_cast<size_t>(state));
    if (icon.isNull())
        icon = renderedIcon(state, m_sizes);
    return icon;
}

} // namespace vigil::ui
