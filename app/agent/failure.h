#pragma once

// Why a job of the agent failed, sorted by what the agent does next: an unreachable verifier
// means offline and backoff, a revoked device means stop, a refusal or a local fault means an
// error state and backoff. Also the texts the status shows, which are one line for people.

#include "protocol/messages.h"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace vigil::agent {

struct Failure
{
    enum class Kind
    {
        Unreachable, // no answer from the verifier (TransportError)
        Revoked,     // device_revoked, unknown_device
        Refused,     // any other problem, or an answer that breaks the contract
        Local,       // the TPM, the key, the state directory, posture collection
    };

    Kind kind = Kind::Local;
    std::string message; // never a secret: the errors it comes from hold none
    std::optional<std::chrono::seconds> retryAfter; // the verifier's Retry-After
    std::string code;                               // the verifier's problem code, if any
};

Failure classifyFailure(const std::exception_ptr &error);

// text on one line and cut to 1024 bytes: status members may hold 4096 (docs/ipc.md, "Limits").
std::string oneLine(std::string text);
// "2 checks fail: firewall, disk_encryption".
std::string failingChecksReason(const std::vector<protocol::AppraisalCheck> &failing);
// "16:20:01 UTC", for "trying again at …".
std::string timeOfDay(std::chrono::system_clock::time_point time);

} // namespace vigil::agent
