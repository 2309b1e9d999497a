#pragma once

// What vigild's local socket asks of the agent (docs/ipc.md section 7), as one small interface:
// the IPC server (ipc/) decides who may call what and speaks the wire format; the agent
// (agent.h) does the work. Tests of the server drive it with a scripted implementation.
//
// Everything here runs on the event-loop thread. status() answers at once from what the agent
// holds; the others may take seconds (the TPM, the verifier) and answer through their Reply,
// exactly once, later on the event-loop thread. A Reply may outlive the connection that asked:
// the server then drops the answer.

#include "protocol/ipc/envelope.h"
#include "protocol/ipc/mfaresults.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/status.h"

#include <QObject>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>
#include <variant>

namespace vigil::agent {

// A method's result object (docs/ipc.md section 7), or the error to answer with.
using Outcome = std::variant<nlohmann::json, protocol::ipc::Error>;
using Reply = std::function<void(Outcome)>;

class AgentRequests : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual protocol::ipc::Status status() const = 0;
    // A fresh posture snapshot (PostureResult's JSON).
    virtual void posture(Reply reply) = 0;
    // Who asked for a report: root and vigild's group may start one at any time; any other
    // local user (the tray's "Check now") at most once per Agent::userReportInterval.
    enum class Caller
    {
        Privileged,
        User,
    };
    // Report now, or join the report in flight; the Status after its verdict.
    virtual void report(Caller caller, Reply reply) = 0;
    // The access token held (TokenResult's JSON).
    virtual void token(Reply reply) = 0;
    // A proof by the device key (DpopResult's JSON).
    virtual void dpop(protocol::ipc::DpopParams params, Reply reply) = 0;
    // Enroll with token; the Status once the first report has a verdict.
    virtual void enroll(std::string token, Reply reply) = 0;
    // What uid's desktop session found (session_posture); an empty result once filed.
    virtual void submitSessionPosture(uid_t uid, protocol::ipc::SessionPostureParams params,
                                      Reply reply) = 0;

    // The caller's own Vigil user (docs/ipc.md 7.9). uid is always the caller's from
    // SO_PEERCRED, never one a request names: each user acts on their own account only. Params
    // hold secrets (SecretText): an implementation never logs them and lets them go once used.
    // mfa_status's result (MfaStatus's JSON).
    virtual void mfaStatus(uid_t uid, Reply reply) = 0;
    // The MfaStatus of the new user.
    virtual void mfaEnroll(uid_t uid, protocol::ipc::MfaEnrollParams params, Reply reply) = 0;
    // An empty result.
    virtual void mfaPinChange(uid_t uid, protocol::ipc::PinChangeParams params, Reply reply) = 0;
    // The MfaStatus with the new key.
    virtual void mfaPinReset(uid_t uid, protocol::ipc::PinResetParams params, Reply reply) = 0;
    // TotpBeginResult's JSON.
    virtual void mfaTotpBegin(uid_t uid, protocol::ipc::PinParams params, Reply reply) = 0;
    // RecoveryCodesResult's JSON, for these two.
    virtual void mfaTotpActivate(uid_t uid, protocol::ipc::TotpActivateParams params,
                                 Reply reply) = 0;
    virtual void mfaRecoveryCodes(uid_t uid, protocol::ipc::PinParams params, Reply reply) = 0;
    // The MfaStatus once signed in.
    virtual void signIn(uid_t uid, protocol::ipc::SignInParams params, Reply reply) = 0;
    // An empty result, signed in or not.
    virtual void signOut(uid_t uid, Reply reply) = 0;
    // UserTokenResult's JSON, or authentication_required.
    virtual void userToken(uid_t uid, Reply reply) = 0;

Q_SIGNALS:
    // A member of status() changed: subscribers get the new one as a state event.
    void statusChanged();
    // Ask uid's user to sign in: a prompt event to that uid's subscribers, and nobody else's.
    void promptRaised(uid_t uid, const protocol::ipc::Prompt &prompt);
    // The prompt of that id is over: a prompt_closed event to uid's subscribers.
    void promptClosed(uid_t uid, const std::string &id);
};

} // namespace vigil::agent
