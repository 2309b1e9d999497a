#include "protocol/ipc/request.h"

#include "core/text.h"
#include "protocol/jose/dpop.h"
#include "protocol/json/objectreader.h"
#include "protocol/json/strictjson.h"
#include "protocol/messages.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <utility>

namespace vigil::protocol::ipc {

namespace {

using detail::ObjectReader;

constexpr std::array<std::pair<Method, std::string_view>, 18> methodNames = {{
    {Method::Status, "status"},
    {Method::Posture, "posture"},
    {Method::Subscribe, "subscribe"},
    {Method::Report, "report"},
    {Method::Token, "token"},
    {Method::Dpop, "dpop"},
    {Method::Enroll, "enroll"},
    {Method::SessionPosture, "session_posture"},
    {Method::MfaStatus, "mfa_status"},
    {Method::MfaEnroll, "mfa_enroll"},
    {Method::MfaPinChange, "mfa_pin_change"},
    {Method::MfaPinReset, "mfa_pin_reset"},
    {Method::MfaTotpBegin, "mfa_totp_begin"},
    {Method::MfaTotpActivate, "mfa_totp_activate"},
    {Method::MfaRecoveryCodes, "mfa_recovery_codes"},
    {Method::SignIn, "sign_in"},
    {Method::SignOut, "sign_out"},
    {Method::UserToken, "user_token"},
}};

[[noreturn]] void refuse(const std::optional<RequestId> &id, ErrorCode code, std::string field,
                         std::string message)
{
    throw RequestError(id, Error{code, std::move(message), std::move(field)});
}

std::string jsonFaultMessage(JsonFault::Kind kind)
{
    switch (kind) {
    case JsonFault::Kind::DuplicateName:
        return "member given more than once";
    case JsonFault::Kind::TooDeep:
        return "nests deeper than " + std::to_string(maxJsonDepth) + " levels";
    case JsonFault::Kind::NotJson:
        break;
    }
    return "not valid UTF-8 JSON";
}

// RFC 9110 section 5.6.2: tchar.
bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isAbsoluteHttpsUrl(const std::string &url)
{
    if (!equalsIgnoringAsciiCase(std::string_view(url).substr(0, 8), "https://"))
        return false;
    try {
        normaliseHtu(url);
        return true;
    } catch (const JoseError &) {
        return false;
    }
}

DpopParams dpopParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"access_token", "method", "url"});
    DpopParams params;
    params.method = reader.string("method", maxHttpMethodLength);
    if (!std::all_of(params.method.begin(), params.method.end(), isTokenChar))
        reader.fail("method", "must be an HTTP method token such as \"GET\"");
    params.url = reader.string("url", limits::maxString);
    if (!isAbsoluteHttpsUrl(params.url))
        reader.fail("url", "must be an absolute https URL with a host");
    if (reader.has("access_token"))
        params.accessToken = reader.string("access_token", limits::maxAccessToken);
    return params;
}

EnrollParams enrollParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"token"});
    return EnrollParams{reader.string("token", limits::maxString)};
}

// A CheckResult's wire JSON (posture/checkresult.h), with nothing it does not define: remediation
// belongs to fail and reason to unknown, as the engine writes them.
nlohmann::json sessionCheck(const ObjectReader &reader)
{
    const auto *status = reader.find("status");
    if (!status)
        reader.fail("status", "missing");
    const bool fail = *status == "fail";
    const bool unknown = *status == "unknown";
    if (!fail && !unknown && *status != "pass")
        reader.fail("status", "must be \"pass\", \"fail\" or \"unknown\"");
    if (fail)
        reader.rejectUnknown({"details", "duration_ms", "remediation", "status", "summary"});
    else if (unknown)
        reader.rejectUnknown({"details", "duration_ms", "reason", "status", "summary"});
    else
        reader.rejectUnknown({"details", "duration_ms", "status", "summary"});
    nlohmann::json check = {
        {"status", *status},
        {"summary", reader.string("summary", limits::maxString)},
        // A check never runs for a day; CheckResult refuses more.
        {"duration_ms", reader.integer("duration_ms", 0, 24LL * 3600 * 1000)},
    };
    if (fail)
        check["remediation"] = reader.string("remediation", limits::maxString);
    if (unknown)
        check["reason"] = reader.string("reason", limits::maxString);
    (void)reader.object("details"); // throws unless it is an object
    const nlohmann::json &details = reader.value("details");
    if (details.dump().size() > maxSessionDetailsSize)
        reader.fail("details",
                    "longer than " + std::to_string(maxSessionDetailsSize) + " bytes as JSON");
    check["details"] = details;
    return check;
}

SessionPostureParams sessionPostureParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"checks"});
    const ObjectReader checks = reader.object("checks");
    checks.rejectUnknown({screenLockCheckId});
    return SessionPostureParams{sessionCheck(checks.object(screenLockCheckId))};
}

