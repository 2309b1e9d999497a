#pragma once

// The tray's stand-in when the desktop has no system tray (GNOME without the AppIndicator
// extension, a kiosk session): a small window with the state icon and line, why it is there
// instead of an icon, and the menu's actions as buttons.

#include "ui/model/traymenumodel.h"

#include <QWidget>

class QLabel;
class QVBoxLayout;

namespace vigil::ui {

class StatusWindow : public QWidget
{
    Q_OBJECT

public:
    explicit StatusWindow(QWidget *parent = nullptr);

    // The same model the tray menu is built from: the state line, the failing checks and the
    // actions, as buttons.
    void setModel(const TrayMenuModel &model);

Q_SIGNALS:
    void triggered(const vigil::ui::TrayMenuEntry &entry);

private:
    QLabel *m_icon;
    QLabel *m_headline;
    QLabel *m_why;
    QVBoxLayout *m_entries;
};

} // namespace vigil::ui
