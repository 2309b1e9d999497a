#pragma once

// An AgentRequests for the IPC server's suites: holds what each call asked for and its Reply
// until the test answers, or answers at once; raises prompts when the test says.

#include "app/agent/agentrequests.h"

#include <QtTest>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::test {

using agent::Reply;
using nlohmann::json;
namespace ipc = protocol::ipc;

class ScriptedAgent : public agent::AgentRequests
{
public:
    struct Call
    {
        std::string method;
        Reply reply;
    };

    ipc::Status current;
    std::vector<Call> calls;
    std::vector<Caller> reportCallers;
    bool answerAtOnce = false;
    bool fail = false; // throws, as a broken agent would
    std::optional<ipc::DpopParams> lastDpop;
    std::optional<std::string> lastEnrollToken;
    std::optional<uid_t> lastSessionUid;
    std::optional<ipc::SessionPostureParams> lastSessionPosture;

    ipc::Status status() const override { return current; }
    void posture(Reply reply) override { take("posture", std::move(reply)); }
    void report(Caller caller, Reply reply) override
    {
        reportCallers.push_back(caller);
        take("report", std::move(reply));
    }
    void token(Reply reply) override { take("token", std::move(reply)); }
    void dpop(ipc::DpopParams params, Reply reply) override
    {
        lastDpop = std::move(params);
        take("dpop", std::move(reply));
    }
    void enroll(std::string token, Reply reply) override
    {
        lastEnrollToken = std::move(token);
        take("enroll", std::move(reply));
    }
    void submitSessionPosture(uid_t uid, ipc::SessionPostureParams params, Reply reply) override
    {
        lastSessionUid = uid;
        lastSessionPosture = std::move(params);
        take("session_posture", std::move(reply));
    }

    // The user methods: the uid they came for and their params, secrets and all.
    std::optional<uid_t> lastUserUid;
    ipc::Params lastUserParams;
    void mfaStatus(uid_t uid, Reply reply) override
    {
        user(uid, "mfa_status", {}, std::move(reply));
    }
    void mfaEnroll(uid_t uid, ipc::MfaEnrollParams params, Reply reply) override
    {
        user(uid, "mfa_enroll", std::move(params), std::move(reply));
    }
    void mfaPinChange(uid_t uid, ipc::PinChangeParams params, Reply reply) override
    {
        user(uid, "mfa_pin_change", std::move(params), std::move(reply));
    }
    void mfaPinReset(uid_t uid, ipc::PinResetParams params, Reply reply) override
    {
        user(uid, "mfa_pin_reset", std::move(params), std::move(reply));
    }
    void mfaTotpBegin(uid_t uid, ipc::PinParams params, Reply reply) override
    {
        user(uid, "mfa_totp_begin", std::move(params), std::move(reply));
    }
    void mfaTotpActivate(uid_t uid, ipc::TotpActivateParams params, Reply reply) override
    {
        user(uid, "mfa_totp_activate", std::move(params), std::move(reply));
    }
    void mfaRecoveryCodes(uid_t uid, ipc::PinParams params, Reply reply) override
    {
        user(uid, "mfa_recovery_codes", std::move(params), std::move(reply));
    }
    void signIn(uid_t uid, ipc::SignInParams params, Reply reply) override
    {
        user(uid, "sign_in", std::move(params), std::move(reply));
    }
    void signOut(uid_t uid, Reply reply) override { user(uid, "sign_out", {}, std::move(reply)); }
    void userToken(uid_t uid, Reply reply) override
    {
        user(uid, "user_token", {}, std::move(reply));
    }

    void change(std::string reason)
    {
        current.reason = std::move(reason);
        Q_EMIT statusChanged();
    }

private:
    void user(uid_t uid, std::string method, ipc::Params params, Reply reply)
    {
        lastUserUid = uid;
        lastUserParams = std::move(params);
        take(std::move(method), std::move(reply));
    }
    void take(std::string method, Reply reply)
    {
        if (fail)
            throw std::runtime_error("scripted failure");
        if (answerAtOnce)
            reply(json{{"answered", method}});
        else
            calls.push_back({std::move(method), std::move(reply)});
    }
};

} // namespace vigil::test
