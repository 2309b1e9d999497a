#include "protocol/ipc/envelope.h"

#include "protocol/json/objectreader.h"
#include "protocol/messages.h"

#include <array>
#include <utility>

namespace vigil::protocol::ipc {

namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 16> errorCodeNames = {{
    {ErrorCode::MalformedRequest, "malformed_request"},
    {ErrorCode::UnsupportedVersion, "unsupported_version"},
    {ErrorCode::UnknownMethod, "unknown_method"},
    {ErrorCode::InvalidParams, "invalid_params"},
    {ErrorCode::RequestTooLarge, "request_too_large"},
    {ErrorCode::PermissionDenied, "permission_denied"},
    {ErrorCode::NotEnrolled, "not_enrolled"},
    {ErrorCode::Busy, "busy"},
    {ErrorCode::Unavailable, "unavailable"},
    {ErrorCode::Internal, "internal"},
    {ErrorCode::WrongPin, "wrong_pin"},
    {ErrorCode::PinLocked, "pin_locked"},
    {ErrorCode::NotEnrolledUser, "not_enrolled_user"},
    {ErrorCode::AuthenticationRequired, "authentication_required"},
    {ErrorCode::InvalidCode, "invalid_code"},
    {ErrorCode::Refused, "refused"},
}};

} // namespace

nlohmann::json idToJson(const RequestId &id)
{
    return std::visit([](const auto &value) { return nlohmann::json(value); }, id);
}

std::optional<RequestId> idFromJson(const nlohmann::json &value)
{
    if (value.is_string()) {
        const auto &text = value.get_ref<const std::string &>();
        if (text.empty() || text.size() > maxIdLength)
            return std::nullopt;
        return text;
    }
    if (const auto n = detail::integerIn(value, -maxIdInteger, maxIdInteger))
        return static_cast<std::int64_t>(*n);
    return std::nullopt;
}

std::string_view errorCodeName(ErrorCode code)
{
    for (const auto &[known, name] : errorCodeNames)
        if (known == code)
            return name;
    return "internal";
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name)
{
    for (const auto &[code, known] : errorCodeNames)
        if (known == name)
            return code;
    return std::nullopt;
}

nlohmann::json Error::toJson() const
{
    nlohmann::json json = {{"code", errorCodeName(code)}, {"message", message}};
    if (!field.empty())
        json["field"] = field;
    return json;
}

Error Error::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const detail::ObjectReader reader(json, pointer);
    reader.rejectUnknown({"code", "field", "message"});
    Error error;
    const auto code = errorCodeFromName(reader.string("code", 32));
    if (!code)
        reader.fail("code", "is not an error code of docs/ipc.md");
    error.code = *code;
    error.message = reader.string("message", limits::maxString, 0);
    // A pointer names a member of a request line, so it is no longer than one.
    if (reader.has("field"))
        error.field = reader.string("field", maxRequestLineSize);
    return error;
}

std::string toLine(const nlohmann::json &message)
{
    return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

} // namespace vigil::protocol::ipc
