// `vigilctl mfa pin change|pin reset|totp|recovery-codes`: the user's PIN, TOTP and recovery
// codes, through vigild (docs/ipc.md 7.9). Secrets as in mfa.cpp: terminal without echo, or a
// line each from standard input; never from arguments.
#include "app/commands/exitcodes.h"
#include "app/commands/mfastatustext.h"
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"
#include "protocol/rfc3339.h"

#include <ostream>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

namespace ipc = protocol::ipc;

const QString secretsHelp =
    u"\n\nSecrets are read from the terminal without echo, or, when standard input is not a "
    "terminal, one line each from it in the order they are asked for; never from the command "
    "line. Exit status 7 when the PIN or a code is refused, 4 when this account has no Vigil "
    "user here."_s;

int printRecoveryCodes(const nlohmann::json &result, bool json, std::ostream &out)
{
    const auto codes = ipc::RecoveryCodesResult::fromJson(result, "/result");
    if (json) {
        out << result.dump() << "\n";
    } else {
        out << "Recovery codes (each replaces a forgotten PIN once; keep them safe, they are "
               "not shown again):\n";
        for (const auto &code : codes.recoveryCodes)
            out << "  " << code << "\n";
    }
    return out.good() ? exitOk : exitFailure;
}

class PinChangeCommand : public cli::Command
{
public:
    PinChangeCommand()
    {
        m_name = u"mfa pin change"_s;
        m_synopsis = u"[--socket PATH]"_s;
        m_description = u"Change your PIN."_s;
        m_help =
            u"Changes the PIN of your user key: asks for the current PIN, then the new one."_s +
            secretsHelp;
        m_options = {socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            SecretInput input(STDIN_FILENO, err);
            ipc::PinChangeParams params;
            params.pin = readPin(input, "Current PIN: ");
            params.newPin = readNewPin(input);
            ipc::EmptyResult::fromJson(
                callMfa(vigild, ipc::Method::MfaPinChange, std::move(params)), "/result");
            out << "PIN changed.\n";
            return out.good() ? exitOk : exitFailure;
        });
    }
};

class PinResetCommand : public cli::Command
{
public:
    PinResetCommand()
    {
        m_name = u"mfa pin reset"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Replace a forgotten PIN with a recovery code."_s;
        m_help = u"Makes a new user key under a new PIN, allowed by one of your recovery codes "
                 "(then used up). Asks for the recovery code, then the new PIN."_s +
                 secretsHelp;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            SecretInput input(STDIN_FILENO, err);
            ipc::PinResetParams params;
            params.recoveryCode = readRecoveryCode(input);
            params.newPin = readNewPin(input);
            return printMfaStatusResult(
                callMfa(vigild, ipc::Method::MfaPinReset, std::move(params)),
                invocation.isSet(jsonOption()), out, true);
        });
    }
};

class TotpCommand : public cli::Command
{
public:
    TotpCommand()
    {
        m_name = u"mfa totp"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Turn on TOTP: add it to your authenticator app, confirm a code."_s;
        m_help = u"Asks for your PIN, prints an otpauth:// URI for your authenticator app (it "
                 "holds the secret: show it to nobody), then asks for the app's current code "
                 "and prints your new recovery codes. --json prints vigild's two results, one "
                 "line each."_s +
                 secretsHelp;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const bool json = invocation.isSet(jsonOption());
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            SecretInput input(STDIN_FILENO, err);
            ipc::SecretText pin = readPin(input, "PIN: ");
            const nlohmann::json begun =
                callMfa(vigild, ipc::Method::MfaTotpBegin, ipc::PinParams{pin});
            const auto totp = ipc::TotpBeginResult::fromJson(begun, "/result");
            if (json)
                out << begun.dump() << "\n";
            else
                out << "Add this to your authenticator app (before "
                    << protocol::formatRfc3339(totp.expiresAt) << "):\n  " << totp.otpauthUri
                    << "\n";
            out.flush();
            ipc::TotpActivateParams activate;
            activate.pin = std::move(pin);
            activate.code = readTotpCode(input);
            return printRecoveryCodes(
                callMfa(vigild, ipc::Method::MfaTotpActivate, std::move(activate)), json, out);
        });
    }
};

class RecoveryCodesCommand : public cli::Command
{
public:
    RecoveryCodesCommand()
    {
        m_name = u"mfa recovery-codes"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Make new recovery codes (the old ones stop working)."_s;
        m_help = u"Asks for your PIN and prints a new set of recovery codes; the previous set "
                 "stops working."_s +
                 secretsHelp;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            SecretInput input(STDIN_FILENO, err);
            return printRecoveryCodes(callMfa(vigild, ipc::Method::MfaRecoveryCodes,
                                              ipc::PinParams{readPin(input, "PIN: ")}),
                                      invocation.isSet(jsonOption()), out);
        });
    }
};

} // namespace

std::unique_ptr<cli::Command> mfaPinChange()
{
    return std::make_unique<PinChangeCommand>();
}

std::unique_ptr<cli::Command> mfaPinReset()
{
    return std::make_unique<PinResetCommand>();
}

std::unique_ptr<cli::Command> mfaTotp()
{
    return std::make_unique<TotpCommand>();
}

std::unique_ptr<cli::Command> mfaRecoveryCodes()
{
    return std::make_unique<RecoveryCodesCommand>();
}

} // namespace vigil::app::commands
