#pragma once

// The agent's state as vigild shows it (docs/ipc.md, "Status"): the result of status, report,
// enroll and subscribe, and the data of every state event. What `vigilctl status` prints and
// the tray draws; never the token itself.

#include "protocol/jose/devicekey.h"
#include "protocol/messages.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol::ipc {

enum class AgentState
{
    Starting,     // reading its state, not yet talked to the verifier
    NotEnrolled,  // no enrollment and no token file
    Enrolling,    // enrolling, or waiting to retry a failed enrollment (reason says why)
    Compliant,    // the last verdict is compliant
    NonCompliant, // the last verdict is non-compliant; last_verdict lists the failing checks
    Offline,      // the verifier cannot be reached; verifier.last_error says why
    Revoked,      // the verifier no longer knows the device: enroll again
    Error,        // something local is broken (TPM, state directory); reason says what
};
std::string_view agentStateName(AgentState state); // snake_case, as on the wire
std::optional<AgentState> agentStateFromName(std::string_view name);

struct EnrollmentInfo
{
    std::string deviceId;
    Assurance assurance = Assurance::Tpm;
    std::string serverUrl;
};

struct LastVerdict
{
    Verdict verdict = Verdict::NonCompliant;
    TimePoint appraisedAt;
    std::vector<AppraisalCheck> failingChecks; // each with status Fail, ids unique
    // The rest of the verdict, so the tray's details can show every check: status Pass, ids
    // unique and none of them failing.
    std::vector<AppraisalCheck> passingChecks;
};

struct Status
{
    AgentState state = AgentState::Starting;
    std::string reason; // one line for people, "" when the state says it all
    std::optional<EnrollmentInfo> enrollment;
    std::optional<LastVerdict> lastVerdict;
    std::optional<TimePoint> lastReportAt;
    std::optional<TimePoint> nextReportAt;
    std::optional<TimePoint> tokenExpiresAt; // set while vigild holds a token
    bool verifierReachable = false;
    std::string verifierLastError; // "" when the last exchange succeeded or none was tried

    nlohmann::json toJson() const;
    // Throws MessageError naming the member under pointer ("/result", "/data").
    static Status fromJson(const nlohmann::json &json, const std::string &pointer);
};

} // namespace vigil::protocol::ipc
