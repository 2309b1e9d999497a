#include "ui/widgets/detailswindow.h"

#include "ui/icons/trayicons.h"
#include "ui/model/statusdetails.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSysInfo>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace vigil::ui {

namespace {

constexpr int idRole = Qt::UserRole;
constexpr int textRole = Qt::UserRole + 1;

QLabel *wrappingLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    return label;
}

} // namespace

DetailsWindow::DetailsWindow(const Clock &clock, QWidget *parent)
    : QWidget(parent, Qt::Window), m_clock(clock), m_icon(new QLabel(this)),
      m_headline(new QLabel(this)), m_reason(wrappingLabel(this)), m_verdictTime(new QLabel(this)),
      m_checks(new QTreeWidget(this)), m_checkText(wrappingLabel(this)), m_facts(new QFormLayout),
      m_checkNow(new QPushButton(tr("Check &now"), this)),
      m_copy(new QPushButton(tr("&Copy for helpdesk"), this)), m_note(wrappingLabel(this))
{
    setWindowTitle(tr("Vigil: device details"));
    setWindowIcon(trayIcon(TrayState::Compliant));

    QFont headlineFont = m_headline->font();
    headlineFont.setPointSizeF(headlineFont.pointSizeF() * 1.3);
    headlineFont.setBold(true);
    m_headline->setFont(headlineFont);
    m_headline->setWordWrap(true);
    m_headline->setAccessibleName(tr("State"));
    m_reason->setAccessibleName(tr("Reason"));
    m_icon->setAccessibleName(tr("State icon"));
    m_verdictTime->setAccessibleName(tr("Verdict"));

    m_checks->setColumnCount(3);
    m_checks->setHeaderLabels({tr("Check"), tr("Result"), tr("What was found")});
    m_checks->setRootIsDecorated(false);
    m_checks->setUniformRowHeights(true);
    m_checks->setAllColumnsShowFocus(true);
    m_checks->setAccessibleName(tr("Checks"));
    m_checks->setAccessibleDescription(tr("Every check of the last verdict; select one to see "
                                          "what to do"));
    m_checks->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_checks->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_checks->header()->setStretchLastSection(true);
    m_checks->setMinimumHeight(200);
    connect(m_checks, &QTreeWidget::currentItemChanged, this, &DetailsWindow::showSelected);

    m_checkText->setAccessibleName(tr("What to do"));
    m_checkText->setMinimumHeight(m_checkText->fontMetrics().lineSpacing() * 4);
    m_checkText->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_checkText->setFrameShape(QFrame::StyledPanel);
    m_checkText->setMargin(6);

    m_note->setAccessibleName(tr("Last action"));

    auto *header = new QHBoxLayout;
    header->addWidget(m_icon, 0, Qt::AlignTop);
    auto *headerText = new QVBoxLayout;
    headerText->addWidget(m_headline);
    headerText->addWidget(m_reason);
    header->addLayout(headerText, 1);

    auto *buttons = new QDialogButtonBox(this);
    buttons->addButton(m_checkNow, QDialogButtonBox::ActionRole);
    buttons->addButton(m_copy, QDialogButtonBox::ActionRole);
    buttons->addButton(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QWidget::close);
    connect(m_checkNow, &QPushButton::clicked, this, &DetailsWindow::checkNowRequested);
    connect(m_copy, &QPushButton::clicked, this, &DetailsWindow::copyForHelpdesk);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_verdictTime);
    layout->addWidget(m_checks, 1);
    layout->addWidget(m_checkText);
    layout->addLayout(m_facts);
    layout->addWidget(buttons);
    layout->addWidget(m_note);
    resize(760, 620);
    setStatus(std::nullopt, trayStatus(std::nullopt, clock));
}

