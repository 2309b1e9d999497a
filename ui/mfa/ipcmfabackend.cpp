#include "ui/mfa/ipcmfabackend.h"

#include "protocol/ipc/mfaparams.h"
#include "protocol/ipc/mfaresults.h"
#include "protocol/ipc/request.h"
#include "ui/model/trayconnection.h"

#include <QPointer>
#include <chrono>
#include <exception>

namespace vigil::ui {

namespace ipc = protocol::ipc;

namespace {

ipc::SecretText secret(const QString &text)
{
    QByteArray utf8 = text.toUtf8();
    ipc::SecretText result(utf8.toStdString());
    utf8.fill('\0');
    return result;
}

QDateTime toDateTime(protocol::TimePoint time)
{
    return QDateTime::fromMSecsSinceEpoch(
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count(),
        Qt::UTC);
}

MfaStatus toStatus(const ipc::MfaStatus &status)
{
    MfaStatus out;
    if (!status.user)
        return out;
    const auto &user = *status.user;
    out.enrolled = true;
    out.userId = QString::fromStdString(user.userId);
    out.name = QString::fromStdString(user.name);
    out.keyAssurance = user.keyAssurance == protocol::Assurance::Tpm ? QStringLiteral("tpm")
                                                                     : QStringLiteral("software");
    if (user.pinAttemptsLeft)
        out.pinAttemptsLeft = static_cast<int>(*user.pinAttemptsLeft);
    if (user.pinLockedOutSeconds)
        out.pinLockedOutSeconds = static_cast<int>(*user.pinLockedOutSeconds);
    out.totp = QString::fromUtf8(ipc::totpStateName(user.totp));
    if (user.session) {
        out.signedIn = true;
        out.authTime = toDateTime(user.session->authTime);
        out.expiresAt = toDateTime(user.session->expiresAt);
        for (const auto &method : user.session->amr)
            out.amr << QString::fromStdString(method);
        out.warnBeforeSeconds = static_cast<int>(user.session->warnBeforeSeconds);
    }
    return out;
}

QStringList toStrings(const std::vector<std::string> &items)
{
    QStringList out;
    for (const auto &item : items)
        out << QString::fromStdString(item);
    return out;
}

// Sends request and hands done the result that convert makes of vigild's answer, or the error.
template <class T, class Convert>
void send(TrayConnection &connection, QObject *guard, ipc::Method method, ipc::Params params,
          MfaBackend::Callback<T> done, Convert convert)
{
    ipc::Request request;
    request.method = method;
    request.params = std::move(params);
    connection.call(std::move(request), [guard = QPointer<QObject>(guard), done = std::move(done),
                                         convert](const TrayConnection::CallOutcome &outcome) {
        if (!guard)
            return;
        MfaReply<T> reply;
        const auto &response = outcome.response;
        if (outcome.notConnected) {
            reply.error =
                MfaError{mfaerror::notRunning, QString::fromStdString(response.error->message)};
        } else if (response.error) {
            reply.error = MfaError{QString::fromUtf8(ipc::errorCodeName(response.error->code)),
                                   QString::fromStdString(response.error->message)};
        } else {
            try {
                reply.value = convert(response.result);
            } catch (const std::exception &e) {
                reply.error = MfaError{QStringLiteral("internal"),
                                       QStringLiteral("vigild's answer is not readable: %1")
                                           .arg(QString::fromUtf8(e.what()))};
            }
        }
        done(reply);
    });
}

MfaStatus readStatus(const nlohmann::json &result)
{
    return toStatus(ipc::MfaStatus::fromJson(result, "/result"));
}

QStringList readRecoveryCodes(const nlohmann::json &result)
{
    return toStrings(ipc::RecoveryCodesResult::fromJson(result, "/result").recoveryCodes);
}

} // namespace

IpcMfaBackend::IpcMfaBackend(TrayConnection &connection, QObject *parent)
    : MfaBackend(parent), m_connection(connection)
{
}

void IpcMfaBackend::status(Callback<MfaStatus> done)
{
    send<MfaStatus>(m_connection, this, ipc::Method::MfaStatus, std::monostate{}, std::move(done),
                    readStatus);
}

void IpcMfaBackend::enroll(const QString &inviteCode, const QString &pin, Callback<MfaStatus> done)
{
    send<MfaStatus>(m_connection, this, ipc::Method::MfaEnroll,
                    ipc::MfaEnrollParams{secret(inviteCode), secret(pin)}, std::move(done),
                    readStatus);
}

void IpcMfaBackend::changePin(const QString &pin, const QString &newPin, Callback<MfaNothing> done)
{
    send<MfaNothing>(m_connection, this, ipc::Method::MfaPinChange,
                     ipc::PinChangeParams{secret(pin), secret(newPin)}, std::move(done),
                     [](const nlohmann::json &result) {
                         ipc::EmptyResult::fromJson(result, "/result");
                         return MfaNothing{};
                     });
}

void IpcMfaBackend::beginTotp(const QString &pin, Callback<TotpSetup> done)
{
    send<TotpSetup>(
        m_connection, this, ipc::Method::MfaTotpBegin, ipc::PinParams{secret(pin)}, std::move(done),
        [](const nlohmann::json &result) {
            const auto begin = ipc::TotpBeginResult::fromJson(result, "/result");
            return TotpSetup{QString::fromStdString(begin.otpauthUri), toDateTime(begin.expiresAt)};
        });
}

void IpcMfaBackend::activateTotp(const QString &pin, const QString &code,
                                 Callback<QStringList> done)
{
    send<QStringList>(m_connection, this, ipc::Method::MfaTotpActivate,
                      ipc::TotpActivateParams{secret(pin), secret(code)}, std::move(done),
                      readRecoveryCodes);
}

void IpcMfaBackend::newRecoveryCodes(const QString &pin, Callback<QStringList> done)
{
    send<QStringList>(m_connection, this, ipc::Method::MfaRecoveryCodes,
                      ipc::PinParams{secret(pin)}, std::move(done), readRecoveryCodes);
}

void IpcMfaBackend::signIn(const std::optional<QString> &pin, const std::optional<QString> &otp,
                           Callback<MfaStatus> done)
{
    ipc::SignInParams params;
    if (pin)
        params.pin = secret(*pin);
    if (otp)
        params.otp = secret(*otp);
    send<MfaStatus>(m_connection, this, ipc::Method::SignIn, std::move(params), std::move(done),
                    readStatus);
}

} // namespace vigil::ui
