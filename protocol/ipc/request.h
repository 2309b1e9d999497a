#pragma once

// A request to vigild, as the server reads it from one line of its socket (docs/ipc.md):
// {"v":1,"id":…,"method":"…","params":{…}}. parseRequest is strict and turns every fault into
// the error code the server answers with, naming the member by its JSON pointer.

#include "protocol/ipc/envelope.h"
#include "protocol/ipc/mfaparams.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace vigil::protocol::ipc {

enum class Method
{
    Status,
    Posture,
    Subscribe,
    Report,
    Token,
    Dpop,
    Enroll,
    SessionPosture,
    // The caller's own Vigil user (docs/mfa.md): every local user, for their own uid only.
    MfaStatus,
    MfaEnroll,
    MfaPinChange,
    MfaPinReset,
    MfaTotpBegin,
    MfaTotpActivate,
    MfaRecoveryCodes,
    SignIn,
    SignOut,
    UserToken,
};
std::string_view methodName(Method method);
std::optional<Method> methodFromName(std::string_view name);
// report, token, dpop and enroll: only root and the configured group may call them;
// session_posture and the MFA methods are for every local user, since each acts for the
// caller's own uid.
bool isPrivileged(Method method);
// The methods that act on the caller's own Vigil user (mfa_*, sign_in, sign_out, user_token).
bool isUserMethod(Method method);

inline constexpr std::size_t maxHttpMethodLength = 32;
// A session check's details, serialised: the screen lock's are a few hundred bytes.
inline constexpr std::size_t maxSessionDetailsSize = 4096;
inline constexpr std::string_view screenLockCheckId = "screen_lock";

// A DPoP proof for a request the caller is about to make.
struct DpopParams
{
    std::string method;                     // an RFC 9110 token, used as given ("GET")
    std::string url;                        // absolute https URL
    std::optional<std::string> accessToken; // the proof then carries its hash (ath)
};

struct EnrollParams
{
    std::string token; // the enrollment token: a secret, see describe()
};

// What the caller's desktop session found for the checks vigild cannot make as root: for now
// only screen_lock, as the posture engine's CheckResult wire JSON (status, summary, details,
// duration_ms, and remediation for fail or reason for unknown), read strictly here so that
// vigild hands posture/ nothing it has not checked.
struct SessionPostureParams
{
    nlohmann::json screenLock;
};

using Params =
    std::variant<std::monostate, DpopParams, EnrollParams, SessionPostureParams, MfaEnrollParams,
                 PinChangeParams, PinResetParams, PinParams, TotpActivateParams, SignInParams>;

struct Request
{
    RequestId id = std::int64_t{0};
    Method method = Method::Status;
    // DpopParams for Dpop, EnrollParams for Enroll, SessionPostureParams for SessionPosture,
    // MfaEnrollParams, PinChangeParams, PinResetParams, TotpActivateParams and SignInParams for
    // their methods, PinParams for MfaTotpBegin and MfaRecoveryCodes, nothing for the others.
    Params params;

    nlohmann::json toJson() const;
};

// The request for a log line: method, id, the DPoP method and URL, a session check's status,
// the factors a sign_in gives; never the enrollment token, the access token, a PIN, a code or
// an invite.
std::string describe(const Request &request);

// Why a line is not a request, and the id to answer it with when the line had a usable one.
class RequestError : public std::runtime_error
{
public:
    RequestError(std::optional<RequestId> id, Error error);

    const std::optional<RequestId> &id() const { return m_id; }
    const Error &error() const { return m_error; }

private:
    std::optional<RequestId> m_id;
    Error m_error;
};

// One line, without its "\n", at most maxRequestLineSize bytes (the framer's job). Throws
// RequestError: malformed_request for a NUL byte, text that is not UTF-8 JSON, a duplicate
// member, a fault in the envelope (id, method's type, an unknown member); unsupported_version
// for "v"; unknown_method; invalid_params for anything wrong in "params". The JSON it parsed is
// wiped before it returns (the request's secrets live on only in their SecretText); the line
// is the caller's to wipe.
Request parseRequest(std::string_view line);

} // namespace vigil::protocol::ipc
