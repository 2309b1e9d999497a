#include "protocol/ipc/mfaparams.h"

#include "protocol/json/objectreader.h"

#include <algorithm>

namespace vigil::protocol::ipc {

namespace {

using protocol::detail::ObjectReader;

std::string number(std::size_t n)
{
    return std::to_string(n);
}

// The string member name, by reference: the secret is copied once, into the SecretText.
const std::string &secretString(const ObjectReader &reader, std::string_view name)
{
    const nlohmann::json &value = reader.value(name);
    if (!value.is_string())
        reader.fail(name, "must be a string");
    return value.get_ref<const std::string &>();
}

SecretText pinAt(const ObjectReader &reader, std::string_view name)
{
    const std::string &text = secretString(reader, name);
    if (text.size() < minPinLength || text.size() > maxPinLength)
        reader.fail(name, "must be " + number(minPinLength) + " to " + number(maxPinLength) +
                              " bytes of UTF-8");
    if (!isValidPin(text))
        reader.fail(name, "must not hold control characters");
    return SecretText(text);
}

SecretText totpCodeAt(const ObjectReader &reader, std::string_view name)
{
    const std::string &text = secretString(reader, name);
    if (!isValidTotpCode(text))
        reader.fail(name, "must be exactly " + number(totpCodeLength) + " digits 0-9");
    return SecretText(text);
}

SecretText recoveryCodeAt(const ObjectReader &reader, std::string_view name)
{
    const std::string &text = secretString(reader, name);
    std::optional<std::string> code;
    if (text.size() <= maxRecoveryCodeInputLength)
        code = normaliseRecoveryCode(text);
    if (!code)
        reader.fail(name, "must be 12 characters A-Z and 2-7, as XXXX-XXXX-XXXX");
    SecretText secret(std::move(*code));
    wipeString(*code);
    return secret;
}

SecretText inviteCodeAt(const ObjectReader &reader, std::string_view name)
{
    const std::string &text = secretString(reader, name);
    if (text.empty() || text.size() > maxInviteCodeLength ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; }))
        reader.fail(name, "must be 1 to " + number(maxInviteCodeLength) +
                              " printable ASCII characters without spaces");
    return SecretText(text);
}

} // namespace

std::optional<std::string> normaliseRecoveryCode(std::string_view typed)
{
    std::string code;
    code.reserve(14);
    for (const char c : typed) {
        if (c == '-' || c == ' ')
            continue;
        const char upper = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        const bool base32 = (upper >= 'A' && upper <= 'Z') || (upper >= '2' && upper <= '7');
        if (!base32 || code.size() == 14) {
            wipeString(code);
            return std::nullopt;
        }
        if (code.size() == 4 || code.size() == 9)
            code += '-';
        code += upper;
    }
    if (code.size() != 14) {
        wipeString(code);
        return std::nullopt;
    }
    return code;
}

bool isValidPin(std::string_view text)
{
    return text.size() >= minPinLength && text.size() <= maxPinLength &&
           std::none_of(text.begin(), text.end(), [](char c) {
               const auto byte = static_cast<unsigned char>(c);
               return byte < 0x20 || byte == 0x7f;
           });
}

bool isValidTotpCode(std::string_view text)
{
    return text.size() == totpCodeLength &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

namespace mfareaders {

MfaEnrollParams mfaEnrollParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"invite_code", "pin"});
    MfaEnrollParams params;
    params.inviteCode = inviteCodeAt(reader, "invite_code");
    params.pin = pinAt(reader, "pin");
    return params;
}

PinChangeParams pinChangeParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"new_pin", "pin"});
    PinChangeParams params;
    params.pin = pinAt(reader, "pin");
    params.newPin = pinAt(reader, "new_pin");
    return params;
}

PinResetParams pinResetParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"new_pin", "recovery_code"});
    PinResetParams params;
    params.recoveryCode = recoveryCodeAt(reader, "recovery_code");
    params.newPin = pinAt(reader, "new_pin");
    return params;
}

PinParams pinParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"pin"});
    return PinParams{pinAt(reader, "pin")};
}

TotpActivateParams totpActivateParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"code", "pin"});
    TotpActivateParams params;
    params.pin = pinAt(reader, "pin");
    params.code = totpCodeAt(reader, "code");
    return params;
}

SignInParams signInParams(const ObjectReader &reader)
{
    reader.rejectUnknown({"otp", "pin"});
    SignInParams params;
    if (reader.has("pin"))
        params.pin = pinAt(reader, "pin");
    if (reader.has("otp"))
        params.otp = totpCodeAt(reader, "otp");
    if (!params.pin && !params.otp)
        reader.fail("pin", "missing: sign_in needs \"pin\", \"otp\" or both");
    return params;
}

} // namespace mfareaders

} // namespace vigil::protocol::ipc
