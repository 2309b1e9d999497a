#pragma once

// The sign-in prompt that vigild's "prompt" event opens (kind "sign_in", docs/ipc.md): why
// Vigil asks (the screen was unlocked, the computer resumed, the sign-in expired or is about
// to), a PIN field, or a code from the authenticator app instead. It answers through
// MfaBackend::signIn, says how many PIN attempts are left after a wrong one and how long the key
// stays locked, and closes when sign-in succeeded or vigild withdraws the prompt.

#include "ui/mfa/mfabackend.h"
#include "ui/prompts/promptservice.h"

#include <QDialog>
#include <QPointer>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTimer;

namespace vigil {
class Clock;
}

namespace vigil::ui {

// The prompt's data (PromptRequest::data) as the "prompt" event carries it.
struct SignInRequest
{
    QString reason = QStringLiteral("expired"); // unlock, resume, expired, expiring
    bool pinAccepted = true;
    bool otpAccepted = true;
    QDateTime expiresAt; // for "expiring": when the sign-in ends

    // Members of the wrong type are ignored as absent: the prompt still opens, with defaults.
    static SignInRequest fromJson(const nlohmann::json &data);
};

class SignInPrompt : public QDialog
{
    Q_OBJECT

public:
    enum class Factor
    {
        Pin,
        Code,
    };

    // answered() carries the prompt's answer once sign-in succeeded; the PromptService
    // registration passes it on as the prompt's answer.
    SignInPrompt(const SignInRequest &request, MfaBackend &backend, const Clock &clock,
                 QWidget *parent = nullptr);
    ~SignInPrompt() override;

    Factor factor() const { return m_factor; }
    void setFactor(Factor factor);
    bool isBusy() const { return m_busy; }
    QString reasonText() const;
    QString messageText() const;

    QLineEdit *pinField() const { return m_pin; }
    QLineEdit *codeField() const { return m_code; }
    QPushButton *switchButton() const { return m_switch; }
    QPushButton *signInButton() const { return m_signIn; }

Q_SIGNALS:
    void signedIn(const MfaStatus &status);

protected:
    void done(int result) override;

private:
    void updateButtons();
    void signIn();
    void setBusy(bool busy);
    void showMessage(const QString &text, bool isError = true);
    void handleError(const MfaError &error);
    void lockPin(int seconds);
    void showAttemptsLeft(int left);

    MfaBackend &m_backend;
    const Clock &m_clock;
    SignInRequest m_request;
    Factor m_factor = Factor::Pin;
    bool m_busy = false;
    bool m_pinLocked = false;
    QLabel *m_reason;
    QStackedWidget *m_stack;
    QLineEdit *m_pin;
    QLineEdit *m_code;
    QPushButton *m_switch;
    QLabel *m_message;
    QProgressBar *m_busyBar;
    QPushButton *m_signIn;
    QTimer *m_unlockTimer;
};

// Opens a SignInPrompt for vigild's prompts of kind "sign_in"; a successful sign-in answers
// the request with {"signed_in": true}.
void registerSignInPrompt(PromptService &service, MfaBackend &backend, const Clock &clock);

} // namespace vigil::ui
