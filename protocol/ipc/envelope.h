#pragma once

// What every message on vigild's local socket shares (docs/ipc.md): the version, the line
// limits, request ids, error codes and the error object. Both ends of the socket ship in one
// package, so unlike the verifier's API (messages.h) every reader here is strict in both
// directions: an unknown member is an error, and a change of shape is a new "v".

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace vigil::protocol::ipc {

inline constexpr int ipcVersion = 1;

// Requests are small; a longer line is refused with request_too_large.
inline constexpr std::size_t maxRequestLineSize = 64 * 1024;
// Where vigild listens unless its configuration says otherwise; clients use it by default.
inline constexpr const char *defaultSocketPath = "/run/vigil/vigild.sock";
// Responses and events carry a status (at most 64 failing checks with their texts) or a
// posture snapshot, each far below this.
inline constexpr std::size_t maxServerLineSize = 4 * 1024 * 1024;

inline constexpr std::size_t maxIdLength = 256;
// Integers every JSON implementation reads exactly (RFC 7493 section 2.2).
inline constexpr long long maxIdInteger = (1LL << 53) - 1;

// The client's id for a request, echoed in its response: an integer or a string.
using RequestId = std::variant<std::int64_t, std::string>;

nlohmann::json idToJson(const RequestId &id);
// The id that value holds, or nullopt when it is not an integer in ±maxIdInteger or a string
// of 1..maxIdLength bytes.
std::optional<RequestId> idFromJson(const nlohmann::json &value);

enum class ErrorCode
{
    MalformedRequest,   // not one JSON object on one line, or the envelope breaks the rules
    UnsupportedVersion, // "v" missing or not 1
    UnknownMethod,      // "method" names no method
    InvalidParams,      // "params" do not fit the method
    RequestTooLarge,    // the line passed maxRequestLineSize; the server then closes
    PermissionDenied,   // the caller may not use the method
    NotEnrolled,        // the method needs an enrolled device
    Busy,               // the same work is already running (a second enroll)
    Unavailable,        // the verifier could not be reached
    Internal,           // vigild failed; its log says why
    // The caller's Vigil user (docs/mfa.md); counts are in the message, mfa_status has them.
    WrongPin,        // the user key refused the PIN; the message says how many tries are left
    PinLocked,       // the TPM (or the software key) locked the key out; the message says how long
    NotEnrolledUser, // the caller's uid has no Vigil user on this device
    AuthenticationRequired, // not signed in, or the session has gone: sign in
    InvalidCode,            // a TOTP or recovery code was refused
    Refused,                // the verifier refused otherwise: "<problem code>: <detail>"
};
std::string_view errorCodeName(ErrorCode code); // snake_case, as on the wire
std::optional<ErrorCode> errorCodeFromName(std::string_view name);

// {"code":"…","message":"…","field":"/params/url"}; field only when one member is at fault.
struct Error
{
    ErrorCode code = ErrorCode::Internal;
    std::string message; // for people; never a secret
    std::string field;   // RFC 6901 pointer into the request, "" for none

    nlohmann::json toJson() const;
    // Throws MessageError naming the member under pointer.
    static Error fromJson(const nlohmann::json &json, const std::string &pointer);
};

// One message as one line: compact JSON (which never holds a raw newline) and "\n". Text that
// is not UTF-8 (an error message from the system, say) is written with U+FFFD in its place
// rather than failing the answer.
std::string toLine(const nlohmann::json &message);

} // namespace vigil::protocol::ipc
