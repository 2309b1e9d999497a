#include "app/commands/mfastatustext.h"

#include "app/commands/exitcodes.h"
#include "protocol/rfc3339.h"

#include <ostream>

namespace vigil::app::commands {

namespace ipc = protocol::ipc;

namespace {

std::string joined(const std::vector<std::string> &words)
{
    std::string text;
    for (const auto &word : words)
        text += (text.empty() ? "" : " ") + word;
    return text;
}

} // namespace

std::string formatMfaStatus(const ipc::MfaStatus &status)
{
    if (!status.user)
        return "No Vigil user for this account on this device: enroll it with `vigilctl mfa "
               "enroll` and the invite your administrator gave you.\n";
    const ipc::MfaUserInfo &user = *status.user;
    std::string text = "User:       " + user.name + " (" + user.userId + ")\n";
    text += "Key:        " + std::string(protocol::assuranceName(user.keyAssurance));
    if (user.pinLockedOutSeconds)
        text += ", locked out for " + std::to_string(*user.pinLockedOutSeconds) + " s";
    else if (user.pinAttemptsLeft)
        text += ", " + std::to_string(*user.pinAttemptsLeft) + " PIN attempts left";
    text += "\nTOTP:       " + std::string(ipc::totpStateName(user.totp)) + "\n";
    if (user.session)
        text += "Signed in:  since " + protocol::formatRfc3339(user.session->authTime) + " until " +
                protocol::formatRfc3339(user.session->expiresAt) + " (" +
                joined(user.session->amr) + ")\n";
    else
        text += "Signed in:  no (`vigilctl mfa sign-in`)\n";
    return text;
}

int exitCodeFor(const ipc::MfaStatus &status)
{
    if (!status.user)
        return exitNotEnrolled;
    return status.user->session ? exitOk : exitNotSignedIn;
}

int printMfaStatusResult(const nlohmann::json &result, bool json, std::ostream &out,
                         bool zeroWhenEnrolled)
{
    const auto status = ipc::MfaStatus::fromJson(result, "/result");
    if (json)
        out << result.dump(2) << "\n";
    else
        out << formatMfaStatus(status);
    if (!out.good())
        return exitFailure;
    if (zeroWhenEnrolled && status.user)
        return exitOk;
    return exitCodeFor(status);
}

nlohmann::json callMfa(ipcclient::VigildClient &vigild, ipc::Method method, ipc::Params params)
{
    ipc::Request request;
    request.method = method;
    request.params = std::move(params);
    return vigild.call(std::move(request), mfaTimeout);
}

namespace {

ipc::SecretText checkedPin(ipc::SecretText pin)
{
    if (!ipc::isValidPin(pin.reveal()))
        throw SecretInputError("a PIN is 6 to 32 bytes of UTF-8 without control characters");
    return pin;
}

} // namespace

ipc::SecretText readPin(SecretInput &input, const std::string &prompt)
{
    return checkedPin(input.read(prompt, "PIN"));
}

ipc::SecretText readNewPin(SecretInput &input)
{
    return checkedPin(input.readNewPin());
}

ipc::SecretText readTotpCode(SecretInput &input)
{
    ipc::SecretText code = input.read("TOTP code from your authenticator app: ", "TOTP code");
    if (!ipc::isValidTotpCode(code.reveal()))
        throw SecretInputError("a TOTP code is 6 digits");
    return code;
}

ipc::SecretText readRecoveryCode(SecretInput &input)
{
    const ipc::SecretText typed = input.read("Recovery code: ", "recovery code");
    auto code = ipc::normaliseRecoveryCode(typed.reveal());
    if (!code)
        throw SecretInputError("a recovery code is 12 characters A-Z and 2-7 (XXXX-XXXX-XXXX)");
    ipc::SecretText secret(*code);
    ipc::wipeString(*code);
    return secret;
}

ipc::SecretText readInvite(SecretInput &input)
{
    ipc::SecretText invite = input.read("Invite code: ", "invite code");
    if (invite.empty() || invite.size() > ipc::maxInviteCodeLength)
        throw SecretInputError("an invite code is 1 to " +
                               std::to_string(ipc::maxInviteCodeLength) + " characters");
    return invite;
}

} // namespace vigil::app::commands
