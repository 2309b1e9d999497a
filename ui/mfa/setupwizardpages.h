#pragma once

// The pages of SetupWizard (setupwizard.h). Each page that calls vigild shows a busy state
// (fields and buttons disabled, a running bar) while the call runs and the error in its
// message line when it fails; the wizard moves on only when the call succeeded.

#include <QWizardPage>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace vigil::ui {

class QrCodeWidget;
class SetupWizard;
struct MfaError;

// What every page of the wizard has: the message line and the busy state.
class SetupPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit SetupPage(SetupWizard &wizard);

    bool isBusy() const { return m_busy; }
    bool isComplete() const override;
    // The message line's text ("" when none), for tests.
    QString message() const;

protected:
    // Adds the message line and the busy bar below what the page added to layout.
    void finishLayout();
    void setBusy(bool busy, const QString &what = {});
    void showMessage(const QString &text, bool isError = true);
    void showError(const MfaError &error);
    virtual bool ready() const { return true; }
    virtual void busyChanged(bool busy) { (void)busy; }

    SetupWizard &m_wizard;

private:
    QLabel *m_message;
    QProgressBar *m_busyBar;
    bool m_busy = false;
    QString m_busyText;
};

class InviteCodePage : public SetupPage
{
    Q_OBJECT

public:
    explicit InviteCodePage(SetupWizard &wizard);
    QLineEdit *field() const { return m_invite; }
    // An enrollment refused the invite: back here, with why.
    void showRefused(const MfaError &error);
    bool validatePage() override;

protected:
    bool ready() const override;

private:
    QLineEdit *m_invite;
};

class ChoosePinPage : public SetupPage
{
    Q_OBJECT

public:
    explicit ChoosePinPage(SetupWizard &wizard);
    QLineEdit *pinField() const { return m_pin; }
    QLineEdit *repeatField() const { return m_repeat; }
    QCheckBox *showToggle() const { return m_show; }
    void initializePage() override;
    bool validatePage() override;

protected:
    bool ready() const override;
    void busyChanged(bool busy) override;

private:
    void updateHint();
    void enroll();

    QLineEdit *m_pin;
    QLineEdit *m_repeat;
    QCheckBox *m_show;
    QLabel *m_hint;
    bool m_enrollDone = false;
};

class AuthenticatorPage : public SetupPage
{
    Q_OBJECT

public:
    explicit AuthenticatorPage(SetupWizard &wizard);
    QrCodeWidget *qrCode() const { return m_qr; }
    QLabel *secretLabel() const { return m_secret; }
    QLineEdit *codeField() const { return m_code; }
    QPushButton *copyButton() const { return m_copy; }
    QString otpauthUri() const { return m_uri; }
    void initializePage() override;
    bool validatePage() override;
    int nextId() const override;

protected:
    bool ready() const override;
    void busyChanged(bool busy) override;

private:
    void begin();
    void activate();

    QrCodeWidget *m_qr;
    QLabel *m_secret;
    QPushButton *m_copy;
    QLabel *m_expiry;
    QLineEdit *m_code;
    QPushButton *m_retry;
    QString m_uri;
    bool m_activated = false;
};

class RecoveryCodesPage : public SetupPage
{
    Q_OBJECT

public:
    explicit RecoveryCodesPage(SetupWizard &wizard);
    QPlainTextEdit *codesView() const { return m_codes; }
    QCheckBox *storedBox() const { return m_stored; }
    QPushButton *copyButton() const { return m_copy; }
    QPushButton *saveButton() const { return m_save; }
    void initializePage() override;
    // Writes the codes to path, readable by its owner only (0600). False, with why on the
    // page, when it could not.
    bool saveTo(const QString &path);

protected:
    bool ready() const override;

private:
    QString codesText() const;

    QPlainTextEdit *m_codes;
    QPushButton *m_copy;
    QPushButton *m_save;
    QCheckBox *m_stored;
};

class SetupDonePage : public SetupPage
{
    Q_OBJECT

public:
    explicit SetupDonePage(SetupWizard &wizard);
    void initializePage() override;

private:
    QLabel *m_summary;
};

} // namespace vigil::ui
