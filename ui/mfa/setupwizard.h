#pragma once

// "Set up sign-in…": invite code, PIN (vigild makes the user's key in the TPM and enrolls it),
// the authenticator app (QR code, then one code to activate it), the recovery codes (shown once)
// and a summary. Each step talks to vigild through MfaBackend; a step that fails says why and
// keeps what was typed, except PINs. The PIN stays in memory until the wizard closes (the TOTP
// steps need it), then is overwritten.

#include "ui/mfa/mfabackend.h"

#include <QMessageBox>
#include <QPointer>
#include <QWizard>

namespace vigil {
class Clock;
}

namespace vigil::ui {

class SetupWizard : public QWizard
{
    Q_OBJECT

public:
    enum Page
    {
        InvitePage,
        PinPage,
        TotpPage,
        RecoveryPage,
        DonePage,
    };

    SetupWizard(MfaBackend &backend, const Clock &clock, QWidget *parent = nullptr);
    ~SetupWizard() override;

    MfaBackend &backend() const { return m_backend; }
    const Clock &clock() const { return m_clock; }

    // What the steps learnt, shared between the pages.
    QString inviteCode; // normalized
    QString pin;        // the chosen PIN, once enrolled
    MfaStatus status;   // mfa_enroll's answer
    bool enrolled = false;
    bool totpActive = false; // activated here, or already before (another device)
    QStringList recoveryCodes;

    // The sentence a cancel shows: what is set up and what is not, so far.
    QString remainingState() const;
    // The question asked when the person cancels half-way, while it is open.
    QMessageBox *cancelQuestion() const { return m_cancelQuestion; }
    // Text put on the clipboard by a page: cleared from it when the wizard closes.
    void copyToClipboard(const QString &text);

    void reject() override;

protected:
    void done(int result) override;

private:
    MfaBackend &m_backend;
    const Clock &m_clock;
    QPointer<QMessageBox> m_cancelQuestion;
    QStringList m_copied;
};

} // namespace vigil::ui
