#include "ui/widgets/trayapp.h"

#include "core/clock.h"
#include "ui/icons/trayicons.h"
#include "ui/mfa/setupwizard.h"
#include "ui/mfa/signinprompt.h"
#include "ui/widgets/detailswindow.h"
#include "ui/widgets/enrolldialog.h"
#include "ui/widgets/statuswindow.h"

#include <QApplication>
#include <QLoggingCategory>
#include <QMessageBox>
#include <algorithm>

namespace vigil::ui {

Q_DECLARE_LOGGING_CATEGORY(lcTray)

using Kind = TrayMenuEntry::Kind;
using Outcome = ActionResult::Outcome;

namespace {

std::chrono::milliseconds untilNow(std::chrono::system_clock::time_point at, const Clock &clock)
{
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(at - clock.now());
    return std::clamp(wait, std::chrono::milliseconds(0),
                      std::chrono::milliseconds(std::numeric_limits<int>::max()));
}

} // namespace

QString actionResultText(const ActionResult &result, bool enroll, const QString &headline)
{
    const QString message = QString::fromStdString(result.message);
    switch (result.outcome) {
    case Outcome::Succeeded:
        if (!result.status)
            return {};
        return enroll ? QApplication::translate("vigil::ui::TrayApp", "This device is enrolled.")
                      : QApplication::translate("vigil::ui::TrayApp", "Checked: %1").arg(headline);
    case Outcome::PermissionDenied:
        return QApplication::translate("vigil::ui::TrayApp",
                                       "Only an administrator (root or a member of Vigil's "
                                       "group) can do this.");
    case Outcome::NotEnrolled:
        return QApplication::translate("vigil::ui::TrayApp", "This device is not enrolled.");
    case Outcome::Unavailable:
        return enroll
                   ? QApplication::translate("vigil::ui::TrayApp", "Not enrolled: %1").arg(message)
                   : QApplication::translate("vigil::ui::TrayApp", "Not checked: %1").arg(message);
    case Outcome::Failed:
        return QApplication::translate("vigil::ui::TrayApp", "Failed: %1").arg(message);
    case Outcome::ServiceNotRunning:
        return QApplication::translate("vigil::ui::TrayApp", "The Vigil service is not running.");
    }
    return message;
}

TrayApp::TrayApp(TrayAppOptions options, const Clock &clock, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_clock(clock),
      m_connection(m_options.socketPath, m_options.connection), m_hostWatcher(m_options.trayHost),
      m_notificationPolicy(clock, m_options.notifications), m_prompts(this), m_mfa(m_connection),
      m_screenLock(m_options.socketPath)
{
    m_menu.setTitle(tr("Vigil"));
    connect(&m_menu, &QMenu::aboutToHide, this, [this] {
        if (m_menuStale)
            QTimer::singleShot(0, this, &TrayApp::rebuildMenu); // once it has closed
    });
    m_changeTimer.setSingleShot(true);
    m_changeTimer.setTimerType(Qt::VeryCoarseTimer); // grace boundaries are whole seconds
    connect(&m_changeTimer, &QTimer::timeout, this, &TrayApp::refresh);
    m_notificationTimer.setSingleShot(true);
    m_notificationTimer.setTimerType(Qt::VeryCoarseTimer);
    connect(&m_notificationTimer, &QTimer::timeout, this, [this] {
        if (const auto notification = m_notificationPolicy.due())
            notify(*notification);
        armNotificationTimer();
    });
    connect(&m_hostWatcher, &TrayHostWatcher::availableChanged, this, &TrayApp::setTrayAvailable);
    connect(&m_hostWatcher, &TrayHostWatcher::gaveUp, this, &TrayApp::showStatusWindow);
    connect(&m_connection, &TrayConnection::statusChanged, this, &TrayApp::refresh);
    // vigild keeps what it was told only while it runs: tell it again at every (re)connection.
    connect(&m_connection, &TrayConnection::subscribedChanged, this, [this](bool subscribed) {
        if (subscribed && m_started)
            m_screenLock.resend();
        if (subscribed)
            refreshSignIn();
        else
            setSignInState(SignInState::Unknown);
    });
    registerSignInPrompt(m_prompts, m_mfa, m_clock);
    connect(&m_connection, &TrayConnection::promptReceived, this,
            [this](const protocol::ipc::Prompt &prompt) {
                qCInfo(lcTray, "vigild asks for sign-in (%s)",
                       std::string(protocol::ipc::promptReasonName(prompt.reason)).c_str());
                m_prompts.open({QStringLiteral("sign_in"), QString::fromStdString(prompt.id),
                                prompt.toJson()});
                if (m_signIn == SignInState::SignedIn)
                    setSignInState(SignInState::SignedOut);
            });
    connect(&m_connection, &TrayConnection::promptClosed, this, [this](const std::string &id) {
        // Answered here or elsewhere: vigild may close it before the window's own answer.
        m_prompts.withdraw(QString::fromStdString(id));
        refreshSignIn();
    });
    connect(&m_prompts, &PromptService::answered, this, &TrayApp::refreshSignIn);
    connect(&m_screenLock, &ScreenLockReporter::failed, this,
            [](const QString &reason) { qCWarning(lcTray, "%s", qPrintable(reason)); });
    connect(&m_connection, &TrayConnection::checkRunningChanged, this, [this](bool running) {
        if (running)
            m_checkAnnounced = false;
        rebuildMenu();
        if (m_details)
            m_details->setCheckRunning(running);
    });
    connect(&m_connection, &TrayConnection::checkFinished, this, &TrayApp::onCheckFinished);
    connect(&m_connection, &TrayConnection::enrollFinished, this, &TrayApp::onEnrollFinished);
    m_trayStatus = trayStatus(std::nullopt, m_clock, m_options.grace);
    rebuildMenu();
}

TrayApp::~TrayApp()
{
    delete m_details.data();
    delete m_statusWindow.data();
    delete m_enrollDialog.data();
    delete m_wizard.data();
    delete m_about.data();
}

SetupWizard *TrayApp::setupWizard() const
{
    return m_wizard;
}

void TrayApp::refreshSignIn()
{
    m_mfa.status([this](const MfaReply<MfaStatus> &reply) {
        SignInState state = SignInState::Unknown;
        if (reply.ok())
            state = !reply.value.enrolled  ? SignInState::NotSetUp
                    : reply.value.signedIn ? SignInState::SignedIn
                                           : SignInState::SignedOut;
        else if (reply.error->code == mfaerror::notEnrolledUser)
            state = SignInState::NotSetUp;
        else
            qCInfo(lcTray, "sign-in state unknown: %s", qPrintable(reply.error->message));
        setSignInState(state);
    });
}

void TrayApp::setSignInState(SignInState state)
{
    if (state == m_signIn)
        return;
    m_signIn = state;
    rebuildMenu();
    Q_EMIT signInStateChanged(m_signIn);
}

void TrayApp::openSetupWizard()
{
    if (!m_wizard) {
        m_wizard = new SetupWizard(m_mfa, m_clock);
        m_wizard->setAttribute(Qt::WA_DeleteOnClose);
        m_wizard->setAttribute(Qt::WA_QuitOnClose, false);
        connect(m_wizard, &QDialog::finished, this, &TrayApp::refreshSignIn);
    }
    m_wizard->show();
    m_wizard->raise();
    m_wizard->activateWindow();
}

void TrayApp::openSignInPrompt()
{
    // The tray's own request: vigild's ids are its own, so these cannot collide with them.
    const QString id = QStringLiteral("tray-%1").arg(++m_ownPrompts);
    m_prompts.open({QStringLiteral("sign_in"), id, {{"reason", "requested"}}});
}

void TrayApp::start()
{
    if (m_started)
        return;
    m_started = true;
    m_connection.start();
    m_hostWatcher.start();
    m_screenLock.start();
}

void TrayApp::setTrayAvailable(bool available)
{
    if (!available) {
        // The panel went away (restarted, or the session is ending): Qt's icon re-docks by
        // itself when a new one comes; the state stays reachable through a second launch.
        return;
    }
    if (!m_icon)
        createIcon();
    if (m_statusWindow)
        m_statusWindow->hide();
}

void TrayApp::createIcon()
{
    m_icon = std::make_unique<QSystemTrayIcon>();
    m_icon->setContextMenu(&m_menu);
    connect(m_icon.get(), &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason reason) {
                if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                    detailsWindow()->showCheck();
            });
    m_icon->setIcon(m_icons.icon(m_trayStatus.state));
    m_icon->setToolTip(m_trayStatus.toolTip);
    m_icon->show();
    qCInfo(lcTray, "tray icon shown (%s)", trayStateName(m_trayStatus.state));
}

void TrayApp::showStatusWindow()
{
    if (m_icon)
        return;
    if (!m_statusWindow) {
        m_statusWindow = new StatusWindow;
        m_statusWindow->setAttribute(Qt::WA_QuitOnClose, false);
        connect(m_statusWindow, &StatusWindow::triggered, this, &TrayApp::triggerLater);
        m_statusWindow->setModel(m_menuModel);
        qCWarning(lcTray, "no system tray on this desktop: showing a status window instead");
    }
    m_statusWindow->show();
    m_statusWindow->raise();
}

void TrayApp::activate(const QString &command)
{
    if (command == QLatin1String("details") || m_icon) {
        detailsWindow()->showCheck();
        return;
    }
    showStatusWindow();
}

StatusWindow *TrayApp::statusWindow() const
{
    return m_statusWindow;
}

DetailsWindow *TrayApp::detailsWindow()
{
    if (!m_details) {
        m_details = new DetailsWindow(m_clock);
        m_details->setAttribute(Qt::WA_QuitOnClose, false);
        connect(m_details, &DetailsWindow::checkNowRequested, &m_connection,
                &TrayConnection::checkNow);
        m_details->setStatus(m_connection.status(), m_trayStatus);
        m_details->setCheckRunning(m_connection.isCheckRunning());
    }
    return m_details;
}

void TrayApp::refresh()
{
    const auto &status = m_connection.status();
    const TrayStatus shown = trayStatus(status, m_clock, m_options.grace);
    const bool stateChanged = shown.state != m_trayStatus.state;
    m_trayStatus = shown;
    if (m_icon) {
        if (stateChanged)
            m_icon->setIcon(m_icons.icon(shown.state));
        m_icon->setToolTip(shown.toolTip);
    }
    rebuildMenu();
    if (m_details)
        m_details->setStatus(status, shown);
    if (const auto at = trayStateChangesAt(status, m_clock, m_options.grace))
        m_changeTimer.start(untilNow(*at, m_clock));
    else
        m_changeTimer.stop();
    if (stateChanged) {
        qCInfo(lcTray, "state %s: %s", trayStateName(shown.state), qPrintable(shown.headline));
        Q_EMIT this->stateChanged(shown.state);
    }
    if (const auto notification = m_notificationPolicy.update(status))
        notify(*notification);
    armNotificationTimer();
    Q_EMIT statusShown(status, shown);
}

void TrayApp::notify(const DesktopNotification &notification)
{
    if (m_connection.isCheckRunning())
        m_checkAnnounced = true;
    m_notifier.send(notification);
}

void TrayApp::armNotificationTimer()
{
    if (const auto at = m_notificationPolicy.notifyAt())
        m_notificationTimer.start(untilNow(*at, m_clock));
    else
        m_notificationTimer.stop();
}

void TrayApp::rebuildMenu()
{
    TrayMenuContext context;
    context.checkRunning = m_connection.isCheckRunning();
    context.privilege = m_privilege;
    context.signIn = m_signIn;
    m_menuModel = trayMenuModel(m_connection.status(), m_trayStatus, context);
    if (m_statusWindow)
        m_statusWindow->setModel(m_menuModel);
    const auto kinds = [](const std::vector<TrayMenuEntry> &entries) {
        std::vector<Kind> result;
        for (const TrayMenuEntry &entry : entries)
            result.push_back(entry.kind);
        return result;
    };
    // Events come while the menu is open (a report's verdict, a token fetched): it follows them
    // in place, and takes a new shape only once closed, so that it never changes under the
    // pointer. Until then its actions keep the entries they were made for.
    const bool sameShape = kinds(m_menuModel.entries) == kinds(m_menuEntries);
    if (!sameShape && m_menu.isVisible()) {
        m_menuStale = true;
        return;
    }
    m_menuStale = false;
    m_menuEntries = m_menuModel.entries;
    if (!sameShape) {
        m_menu.clear();
        for (std::size_t i = 0; i < m_menuEntries.size(); ++i) {
            QAction *action = m_menuEntries[i].kind == Kind::Separator
                                  ? m_menu.addSeparator()
                                  : m_menu.addAction(QString());
            connect(action, &QAction::triggered, this, [this, i] {
                if (i < m_menuEntries.size())
                    triggerLater(m_menuEntries[i]);
            });
        }
        m_menu.setToolTipsVisible(true);
    }
    const QList<QAction *> actions = m_menu.actions();
    for (std::size_t i = 0; i < m_menuEntries.size(); ++i) {
        const TrayMenuEntry &entry = m_menuEntries[i];
        QAction *action = actions[qsizetype(i)];
        if (entry.kind == Kind::Separator)
            continue;
        action->setText(entry.text);
        action->setEnabled(entry.enabled);
        action->setToolTip(entry.toolTip);
        if (entry.kind == Kind::StateLine) {
            action->setIcon(m_menuIcons.icon(m_trayStatus.state));
            QFont bold = action->font();
            bold.setBold(true);
            action->setFont(bold);
        }
    }
}

void TrayApp::triggerLater(const TrayMenuEntry &entry)
{
    // Out of the signal of the action or button that asked: what it opens may run an event
    // loop or rebuild the menu and the status window, which would delete that action or button
    // under its own signal.
    QTimer::singleShot(0, this, [this, entry] { trigger(entry); });
}

void TrayApp::trigger(const TrayMenuEntry &entry)
{
    switch (entry.kind) {
    case Kind::FailingCheck:
        detailsWindow()->showCheck(entry.checkId);
        return;
    case Kind::StateLine:
    case Kind::MoreChecks:
    case Kind::Details:
        detailsWindow()->showCheck();
        return;
    case Kind::CheckNow:
        m_connection.checkNow();
        return;
    case Kind::Enroll:
        openEnrollDialog();
        return;
    case Kind::SetUpSignIn:
        openSetupWizard();
        return;
    case Kind::SignIn:
        openSignInPrompt();
        return;
    case Kind::About:
        showAbout();
        return;
    case Kind::Quit:
        qCInfo(lcTray, "quit from the menu (vigild keeps running)");
        QApplication::quit();
        return;
    case Kind::Separator:
        return;
    }
}

void TrayApp::rememberRefusal(const ActionResult &result)
{
    if (result.outcome == Outcome::PermissionDenied && m_privilege != Privilege::Denied) {
        m_privilege = Privilege::Denied;
        rebuildMenu();
    }
}

void TrayApp::onCheckFinished(const ActionResult &result)
{
    rememberRefusal(result);
    const QString text = actionResultText(result, false, m_trayStatus.headline);
    qCInfo(lcTray, "check now: %s", qPrintable(text));
    if (m_details)
        m_details->setNote(text);
    // The person asked and waits for an answer; a transition's notification gave it already.
    const bool announced = std::exchange(m_checkAnnounced, false);
    if (!announced && !text.isEmpty()) {
        DesktopNotification notification;
        notification.kind = DesktopNotification::Kind::CheckFinished;
        notification.urgency = NotificationUrgency::Low;
        const bool checked = result.outcome == Outcome::Succeeded;
        notification.summary = checked ? tr("Check complete") : tr("Check not done");
        notification.body = text;
        notification.icon = checked ? m_trayStatus.state : TrayState::Offline;
        m_notifier.send(notification);
    }
    Q_EMIT actionFinished(text);
}

void TrayApp::openEnrollDialog()
{
    if (!m_enrollDialog) {
        m_enrollDialog = new EnrollDialog;
        m_enrollDialog->setAttribute(Qt::WA_QuitOnClose, false);
        connect(m_enrollDialog, &EnrollDialog::enrollRequested, this, [this](const QString &token) {
            m_enrollDialog->setBusy(true);
            m_connection.enroll(token.toStdString());
        });
    }
    m_enrollDialog->show();
    m_enrollDialog->raise();
    m_enrollDialog->activateWindow();
}

void TrayApp::onEnrollFinished(const ActionResult &result)
{
    rememberRefusal(result);
    const QString text = actionResultText(result, true, m_trayStatus.headline);
    qCInfo(lcTray, "enroll: %s", qPrintable(text));
    if (m_enrollDialog) {
        if (result.outcome == Outcome::Succeeded)
            m_enrollDialog->accept();
        else
            m_enrollDialog->showError(text);
    }
    Q_EMIT actionFinished(text);
}

void TrayApp::showAbout()
{
    if (m_about) {
        m_about->raise();
        m_about->activateWindow();
        return;
    }
    // Not modal: a modal box would run an event loop of its own inside the menu's action.
    m_about = new QMessageBox(
        QMessageBox::NoIcon, tr("About Vigil"),
        tr("<p><b>Vigil %1</b></p><p>Vigil proves to your organisation that this device is "
           "healthy: its system is up to date, its disk encrypted, its firewall on and its "
           "screen locks. Your access depends on it.</p><p>This window shows what the Vigil "
           "service (vigild) found; it keeps running when you quit the tray.</p>")
            .arg(QStringLiteral(VIGIL_VERSION)),
        QMessageBox::Ok);
    m_about->setIconPixmap(m_icons.icon(TrayState::Compliant).pixmap(64, 64));
    m_about->setAttribute(Qt::WA_DeleteOnClose);
    m_about->setAttribute(Qt::WA_QuitOnClose, false);
    m_about->show();
}

} // namespace vigil::ui
