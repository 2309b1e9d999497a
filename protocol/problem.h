#pragma once

// Errors on the wire: RFC 9457 problem details (application/problem+json), and MessageError,
// the exception every strict parser of this library throws for a bad body or claim set.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol {

inline constexpr std::string_view problemTypePrefix = "https://vigil.dev/problems/";
inline constexpr std::string_view problemContentType = "application/problem+json";

// {"type":"https://vigil.dev/problems/<code>","title":…,"status":…,"detail":…,"code":…,
//  "field":"<JSON pointer>","evidence_error":"<name>"}; field and evidence_error only when set.
struct Problem
{
    int status = 500;
    std::string code;          // stable snake_case, see problemTypes()
    std::string title;         // short and fixed per code
    std::string detail;        // this occurrence, for people; never a secret
    std::string field;         // JSON pointer of the bad member, "" when none
    std::string evidenceError; // evidence_rejected: attestation::evidenceErrorName or the EK
                               // certificate error name

    nlohmann::json toJson() const;
    // Strict: type must be problemTypePrefix + code, status 400..599, code snake_case. Unknown
    // codes are accepted (a newer verifier may add some); unknown members are ignored.
    // Throws MessageError.
    static Problem fromJson(const nlohmann::json &json);
};

// The codes of the contract with the HTTP status and title each is sent with.
struct ProblemType
{
    std::string_view code;
    int status;
    std::string_view title;
};
const std::vector<ProblemType> &problemTypes();

// A problem of a known code with its status and title. Throws std::invalid_argument for a code
// that is not in problemTypes() (a programming error, not bad input).
Problem makeProblem(std::string_view code, std::string detail, std::string field = {});

// A body, claim set or problem that breaks the contract. field() is the JSON pointer of the
// member at fault (RFC 6901, "" for the whole document); what() starts with it.
class MessageError : public std::runtime_error
{
public:
    enum class Kind
    {
        Malformed,          // -> 400 malformed_request
        UnsupportedVersion, // "version" is missing or not 1 -> 400 unsupported_version
        TooLarge,           // the body exceeds the size limit -> 413 payload_too_large
    };

    MessageError(std::string field, const std::string &reason, Kind kind = Kind::Malformed);

    const std::string &field() const { return m_field; }
    // What is wrong with the field, without the field: for a caller that words its own error.
    const std::string &reason() const { return m_reason; }
    Kind kind() const { return m_kind; }

private:
    std::string m_field;
    std::string m_reason;
    Kind m_kind;
};

// The problem a server answers a MessageError from a request body with.
Problem problemFor(const MessageError &error);

} // namespace vigil::protocol
