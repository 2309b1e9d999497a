#include "protocol/ipc/mfaresults.h"

#include "protocol/ipc/mfaparams.h"
#include "protocol/json/objectreader.h"
#include "protocol/rfc3339.h"

#include <algorithm>
#include <array>
#include <utility>

namespace vigil::protocol::ipc {

namespace {

using detail::ObjectReader;

constexpr std::array<std::pair<TotpState, std::string_view>, 3> totpStateNames = {{
    {TotpState::None, "none"},
    {TotpState::Pending, "pending"},
    {TotpState::Active, "active"},
}};

constexpr std::array<std::pair<PromptReason, std::string_view>, 4> promptReasonNames = {{
    {PromptReason::Unlock, "unlock"},
    {PromptReason::Resume, "resume"},
    {PromptReason::Expired, "expired"},
    {PromptReason::Expiring, "expiring"},
}};

// A Vigil session lasts at most what a policy may set (a month); warnings fall within it.
constexpr long long maxSessionSeconds = 31LL * 24 * 3600;
// A user's name on the verifier, as `vigil-verifier users add` takes it.
constexpr std::size_t maxUserNameLength = 256;

bool isLowerCaseUuid(std::string_view text)
{
    if (text.size() != 36)
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

nlohmann::json nullable(const std::optional<std::int64_t> &value)
{
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::optional<std::int64_t> nullableIntegerAt(const ObjectReader &reader, std::string_view name,
                                              long long max)
{
    if (reader.value(name).is_null())
        return std::nullopt;
    return reader.integer(name, 0, max);
}

bool booleanAt(const ObjectReader &reader, std::string_view name)
{
    const auto &value = reader.value(name);
    if (!value.is_boolean())
        reader.fail(name, "must be true or false");
    return value.get<bool>();
}

std::vector<std::string> amrAt(const ObjectReader &reader, std::string_view name)
{
    const auto &array = reader.array(name, std::size(knownAmrValues));
    std::vector<std::string> amr;
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string pointer = detail::childPointer(reader.pointerTo(name), i);
        const std::string value = detail::stringAt(array[i], pointer, 8);
        if (std::find(std::begin(knownAmrValues), std::end(knownAmrValues), value) ==
            std::end(knownAmrValues))
            detail::fail(pointer, "must be one of hwk, swk, pin, otp, mfa");
        if (std::find(amr.begin(), amr.end(), value) != amr.end())
            detail::fail(pointer, "given more than once");
        amr.push_back(value);
    }
    if (amr.empty())
        reader.fail(name, "must name at least one method");
    return amr;
}

std::string recoveryCodeAt(const nlohmann::json &value, const std::string &pointer)
{
    const std::string code = detail::stringAt(value, pointer, 14);
    const auto normal = normaliseRecoveryCode(code);
    if (!normal || *normal != code)
        detail::fail(pointer, "must be XXXX-XXXX-XXXX of A-Z and 2-7");
    return code;
}

nlohmann::json sessionJson(const MfaSessionInfo &session)
{
    return {{"auth_time", formatRfc3339(session.authTime)},
            {"expires_at", formatRfc3339(session.expiresAt)},
            {"amr", session.amr},
            {"warn_before_seconds", session.warnBeforeSeconds}};
}

} // namespace

std::string_view totpStateName(TotpState state)
{
    for (const auto &[known, name] : totpStateNames)
        if (known == state)
            return name;
    return "none";
}

std::optional<TotpState> totpStateFromName(std::string_view name)
{
    for (const auto &[state, known] : totpStateNames)
        if (known == name)
            return state;
    return std::nullopt;
}

nlohmann::json MfaStatus::toJson() const
{
    nlohmann::json json = {{"enrolled", user.has_value()}};
    if (!user)
        return json;
    json["user_id"] = user->userId;
    json["name"] = user->name;
    json["key_assurance"] = assuranceName(user->keyAssurance);
    json["pin_attempts_left"] = nullable(user->pinAttemptsLeft);
    json["pin_locked_out_seconds"] = nullable(user->pinLockedOutSeconds);
    json["totp"] = totpStateName(user->totp);
    json["signed_in"] = user->session.has_value();
    if (user->session)
        json.update(sessionJson(*user->session));
    return json;
}

MfaStatus MfaStatus::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    MfaStatus status;
    if (!booleanAt(reader, "enrolled")) {
        reader.rejectUnknown({"enrolled"});
        return status;
    }
    const bool signedIn = booleanAt(reader, "signed_in");
    if (signedIn)
        reader.rejectUnknown({"amr", "auth_time", "enrolled", "expires_at", "key_assurance", "name",
                              "pin_attempts_left", "pin_locked_out_seconds", "signed_in", "totp",
                              "user_id", "warn_before_seconds"});
    else
        reader.rejectUnknown({"enrolled", "key_assurance", "name", "pin_attempts_left",
                              "pin_locked_out_seconds", "signed_in", "totp", "user_id"});
    MfaUserInfo user;
    user.userId = reader.string("user_id", 36);
    if (!isLowerCaseUuid(user.userId))
        reader.fail("user_id", "must be a lower-case UUID");
    user.name = reader.string("name", maxUserNameLength);
    const auto assurance = assuranceFromName(reader.string("key_assurance", 16));
    if (!assurance)
        reader.fail("key_assurance", "must be \"tpm\" or \"software\"");
    user.keyAssurance = *assurance;
    user.pinAttemptsLeft = nullableIntegerAt(reader, "pin_attempts_left", 1000);
    user.pinLockedOutSeconds =
        nullableIntegerAt(reader, "pin_locked_out_seconds", maxSessionSeconds);
    const auto totp = totpStateFromName(reader.string("totp", 16));
    if (!totp)
        reader.fail("totp", "must be \"none\", \"pending\" or \"active\"");
    user.totp = *totp;
    if (signedIn) {
        MfaSessionInfo session;
        session.authTime = reader.time("auth_time");
        session.expiresAt = reader.time("expires_at");
        session.amr = amrAt(reader, "amr");
        session.warnBeforeSeconds = reader.integer("warn_before_seconds", 0, maxSessionSeconds);
        user.session = std::move(session);
    }
    status.user = std::move(user);
    return status;
}

nlohmann::json TotpBeginResult::toJson() const
{
    return {{"otpauth_uri", otpauthUri}, {"expires_at", formatRfc3339(expiresAt)}};
}

TotpBeginResult TotpBeginResult::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"expires_at", "otpauth_uri"});
    TotpBeginResult result;
    result.otpauthUri = reader.string("otpauth_uri", limits::maxString);
    // Never quoted: the URI holds the secret.
    if (result.otpauthUri.rfind("otpauth://totp/", 0) != 0)
        reader.fail("otpauth_uri", "must start with otpauth://totp/");
    result.expiresAt = reader.time("expires_at");
    return result;
}

