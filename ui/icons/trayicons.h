#pragma once

// The tray's state icons, drawn from the SVGs in this folder (see make_icons.py for their
// design) so that they are crisp at every size a panel asks for.

#include "ui/model/traystate.h"

#include <QIcon>
#include <QImage>
#include <QString>
#include <array>
#include <initializer_list>
#include <vector>

namespace vigil::ui {

// ":/vigil/icons/<state>.svg"
QString trayIconPath(TrayState state);

// The icon rendered at size × size device pixels on a transparent background; a null image when
// the resource cannot be read (it is compiled in, so only a broken build sees that).
QImage renderTrayIcon(TrayState state, int size);

// The icon rendered at each size (device pixels), so that no panel gets a scaled bitmap: panels
// are 16 to 48 pixels high, and twice that on high-density screens.
QIcon trayIcon(TrayState state,
               std::initializer_list<int> sizes = {16, 22, 24, 32, 44, 48, 64, 96});

// Each state's icon rendered once, at its first use, and the same QIcon after that. A new QIcon
// at every change of state kept the images of all earlier ones alive inside Qt: bench_tray saw
// resident memory grow by ~2.6 KB a change without end, and heaptrack held them all.
class TrayIconCache
{
public:
    explicit TrayIconCache(std::initializer_list<int> sizes = {16, 22, 24, 32, 44, 48, 64, 96})
        : m_sizes(sizes)
    {
    }
    const QIcon &icon(TrayState state);

private:
    std::vector<int> m_sizes;
    std::array<QIcon, std::size(allTrayStates)> m_icons;
};

} // namespace vigil::ui
