#include "ui/widgets/statuswindow.h"

#include "ui/icons/trayicons.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace vigil::ui {

namespace {

// Empties layout, nested layouts included. The buttons go later: setModel runs while one of them
// may still be in its clicked() signal.
void clear(QLayout *layout)
{
    while (QLayoutItem *item = layout->takeAt(0)) {
        if (QWidget *widget = item->widget()) {
            widget->hide();
            widget->deleteLater();
        }
        if (QLayout *nested = item->layout())
            clear(nested);
        delete item;
    }
}

} // namespace

StatusWindow::StatusWindow(QWidget *parent)
    : QWidget(parent, Qt::Window), m_icon(new QLabel(this)), m_headline(new QLabel(this)),
      m_why(new QLabel(this)), m_entries(new QVBoxLayout)
{
    setWindowTitle(tr("Vigil"));
    QFont bold = m_headline->font();
    bold.setBold(true);
    m_headline->setFont(bold);
    m_headline->setWordWrap(true);
    m_headline->setAccessibleName(tr("State"));
    m_why->setWordWrap(true);
    m_why->setText(tr("This desktop shows no system tray, so Vigil shows its state here. On GNOME, "
                      "the AppIndicator extension adds a tray; Vigil then moves there by "
                      "itself."));
    m_why->setAccessibleName(tr("Why this window"));

    auto *header = new QHBoxLayout;
    header->addWidget(m_icon, 0, Qt::AlignTop);
    header->addWidget(m_headline, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addLayout(m_entries);
    layout->addWidget(m_why);
    setMinimumWidth(380);
}

void StatusWindow::setModel(const TrayMenuModel &model)
{
    const qreal ratio = devicePixelRatioF();
    QPixmap icon =
        QPixmap::fromImage(renderTrayIcon(model.status.state, static_cast<int>(32 * ratio)));
    icon.setDevicePixelRatio(ratio);
    m_icon->setPixmap(icon);
    m_headline->setText(model.status.headline);
    setWindowTitle(model.status.toolTip);

    clear(m_entries);
    auto *buttons = new QHBoxLayout;
    for (const TrayMenuEntry &entry : model.entries) {
        switch (entry.kind) {
        case TrayMenuEntry::Kind::StateLine:
        case TrayMenuEntry::Kind::Separator:
        case TrayMenuEntry::Kind::Quit: // closing the window is the way out here
            continue;
        case TrayMenuEntry::Kind::FailingCheck:
        case TrayMenuEntry::Kind::MoreChecks: {
            auto *button = new QPushButton(entry.text, this);
            button->setFlat(true);
            button->setStyleSheet(QStringLiteral("text-align: left"));
            button->setToolTip(entry.toolTip);
            connect(button, &QPushButton::clicked, this,
                    [this, entry] { Q_EMIT triggered(entry); });
            m_entries->addWidget(button);
            continue;
        }
        default:
            break;
        }
        auto *button = new QPushButton(entry.text, this);
        button->setEnabled(entry.enabled);
        button->setToolTip(entry.toolTip);
        connect(button, &QPushButton::clicked, this, [this, entry] { Q_EMIT triggered(entry); });
        buttons->addWidget(button);
    }
    buttons->addStretch(1);
    m_entries->addLayout(buttons);
}

} // namespace vigil::ui