nlohmann::json RecoveryCodesResult::toJson() const
{
    return {{"recovery_codes", recoveryCodes}};
}

RecoveryCodesResult RecoveryCodesResult::fromJson(const nlohmann::json &json,
                                                  const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"recovery_codes"});
    const auto &array = reader.array("recovery_codes", maxCodes);
    if (array.empty())
        reader.fail("recovery_codes", "must hold at least one code");
    RecoveryCodesResult result;
    for (std::size_t i = 0; i < array.size(); ++i)
        result.recoveryCodes.push_back(
            recoveryCodeAt(array[i], detail::childPointer(reader.pointerTo("recovery_codes"), i)));
    return result;
}

nlohmann::json UserTokenResult::toJson() const
{
    return {{"access_token", accessToken},
            {"token_type", "DPoP"},
            {"expires_in", expiresIn},
            {"auth_time", formatRfc3339(authTime)},
            {"amr", amr}};
}

UserTokenResult UserTokenResult::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"access_token", "amr", "auth_time", "expires_in", "token_type"});
    UserTokenResult result;
    result.accessToken = reader.string("access_token", limits::maxAccessToken);
    if (reader.string("token_type", 16) != "DPoP")
        reader.fail("token_type", "must be \"DPoP\"");
    result.expiresIn = reader.integer("expires_in", 1, maxExpiresIn);
    result.authTime = reader.time("auth_time");
    result.amr = amrAt(reader, "amr");
    return result;
}

EmptyResult EmptyResult::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    if (!json.empty())
        reader.fail(json.begin().key(), "unknown member (the result has none)");
    return {};
}

std::string_view promptReasonName(PromptReason reason)
{
    for (const auto &[known, name] : promptReasonNames)
        if (known == reason)
            return name;
    return "expired";
}

std::optional<PromptReason> promptReasonFromName(std::string_view name)
{
    for (const auto &[reason, known] : promptReasonNames)
        if (known == name)
            return reason;
    return std::nullopt;
}

std::string_view factorName(Factor factor)
{
    return factor == Factor::Pin ? "pin" : "otp";
}

bool isValidPromptId(std::string_view text)
{
    return !text.empty() && text.size() <= Prompt::maxIdLength &&
           std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
           });
}

nlohmann::json Prompt::toJson() const
{
    nlohmann::json names = nlohmann::json::array();
    for (const Factor factor : factors)
        names.push_back(factorName(factor));
    nlohmann::json json = {
        {"id", id}, {"kind", "sign_in"}, {"reason", promptReasonName(reason)}, {"factors", names}};
    if (expiresAt)
        json["expires_at"] = formatRfc3339(*expiresAt);
    return json;
}

Prompt Prompt::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"expires_at", "factors", "id", "kind", "reason"});
    Prompt prompt;
    prompt.id = reader.string("id", maxIdLength);
    if (!isValidPromptId(prompt.id))
        reader.fail("id", "must be of A-Z a-z 0-9 - _");
    if (reader.string("kind", 16) != "sign_in")
        reader.fail("kind", "must be \"sign_in\"");
    const auto reason = promptReasonFromName(reader.string("reason", 16));
    if (!reason)
        reader.fail("reason", "must be \"unlock\", \"resume\", \"expired\" or \"expiring\"");
    prompt.reason = *reason;
    const auto &factors = reader.array("factors", 2);
    for (std::size_t i = 0; i < factors.size(); ++i) {
        const std::string at = detail::childPointer(reader.pointerTo("factors"), i);
        const std::string name = detail::stringAt(factors[i], at, 8);
        if (name != "pin" && name != "otp")
            detail::fail(at, "must be \"pin\" or \"otp\"");
        const Factor factor = name == "pin" ? Factor::Pin : Factor::Otp;
        if (std::find(prompt.factors.begin(), prompt.factors.end(), factor) != prompt.factors.end())
            detail::fail(at, "given more than once");
        prompt.factors.push_back(factor);
    }
    if (prompt.factors.empty())
        reader.fail("factors", "must name at least one factor");
    if (reader.has("expires_at"))
        prompt.expiresAt = reader.time("expires_at");
    return prompt;
}

} // namespace vigil::protocol::ipc
