#pragma once

// The tray as a whole: the connection to vigild, the icon and its menu, the details window, the
// stand-in window when the desktop has no tray, notifications on transitions, the prompts, and
// the screen lock of this session handed to vigild.
// Everything it shows comes from the models in ui/model/; this class only turns them into
// widgets, actions and notifications.
//
// The QSystemTrayIcon is created only once TrayHostWatcher finds a tray host: Qt picks its tray
// back-end (StatusNotifierItem or XEmbed) when the first icon is made and keeps it. When none
// comes in time, a status window stands in, and gives way to the icon if a host comes later.

#include "ui/desktop/desktopnotifier.h"
#include "ui/desktop/trayhostwatcher.h"
#include "ui/icons/trayicons.h"
#include "ui/mfa/ipcmfabackend.h"
#include "ui/model/notificationpolicy.h"
#include "ui/model/trayconnection.h"
#include "ui/model/traymenumodel.h"
#include "ui/model/traystate.h"
#include "ui/prompts/promptservice.h"
#include "ui/session/screenlockreporter.h"

#include <QMenu>
#include <QMessageBox>
#include <QObject>
#include <QPointer>
#include <QSystemTrayIcon>
#include <QTimer>
#include <memory>
#include <optional>

namespace vigil {
class Clock;
}

namespace vigil::ui {

class DetailsWindow;
class EnrollDialog;
class SetupWizard;
class StatusWindow;

struct TrayAppOptions
{
    QString socketPath;
    TrayConnectionTimings connection;
    GraceRules grace;
    TrayHostWatcherTimings trayHost;
    NotificationRules notifications;
};

class TrayApp : public QObject
{
    Q_OBJECT

public:
    TrayApp(TrayAppOptions options, const Clock &clock, QObject *parent = nullptr);
    ~TrayApp() override;

    // Connects to vigild (and keeps reconnecting) and looks for the desktop's tray.
    void start();
    // A second launch handed over its command: "details" opens the details, anything else
    // shows where the tray is (the status window when there is no icon).
    void activate(const QString &command);

    TrayState state() const { return m_trayStatus.state; }
    const TrayStatus &shownStatus() const { return m_trayStatus; }
    const TrayMenuModel &menuModel() const { return m_menuModel; }
    const std::optional<protocol::ipc::Status> &status() const { return m_connection.status(); }
    QSystemTrayIcon *systemTrayIcon() const { return m_icon.get(); }
    QMenu *menu() { return &m_menu; }
    DetailsWindow *detailsWindow();
    StatusWindow *statusWindow() const;
    TrayConnection &connection() { return m_connection; }
    PromptService &prompts() { return m_prompts; }
    MfaBackend &mfa() { return m_mfa; }
    SignInState signInState() const { return m_signIn; }
    SetupWizard *setupWizard() const;

    // What a menu entry does, as a click on it would.
    void trigger(const TrayMenuEntry &entry);
    // The same, once the signal that asked for it has returned.
    void triggerLater(const TrayMenuEntry &entry);

Q_SIGNALS:
    void signInStateChanged(vigil::ui::SignInState state);
    void stateChanged(vigil::ui::TrayState state);
    // The status, as the tray shows it, after every change (for notifications and tests).
    void statusShown(const std::optional<vigil::protocol::ipc::Status> &status,
                     const vigil::ui::TrayStatus &trayStatus);
    // How a "Check now" or an enrollment went, in words for people.
    void actionFinished(const QString &text);

private:
    // The desktop's tray host appeared (true) or went away.
    void setTrayAvailable(bool available);
    // No tray host came in time: the state goes to a small window instead, which says why.
    void showStatusWindow();
    void notify(const DesktopNotification &notification);
    void armNotificationTimer();
    void refresh();
    void rebuildMenu();
    void createIcon();
    void onCheckFinished(const ActionResult &result);
    void onEnrollFinished(const ActionResult &result);
    void openEnrollDialog();
    // Asks vigild for the person's sign-in state (mfa_status) and updates the menu.
    void refreshSignIn();
    // The menu follows it; signInStateChanged when it changed.
    void setSignInState(SignInState state);
    void openSetupWizard();
    void openSignInPrompt();
    void showAbout();
    void rememberRefusal(const ActionResult &result);

    TrayAppOptions m_options;
    const Clock &m_clock;
    TrayConnection m_connection;
    TrayStatus m_trayStatus;
    TrayMenuModel m_menuModel;
    std::vector<TrayMenuEntry> m_menuEntries; // what m_menu's actions show, index for index
    bool m_menuStale = false;                 // the model changed shape while the menu was open
    Privilege m_privilege = Privilege::Unknown;
    QMenu m_menu;
    TrayIconCache m_icons;
    TrayIconCache m_menuIcons{16, 32};
    std::unique_ptr<QSystemTrayIcon> m_icon;
    QPointer<DetailsWindow> m_details;
    QPointer<StatusWindow> m_statusWindow;
    QPointer<EnrollDialog> m_enrollDialog;
    QPointer<QMessageBox> m_about;
    QTimer m_changeTimer; // trayStateChangesAt: grace begins without vigild saying anything
    TrayHostWatcher m_hostWatcher;
    NotificationPolicy m_notificationPolicy;
    DesktopNotifier m_notifier;
    QTimer m_notificationTimer;    // NotificationPolicy::notifyAt: an outage past its grace
    bool m_checkAnnounced = false; // a transition was notified while "Check now" ran
    PromptService m_prompts;
    IpcMfaBackend m_mfa;
    SignInState m_signIn = SignInState::Unknown;
    QPointer<SetupWizard> m_wizard;
    int m_ownPrompts = 0; // "Sign in…" from the menu: prompt ids of the tray's own
    ScreenLockReporter m_screenLock;
    bool m_started = false;
};

// How a "Check now" or an enrollment ended, for the details window and a notification;
// headline is the tray's state line after it.
QString actionResultText(const ActionResult &result, bool enroll, const QString &headline);

} // namespace vigil::ui
