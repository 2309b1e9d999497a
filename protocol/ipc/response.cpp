#include "protocol/ipc/response.h"

#include "protocol/jose/dpop.h"
#include "protocol/json/objectreader.h"
#include "protocol/json/strictjson.h"
#include "protocol/rfc3339.h"

#include <utility>

namespace vigil::protocol::ipc {

namespace {

using detail::ObjectReader;

nlohmann::json envelope()
{
    return {{"v", ipcVersion}};
}

void requireVersion(const ObjectReader &reader)
{
    const std::string supported = "; this implementation supports version 1";
    const auto *found = reader.find("v");
    if (!found)
        throw MessageError("/v", "missing" + supported, MessageError::Kind::UnsupportedVersion);
    const auto &version = *found;
    if (!version.is_number_integer())
        throw MessageError("/v", "must be the integer 1" + supported,
                           MessageError::Kind::UnsupportedVersion);
    if (version != ipcVersion)
        throw MessageError("/v", "unsupported version " + version.dump() + supported,
                           MessageError::Kind::UnsupportedVersion);
}

Response responseFrom(const ObjectReader &reader)
{
    Response response;
    const auto &id = reader.value("id");
    if (!id.is_null()) {
        response.id = idFromJson(id);
        if (!response.id)
            reader.fail("id", "must be null, an integer or a string of 1 to " +
                                  std::to_string(maxIdLength) + " bytes");
    }
    const bool hasError = reader.has("error");
    if (hasError == reader.has("result"))
        reader.fail("result", hasError ? "must not be given with \"error\""
                                       : "missing: a response holds \"result\" or \"error\"");
    if (hasError) {
        reader.rejectUnknown({"error", "id", "v"});
        response.error = Error::fromJson(reader.value("error"), reader.pointerTo("error"));
    } else {
        reader.rejectUnknown({"id", "result", "v"});
        (void)reader.object("result"); // throws unless it is an object
        response.result = reader.value("result");
    }
    return response;
}

ServerMessage eventFrom(const ObjectReader &reader)
{
    reader.rejectUnknown({"data", "event", "v"});
    const std::string name = reader.string("event", 32);
    const std::string data = reader.pointerTo("data");
    if (name == "state")
        return Event{Status::fromJson(reader.value("data"), data)};
    if (name == "prompt") {
        const ObjectReader members(reader.value("data"), data);
        members.rejectUnknown({"prompt"});
        return PromptEvent{Prompt::fromJson(members.value("prompt"), members.pointerTo("prompt"))};
    }
    if (name == "prompt_closed") {
        const ObjectReader members(reader.value("data"), data);
        members.rejectUnknown({"id"});
        PromptClosedEvent event{members.string("id", Prompt::maxIdLength)};
        if (!isValidPromptId(event.id))
            members.fail("id", "must be of A-Z a-z 0-9 - _");
        return event;
    }
    reader.fail("event", "unknown event " + messageExcerpt(name) +
                             " (expected one of: state, prompt, prompt_closed)");
}

} // namespace

Response Response::success(RequestId id, nlohmann::json result)
{
    Response response;
    response.id = std::move(id);
    response.result = std::move(result);
    return response;
}

Response Response::failure(std::optional<RequestId> id, Error error)
{
    Response response;
    response.id = std::move(id);
    response.error = std::move(error);
    return response;
}

nlohmann::json Response::toJson() const
{
    nlohmann::json json = envelope();
    json["id"] = id ? idToJson(*id) : nlohmann::json(nullptr);
    if (error)
        json["error"] = error->toJson();
    else
        json["result"] = result;
    return json;
}

nlohmann::json Event::toJson() const
{
    nlohmann::json json = envelope();
    json["event"] = "state";
    json["data"] = status.toJson();
    return json;
}

nlohmann::json PromptEvent::toJson() const
{
    nlohmann::json json = envelope();
    json["event"] = "prompt";
    json["data"] = {{"prompt", prompt.toJson()}};
    return json;
}

nlohmann::json PromptClosedEvent::toJson() const
{
    nlohmann::json json = envelope();
    json["event"] = "prompt_closed";
    json["data"] = {{"id", id}};
    return json;
}

ServerMessage parseServerMessage(std::string_view line)
{
    nlohmann::json json;
    const std::string failure = parseStrictJson(line, json);
    if (!failure.empty())
        throw MessageError("", "line " + failure);
    const ObjectReader reader(json, "");
    requireVersion(reader);
    if (reader.has("event"))
        return eventFrom(reader);
    return responseFrom(reader);
}

nlohmann::json TokenResult::toJson() const
{
    return {{"access_token", accessToken},
            {"token_type", "DPoP"},
            {"expires_at", formatRfc3339(expiresAt)}};
}

TokenResult TokenResult::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"access_token", "expires_at", "token_type"});
    TokenResult result;
    result.accessToken = reader.string("access_token", limits::maxAccessToken);
    if (reader.string("token_type", 16) != "DPoP")
        reader.fail("token_type", "must be \"DPoP\"");
    result.expiresAt = reader.time("expires_at");
    return result;
}

nlohmann::json DpopResult::toJson() const
{
    return {{"proof", proof}};
}

DpopResult DpopResult::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"proof"});
    return DpopResult{reader.string("proof", maxDpopProofLength)};
}

PostureResult PostureResult::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    (void)ObjectReader(json, pointer); // throws unless it is an object
    return PostureResult{json};
}

SessionPostureResult SessionPostureResult::fromJson(const nlohmann::json &json,
                                                    const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    if (!json.empty())
        reader.fail(json.begin().key(), "unknown member (the result of session_posture has none)");
    return {};
}

} // namespace vigil::protocol::ipc
