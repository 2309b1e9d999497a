#pragma once

// MfaBackend over the tray's connection to vigild: each call is one request of docs/ipc.md
// (mfa_status, mfa_enroll, …, sign_in) on the subscribed connection, and its answer is turned
// into the screens' plain structs. The PINs and codes given are copied into the request's
// SecretText, which wipes them when the request is sent; the QStrings the screens hold are
// theirs to clear.

#include "ui/mfa/mfabackend.h"

namespace vigil::ui {

class TrayConnection;

class IpcMfaBackend : public MfaBackend
{
    Q_OBJECT

public:
    explicit IpcMfaBackend(TrayConnection &connection, QObject *parent = nullptr);

    void status(Callback<MfaStatus> done) override;
    void enroll(const QString &inviteCode, const QString &pin, Callback<MfaStatus> done) override;
    void changePin(const QString &pin, const QString &newPin, Callback<MfaNothing> done) override;
    void beginTotp(const QString &pin, Callback<TotpSetup> done) override;
    void activateTotp(const QString &pin, const QString &code, Callback<QStringList> done) override;
    void newRecoveryCodes(const QString &pin, Callback<QStringList> done) override;
    void signIn(const std::optional<QString> &pin, const std::optional<QString> &otp,
                Callback<MfaStatus> done) override;

private:
    TrayConnection &m_connection;
};

} // namespace vigil::ui
