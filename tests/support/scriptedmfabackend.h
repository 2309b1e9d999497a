#pragma once

// An MfaBackend that answers from a script, for the tray's MFA screens: each call is recorded
// (secrets included, so that tests can check what the screens sent) and answered with the next
// reply queued for its method, on a later turn of the event loop as vigild's answer would come.
// With hold set, answers wait for release(): the screens' busy state can be looked at. A call
// nothing was queued for gets the error "unscripted", which no screen knows.

#include "ui/mfa/mfabackend.h"

#include <QTimer>
#include <deque>
#include <functional>

namespace vigil::test {

class ScriptedMfaBackend final : public ui::MfaBackend
{
public:
    struct Call
    {
        QString method; // "status", "enroll", "changePin", "beginTotp", "activateTotp", …
        QString invite;
        std::optional<QString> pin;
        QString newPin;
        std::optional<QString> code;
    };

    template <class T> static ui::MfaReply<T> failure(const QString &code, const char *message = "")
    {
        return ui::MfaReply<T>{ui::MfaError{code, QString::fromUtf8(message)}, T{}};
    }
    template <class T> static ui::MfaReply<T> success(T value)
    {
        return ui::MfaReply<T>{std::nullopt, std::move(value)};
    }

    std::deque<ui::MfaReply<ui::MfaStatus>> statusReplies;
    std::deque<ui::MfaReply<ui::MfaStatus>> enrollReplies;
    std::deque<ui::MfaReply<ui::MfaNothing>> changePinReplies;
    std::deque<ui::MfaReply<ui::TotpSetup>> beginReplies;
    std::deque<ui::MfaReply<QStringList>> activateReplies;
    std::deque<ui::MfaReply<QStringList>> recoveryReplies;
    std::deque<ui::MfaReply<ui::MfaStatus>> signInReplies;

    QList<Call> calls;
    bool hold = false;

    int pendingCount() const { return int(m_pending.size()); }
    // Delivers the held answers, oldest first.
    void release()
    {
        auto pending = std::move(m_pending);
        m_pending.clear();
        for (auto &answer : pending)
            answer();
    }

    void status(Callback<ui::MfaStatus> done) override
    {
        calls.append({QStringLiteral("status"), {}, {}, {}, {}});
        answer(statusReplies, std::move(done));
    }
    void enroll(const QString &inviteCode, const QString &pin,
                Callback<ui::MfaStatus> done) override
    {
        calls.append({QStringLiteral("enroll"), inviteCode, pin, {}, {}});
        answer(enrollReplies, std::move(done));
    }
    void changePin(const QString &pin, const QString &newPin,
                   Callback<ui::MfaNothing> done) override
    {
        calls.append({QStringLiteral("changePin"), {}, pin, newPin, {}});
        answer(changePinReplies, std::move(done));
    }
    void beginTotp(const QString &pin, Callback<ui::TotpSetup> done) override
    {
        calls.append({QStringLiteral("beginTotp"), {}, pin, {}, {}});
        answer(beginReplies, std::move(done));
    }
    void activateTotp(const QString &pin, const QString &code, Callback<QStringList> done) override
    {
        calls.append({QStringLiteral("activateTotp"), {}, pin, {}, code});
        answer(activateReplies, std::move(done));
    }
    void newRecoveryCodes(const QString &pin, Callback<QStringList> done) override
    {
        calls.append({QStringLiteral("newRecoveryCodes"), {}, pin, {}, {}});
        answer(recoveryReplies, std::move(done));
    }
    void signIn(const std::optional<QString> &pin, const std::optional<QString> &otp,
                Callback<ui::MfaStatus> done) override
    {
        calls.append({QStringLiteral("signIn"), {}, pin, {}, otp});
        answer(signInReplies, std::move(done));
    }

private:
    template <class T> void answer(std::deque<ui::MfaReply<T>> &queue, Callback<T> done)
    {
        ui::MfaReply<T> reply = failure<T>(QStringLiteral("unscripted"));
        if (!queue.empty()) {
            reply = std::move(queue.front());
            queue.pop_front();
        }
        auto deliver = [done = std::move(done), reply = std::move(reply)] { done(reply); };
        if (hold)
            m_pending.push_back(std::move(deliver));
        else
            QTimer::singleShot(0, this, std::move(deliver));
    }

    std::vector<std::function<void()>> m_pending;
};

} // namespace vigil::test
