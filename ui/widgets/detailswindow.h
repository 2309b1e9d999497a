#pragma once

// "Details…": every check of the last verdict with what was found and what to do, the facts of
// the enrollment and the schedule, and "Copy for helpdesk". Laid out from StatusDetails
// (ui/model/statusdetails.h), so what it says is tested without a display.

#include "protocol/ipc/status.h"
#include "ui/model/traystate.h"

#include <QWidget>
#include <optional>

class QFormLayout;
class QLabel;
class QPushButton;
class QTreeWidget;

namespace vigil {
class Clock;
}

namespace vigil::ui {

class DetailsWindow : public QWidget
{
    Q_OBJECT

public:
    explicit DetailsWindow(const Clock &clock, QWidget *parent = nullptr);

    void setStatus(const std::optional<protocol::ipc::Status> &status,
                   const TrayStatus &trayStatus);
    void setCheckRunning(bool running);
    // A line under the buttons: how the last "Check now" went.
    void setNote(const QString &note);

    // Shows and raises the window with the check selected (the first when id is empty or gone).
    void showCheck(const QString &id = {});
    QString selectedCheck() const;
    // What the pane under the list says for the selected check.
    QString selectedCheckText() const;

Q_SIGNALS:
    void checkNowRequested();

private:
    void showSelected();
    void copyForHelpdesk();

    const Clock &m_clock;
    std::optional<protocol::ipc::Status> m_status;
    QStringList m_failing; // the ids of the failing checks shown
    bool m_checkRunning = false;
    TrayStatus m_trayStatus;
    QLabel *m_icon;
    QLabel *m_headline;
    QLabel *m_reason;
    QLabel *m_verdictTime;
    QTreeWidget *m_checks;
    QLabel *m_checkText;
    QFormLayout *m_facts;
    QPushButton *m_checkNow;
    QPushButton *m_copy;
    QLabel *m_note;
};

} // namespace vigil::ui