void DetailsWindow::setStatus(const std::optional<protocol::ipc::Status> &status,
                              const TrayStatus &trayStatus)
{
    m_status = status;
    m_trayStatus = trayStatus;
    const StatusDetails details = statusDetails(status, trayStatus, m_clock);
    const qreal ratio = devicePixelRatioF();
    QPixmap icon =
        QPixmap::fromImage(renderTrayIcon(trayStatus.state, static_cast<int>(48 * ratio)));
    icon.setDevicePixelRatio(ratio);
    m_icon->setPixmap(icon);
    m_headline->setText(details.status.headline);
    m_reason->setText(details.reason);
    m_reason->setVisible(!details.reason.isEmpty());
    m_verdictTime->setText(details.verdictTime.isEmpty() ? tr("No verdict yet")
                                                         : details.verdictTime);

    // The selection stays on its check while the failing checks stay the same; when one starts
    // or stops failing it moves to the top, where the failing checks are.
    const QString selected = selectedCheck();
    QStringList failing;
    for (const CheckRow &check : details.checks)
        if (!check.passed)
            failing.append(check.id);
    const bool keepSelection = failing == m_failing;
    m_failing = failing;
    m_checks->clear();
    const QIcon passIcon = trayIcon(TrayState::Compliant, {16, 32});
    const QIcon failIcon = trayIcon(TrayState::NonCompliant, {16, 32});
    for (const CheckRow &check : details.checks) {
        auto *item = new QTreeWidgetItem(m_checks);
        item->setText(0, check.title);
        item->setText(1, check.passed ? tr("Passes") : tr("Fails"));
        item->setIcon(1, check.passed ? passIcon : failIcon);
        item->setText(2, check.summary);
        item->setToolTip(2, check.summary);
        item->setData(0, idRole, check.id);
        QString text = check.summary;
        if (!check.remediation.isEmpty())
            text = tr("%1\n\nWhat to do: %2").arg(check.summary, check.remediation);
        else if (!check.passed)
            text = tr("%1\n\nThe verifier gave no remedy: ask your helpdesk.").arg(check.summary);
        item->setData(0, textRole, text);
    }
    QTreeWidgetItem *current = m_checks->topLevelItemCount() ? m_checks->topLevelItem(0) : nullptr;
    for (int i = 0; i < m_checks->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_checks->topLevelItem(i);
        if (keepSelection && item->data(0, idRole).toString() == selected)
            current = item;
    }
    m_checks->setCurrentItem(current);
    showSelected();

    while (m_facts->rowCount() > 0)
        m_facts->removeRow(0);
    for (const DetailFact &fact : details.facts) {
        QLabel *value = wrappingLabel(this);
        value->setText(fact.value);
        value->setAccessibleName(fact.label);
        m_facts->addRow(tr("%1:").arg(fact.label), value);
    }
    m_checkNow->setEnabled(status.has_value() && !m_checkRunning);
}

void DetailsWindow::setCheckRunning(bool running)
{
    m_checkRunning = running;
    m_checkNow->setEnabled(!running && m_status.has_value());
    m_checkNow->setText(running ? tr("Checking…") : tr("Check &now"));
    if (running)
        setNote(tr("Reporting to the verifier…"));
}

void DetailsWindow::setNote(const QString &note)
{
    m_note->setText(note);
}

void DetailsWindow::showCheck(const QString &id)
{
    for (int i = 0; i < m_checks->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_checks->topLevelItem(i);
        if (item->data(0, idRole).toString() == id) {
            m_checks->setCurrentItem(item);
            break;
        }
    }
    show();
    raise();
    activateWindow();
    m_checks->setFocus(Qt::OtherFocusReason);
}

QString DetailsWindow::selectedCheck() const
{
    const QTreeWidgetItem *item = m_checks->currentItem();
    return item ? item->data(0, idRole).toString() : QString();
}

QString DetailsWindow::selectedCheckText() const
{
    return m_checkText->text();
}

void DetailsWindow::showSelected()
{
    const QTreeWidgetItem *item = m_checks->currentItem();
    if (item)
        m_checkText->setText(item->data(0, textRole).toString());
    else
        m_checkText->setText(m_status ? tr("The verifier has not appraised this device yet.")
                                      : tr("The Vigil service is not running, so the checks "
                                           "cannot be shown."));
}

void DetailsWindow::copyForHelpdesk()
{
    QApplication::clipboard()->setText(helpdeskSummary(m_status, m_trayStatus, m_clock,
                                                       QSysInfo::machineHostName(),
                                                       QStringLiteral(VIGIL_VERSION)));
    setNote(tr("A summary for your helpdesk is on the clipboard (no token or key in it)."));
}

} // namespace vigil::ui
