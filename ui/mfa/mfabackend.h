#pragma once

// What the MFA screens ask of vigild (docs/ipc.md, the mfa_* and sign_in methods), as an
// interface of the tray's own: the wizard and the sign-in prompt are written and tested against
// it, and the tray implements it over its IPC connection. Every call is asynchronous and answers
// exactly once, later, on the GUI thread; a caller that may be gone by then guards its callback
// (a QPointer). PINs, codes and invites are secrets: an implementation never logs them.

#include <QDateTime>
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <optional>

namespace vigil::ui {

// vigild's error codes for these methods (docs/ipc.md section 10), and one of the tray's own.
namespace mfaerror {
inline const QString wrongPin = QStringLiteral("wrong_pin");
inline const QString pinLocked = QStringLiteral("pin_locked");
inline const QString notEnrolledUser = QStringLiteral("not_enrolled_user");
inline const QString authenticationRequired = QStringLiteral("authentication_required");
inline const QString invalidCode = QStringLiteral("invalid_code");
// Any other verifier problem; the message is "<problem code>: <detail>".
inline const QString refused = QStringLiteral("refused");
inline const QString unavailable = QStringLiteral("unavailable");  // verifier unreachable
inline const QString busy = QStringLiteral("busy");                // the TPM or vigild is busy
inline const QString notEnrolled = QStringLiteral("not_enrolled"); // the device is not enrolled
// The tray's own: no connection to vigild (not running, or not reachable).
inline const QString notRunning = QStringLiteral("not_running");
} // namespace mfaerror

struct MfaError
{
    QString code;    // one of mfaerror::…, or another code of a newer vigild
    QString message; // vigild's message (English, for the log and as a last resort)

    // For code "refused": the verifier's problem code ("invalid_invite"), else "".
    QString problemCode() const;
};

// mfa_status's result.
struct MfaStatus
{
    bool enrolled = false;
    QString userId;
    QString name;
    QString keyAssurance;                   // "tpm" or "software"
    std::optional<int> pinAttemptsLeft;     // before the TPM (or vigild) locks the key
    std::optional<int> pinLockedOutSeconds; // set while it is locked
    QString totp = QStringLiteral("none");  // "none", "pending" or "active"
    bool signedIn = false;
    QDateTime authTime;  // set when signed in
    QDateTime expiresAt; // set when signed in
    QStringList amr;
    std::optional<int> warnBeforeSeconds;
};

// mfa_totp_begin's result.
struct TotpSetup
{
    QString otpauthUri;
    QDateTime expiresAt; // the pending secret expires then (15 minutes after it was made)
};

// A call's answer: a value, or the error vigild (or the connection) gave.
template <class T> struct MfaReply
{
    std::optional<MfaError> error;
    T value{};

    bool ok() const { return !error.has_value(); }
};

struct MfaNothing
{
};

class MfaBackend : public QObject
{
    Q_OBJECT

public:
    template <class T> using Callback = std::function<void(const MfaReply<T> &)>;

    using QObject::QObject;
    ~MfaBackend() override = default;

    virtual void status(Callback<MfaStatus> done) = 0;
    virtual void enroll(const QString &inviteCode, const QString &pin,
                        Callback<MfaStatus> done) = 0;
    virtual void changePin(const QString &pin, const QString &newPin,
                           Callback<MfaNothing> done) = 0;
    virtual void beginTotp(const QString &pin, Callback<TotpSetup> done) = 0;
    virtual void activateTotp(const QString &pin, const QString &code,
                              Callback<QStringList> done) = 0;
    virtual void newRecoveryCodes(const QString &pin, Callback<QStringList> done) = 0;
    // At least one of pin and otp is set.
    virtual void signIn(const std::optional<QString> &pin, const std::optional<QString> &otp,
                        Callback<MfaStatus> done) = 0;
};

} // namespace vigil::ui
