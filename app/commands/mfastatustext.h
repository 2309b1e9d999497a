#pragma once

// What the mfa commands share: the user's status as text, and how a result that is a status
// (mfa status, enroll, pin reset, sign-in) is printed and becomes an exit status.

#include "app/commands/secretinput.h"
#include "app/ipcclient/vigildclient.h"
#include "protocol/ipc/mfaresults.h"
#include "protocol/ipc/request.h"

#include <chrono>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

namespace vigil::app::commands {

// A few lines for people: the user, the key, TOTP, the session.
std::string formatMfaStatus(const protocol::ipc::MfaStatus &status);

// 0 signed in, 8 (exitNotSignedIn) enrolled but not signed in, 4 (exitNotEnrolled) no user.
int exitCodeFor(const protocol::ipc::MfaStatus &status);

// result read as an MfaStatus, printed as JSON or formatMfaStatus; returns exitCodeFor it,
// or 0 when zeroWhenEnrolled and the user is enrolled (enroll, pin reset: done).
int printMfaStatusResult(const nlohmann::json &result, bool json, std::ostream &out,
                         bool zeroWhenEnrolled = false);

// The MFA methods use the TPM (a PIN's check may take a second or two) and the verifier.
inline constexpr std::chrono::milliseconds mfaTimeout{90000};

// request's result (method with params), or CallError.
nlohmann::json callMfa(ipcclient::VigildClient &vigild, protocol::ipc::Method method,
                       protocol::ipc::Params params = std::monostate{});

// A PIN, a TOTP code, a recovery code (normalised) or an invite, read and checked here so that
// a typo is told before vigild is asked; SecretInputError says what is wrong with it.
protocol::ipc::SecretText readPin(SecretInput &input, const std::string &prompt);
protocol::ipc::SecretText readNewPin(SecretInput &input);
protocol::ipc::SecretText readTotpCode(SecretInput &input);
protocol::ipc::SecretText readRecoveryCode(SecretInput &input);
protocol::ipc::SecretText readInvite(SecretInput &input);

} // namespace vigil::app::commands
