#pragma once

// What vigild writes to a client (docs/ipc.md): a response to each request,
// {"v":1,"id":…,"result":{…}} or {"v":1,"id":…,"error":{…}}, and, after subscribe, events
// {"v":1,"event":"state","data":{…}}. The client reads both with parseServerMessage, then the
// result with the type of the method it called.

#include "protocol/ipc/envelope.h"
#include "protocol/ipc/mfaresults.h"
#include "protocol/ipc/status.h"
#include "protocol/messages.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace vigil::protocol::ipc {

struct Response
{
    // The request's id; nullopt (written as null) only when the request had no usable one.
    std::optional<RequestId> id;
    std::optional<Error> error;
    nlohmann::json result = nlohmann::json::object(); // without error: the method's result

    static Response success(RequestId id, nlohmann::json result);
    static Response failure(std::optional<RequestId> id, Error error);

    nlohmann::json toJson() const;
};

// The agent's status changed ("state"): to every subscriber.
struct Event
{
    Status status;

    nlohmann::json toJson() const;
};

// vigild asks the user to sign in ("prompt"): only to the subscribers of the uid it concerns.
struct PromptEvent
{
    Prompt prompt;

    nlohmann::json toJson() const;
};

// The prompt of that id was answered elsewhere or is no longer needed ("prompt_closed").
struct PromptClosedEvent
{
    std::string id;

    nlohmann::json toJson() const;
};

using ServerMessage = std::variant<Response, Event, PromptEvent, PromptClosedEvent>;

// One line from vigild without its "\n". Strict (envelope, error object, the event's status);
// a result object is left to the caller's result type. Throws MessageError: kind
// UnsupportedVersion for "v", Malformed otherwise.
ServerMessage parseServerMessage(std::string_view line);

// The results of status, report, enroll and subscribe are a Status (Status::fromJson with
// pointer "/result"); those of the MFA methods are in mfaresults.h.

// token: a DPoP-bound access token for the caller's own requests.
struct TokenResult
{
    std::string accessToken; // a secret: never logged
    TimePoint expiresAt;

    nlohmann::json toJson() const; // token_type is always "DPoP"
    static TokenResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

// dpop: one proof for the request named in the params.
struct DpopResult
{
    std::string proof;

    nlohmann::json toJson() const;
    static DpopResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

// posture: the PostureSnapshot JSON as the collectors made it (posture/'s schema, which this
// library does not link); only that it is an object is checked here.
struct PostureResult
{
    nlohmann::json snapshot = nlohmann::json::object();

    nlohmann::json toJson() const { return snapshot; }
    static PostureResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

// session_posture: taken; the result has no members (vigild says nothing of other sessions).
struct SessionPostureResult
{
    nlohmann::json toJson() const { return nlohmann::json::object(); }
    static SessionPostureResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

} // namespace vigil::protocol::ipc