bool takesParams(Method method)
{
    switch (method) {
    case Method::Dpop:
    case Method::Enroll:
    case Method::SessionPosture:
    case Method::MfaEnroll:
    case Method::MfaPinChange:
    case Method::MfaPinReset:
    case Method::MfaTotpBegin:
    case Method::MfaTotpActivate:
    case Method::MfaRecoveryCodes:
    case Method::SignIn:
        return true;
    case Method::Status:
    case Method::Posture:
    case Method::Subscribe:
    case Method::Report:
    case Method::Token:
    case Method::MfaStatus:
    case Method::SignOut:
    case Method::UserToken:
        break;
    }
    return false;
}

Params paramsFor(Method method, const nlohmann::json *json)
{
    static const nlohmann::json none = nlohmann::json::object();
    if (!json && takesParams(method))
        detail::fail("/params", "missing");
    const nlohmann::json &members = json ? *json : none;
    const ObjectReader reader(members, "/params");
    switch (method) {
    case Method::Dpop:
        return dpopParams(reader);
    case Method::Enroll:
        return enrollParams(reader);
    case Method::SessionPosture:
        return sessionPostureParams(reader);
    case Method::MfaEnroll:
        return mfareaders::mfaEnrollParams(reader);
    case Method::MfaPinChange:
        return mfareaders::pinChangeParams(reader);
    case Method::MfaPinReset:
        return mfareaders::pinResetParams(reader);
    case Method::MfaTotpBegin:
    case Method::MfaRecoveryCodes:
        return mfareaders::pinParams(reader);
    case Method::MfaTotpActivate:
        return mfareaders::totpActivateParams(reader);
    case Method::SignIn:
        return mfareaders::signInParams(reader);
    case Method::Status:
    case Method::Posture:
    case Method::Subscribe:
    case Method::Report:
    case Method::Token:
    case Method::MfaStatus:
    case Method::SignOut:
    case Method::UserToken:
        break;
    }
    if (!members.empty())
        reader.fail(members.begin().key(),
                    "unknown member (" + std::string(methodName(method)) + " takes no params)");
    return std::monostate{};
}

std::string secretText(const SecretText &secret)
{
    return std::string(secret.reveal());
}

// The params of an MFA method as JSON, secrets and all: for the line a client sends.
nlohmann::json userParamsJson(const Params &params)
{
    return std::visit(
        [](const auto &value) -> nlohmann::json {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, MfaEnrollParams>)
                return {{"invite_code", secretText(value.inviteCode)},
                        {"pin", secretText(value.pin)}};
            else if constexpr (std::is_same_v<T, PinChangeParams>)
                return {{"pin", secretText(value.pin)}, {"new_pin", secretText(value.newPin)}};
            else if constexpr (std::is_same_v<T, PinResetParams>)
                return {{"recovery_code", secretText(value.recoveryCode)},
                        {"new_pin", secretText(value.newPin)}};
            else if constexpr (std::is_same_v<T, PinParams>)
                return {{"pin", secretText(value.pin)}};
            else if constexpr (std::is_same_v<T, TotpActivateParams>)
                return {{"pin", secretText(value.pin)}, {"code", secretText(value.code)}};
            else if constexpr (std::is_same_v<T, SignInParams>) {
                nlohmann::json json = nlohmann::json::object();
                if (value.pin)
                    json["pin"] = secretText(*value.pin);
                if (value.otp)
                    json["otp"] = secretText(*value.otp);
                return json;
            } else
                return nullptr;
        },
        params);
}

// "v" before every other member: a request of another version may differ in all of them.
void checkVersion(const nlohmann::json &json, const std::optional<RequestId> &id)
{
    const char *supported = "this implementation supports version 1";
    const auto it = json.find("v");
    if (it == json.end())
        refuse(id, ErrorCode::UnsupportedVersion, "/v", std::string("missing; ") + supported);
    if (!it->is_number_integer())
        refuse(id, ErrorCode::UnsupportedVersion, "/v",
               std::string("must be the integer 1; ") + supported);
    if (*it != ipcVersion)
        refuse(id, ErrorCode::UnsupportedVersion, "/v",
               "unsupported version " + it->dump() + "; " + supported);
}

std::string knownMethods()
{
    std::string names;
    for (const auto &[method, name] : methodNames)
        names += (names.empty() ? "" : ", ") + std::string(name);
    return names;
}

} // namespace

std::string_view methodName(Method method)
{
    for (const auto &[known, name] : methodNames)
        if (known == method)
            return name;
    return "status";
}

std::optional<Method> methodFromName(std::string_view name)
{
    for (const auto &[method, known] : methodNames)
        if (known == name)
            return method;
    return std::nullopt;
}

bool isPrivileged(Method method)
{
    return method == Method::Token || method == Method::Dpop || method == Method::Enroll;
}

bool isUserMethod(Method method)
{
    switch (method) {
    case Method::MfaStatus:
    case Method::MfaEnroll:
    case Method::MfaPinChange:
    case Method::MfaPinReset:
    case Method::MfaTotpBegin:
    case Method::MfaTotpActivate:
    case Method::MfaRecoveryCodes:
    case Method::SignIn:
    case Method::SignOut:
    case Method::UserToken:
        return true;
    default:
        return false;
    }
}

nlohmann::json Request::toJson() const
{
    nlohmann::json paramsJson = nlohmann::json::object();
    if (const auto *dpop = std::get_if<DpopParams>(&params)) {
        paramsJson = {{"method", dpop->method}, {"url", dpop->url}};
        if (dpop->accessToken)
            paramsJson["access_token"] = *dpop->accessToken;
    } else if (const auto *enroll = std::get_if<EnrollParams>(&params)) {
        paramsJson = {{"token", enroll->token}};
    } else if (const auto *session = std::get_if<SessionPostureParams>(&params)) {
        paramsJson = {{"checks", {{screenLockCheckId, session->screenLock}}}};
    } else if (auto user = userParamsJson(params); !user.is_null()) {
        paramsJson = std::move(user);
    }
    return {{"v", ipcVersion},
            {"id", idToJson(id)},
            {"method", methodName(method)},
            {"params", std::move(paramsJson)}};
}

std::string describe(const Request &request)
{
    std::string text(methodName(request.method));
    text += " (id ";
    text += std::visit(
        [](const auto &id) {
            if constexpr (std::is_same_v<std::decay_t<decltype(id)>, std::string>)
                return messageExcerpt(id);
            else
                return std::to_string(id);
        },
        request.id);
    text += ')';
    if (const auto *dpop = std::get_if<DpopParams>(&request.params)) {
        // The URL without its query and fragment, which may hold secrets of their own. Only
        // a request built by hand can hold a URL parseRequest refuses; a log line must not throw.
        std::string url;
        try {
            url = normaliseHtu(dpop->url);
        } catch (const JoseError &) {
            url = "(an invalid URL)";
        }
        text += ' ' + messageExcerpt(dpop->method) + ' ' + url;
        if (dpop->accessToken)
            text += " with an access token";
    }
    if (const auto *session = std::get_if<SessionPostureParams>(&request.params)) {
        const auto status = session->screenLock.find("status");
        text += " screen_lock ";
        text += status != session->screenLock.end() && status->is_string()
                    ? messageExcerpt(status->get<std::string>())
                    : "(no status)";
    }
    if (const auto *signIn = std::get_if<SignInParams>(&request.params)) {
        // Which factors, never what they are.
        text += signIn->pin && signIn->otp ? " with pin and otp"
                : signIn->pin              ? " with pin"
                                           : " with otp";
    }
    return text;
}

RequestError::RequestError(std::optional<RequestId> id, Error error)
    : std::runtime_error(error.field.empty() ? error.message : error.field + ": " + error.message),
      m_id(std::move(id)), m_error(std::move(error))
{
}

Request parseRequest(std::string_view line)
{
    // The strict reader refuses a NUL too, but as not JSON: this says what is wrong.
    if (line.find('\0') != std::string_view::npos)
        refuse(std::nullopt, ErrorCode::MalformedRequest, "", "the line holds a NUL byte");
    nlohmann::json json;
    // The parser's copies of a PIN or code go however this ends: the request's SecretText is
    // the one left.
    struct Wipe
    {
        nlohmann::json &json;
        ~Wipe() { wipeJsonStrings(json); }
    } wipe{json};
    if (const auto fault = parseStrictJson(line, json, maxJsonDepth))
        refuse(std::nullopt, ErrorCode::MalformedRequest, fault->pointer,
               jsonFaultMessage(fault->kind));
    if (!json.is_object())
        refuse(std::nullopt, ErrorCode::MalformedRequest, "", "must be a JSON object");

    // Read before anything is checked, so that every later error reaches the caller's request.
    const auto idMember = json.find("id");
    const std::optional<RequestId> id =
        idMember == json.end() ? std::nullopt : idFromJson(*idMember);
    checkVersion(json, id);
    if (!id)
        refuse(std::nullopt, ErrorCode::MalformedRequest, "/id",
               idMember == json.end()
                   ? "missing"
                   : "must be an integer from -" + std::to_string(maxIdInteger) + " to " +
                         std::to_string(maxIdInteger) + " or a string of 1 to " +
                         std::to_string(maxIdLength) + " bytes");

    std::string name;
    try {
        const ObjectReader reader(json, "");
        reader.rejectUnknown({"id", "method", "params", "v"});
        name = reader.string("method", limits::maxString);
    } catch (const MessageError &e) {
        refuse(id, ErrorCode::MalformedRequest, e.field(), e.reason());
    }
    const auto method = methodFromName(name);
    if (!method)
        refuse(id, ErrorCode::UnknownMethod, "/method",
               "unknown method " + messageExcerpt(name) + " (expected one of: " + knownMethods() +
                   ")");

    Request request;
    request.id = *id;
    request.method = *method;
    try {
        const auto paramsMember = json.find("params");
        request.params =
            paramsFor(request.method, paramsMember == json.end() ? nullptr : &*paramsMember);
    } catch (const MessageError &e) {
        refuse(id, ErrorCode::InvalidParams, e.field(), e.reason());
    }
    return request;
}

} // namespace vigil::protocol::ipc
