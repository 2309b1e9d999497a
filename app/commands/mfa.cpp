// `vigilctl mfa status|enroll|sign-in|sign-out`: the user's own Vigil account on this device,
// through vigild (docs/ipc.md 7.9). PINs, codes and invites are read from the terminal without
// echo, or a line each from standard input when it is not a terminal; never from arguments.
#include "app/commands/exitcodes.h"
#include "app/commands/mfastatustext.h"
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

#include <ostream>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

namespace ipc = protocol::ipc;

const QString secretsHelp =
    u"\n\nSecrets are read from the terminal without echo, or, when standard input is not a "
    "terminal, one line each from it in the order they are asked for; never from the command "
    "line."_s;

class MfaStatusCommand : public cli::Command
{
public:
    MfaStatusCommand()
    {
        m_name = u"mfa status"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Print your Vigil user on this device: key, TOTP, sign-in."_s;
        m_help = u"Asks vigild about the Vigil user of the account running vigilctl: its name, "
                 "its key (TPM or software) and PIN attempts left, TOTP, and the session when "
                 "signed in. --json prints vigild's result (docs/ipc.md 7.9).\n\nExit status 0 "
                 "signed in, 8 enrolled but not signed in, 4 no Vigil user for this account."_s;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            return printMfaStatusResult(callMfa(vigild, ipc::Method::MfaStatus),
                                        invocation.isSet(jsonOption()), out);
        });
    }
};

class MfaEnrollCommand : public cli::Command
{
public:
    MfaEnrollCommand()
    {
        m_name = u"mfa enroll"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Enroll your account with an invite and choose a PIN."_s;
        m_help = u"Makes your user key (in the TPM, or a software key where there is none) under "
                 "a new PIN and enrolls it with the verifier with the invite your administrator "
                 "gave you. Asks for the invite, then the new PIN."_s +
                 secretsHelp + u"\n\nExit status 0 enrolled, 4 the device is not enrolled."_s;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            SecretInput input(STDIN_FILENO, err);
            ipc::MfaEnrollParams params;
            params.inviteCode = readInvite(input);
            params.pin = readNewPin(input);
            return printMfaStatusResult(callMfa(vigild, ipc::Method::MfaEnroll, std::move(params)),
                                        invocation.isSet(jsonOption()), out, true);
        });
    }
};

class MfaSignInCommand : public cli::Command
{
public:
    MfaSignInCommand()
    {
        m_name = u"mfa sign-in"_s;
        m_synopsis = u"[--otp] [--no-pin] [--json] [--socket PATH]"_s;
        m_description = u"Sign in with your PIN and/or a TOTP code."_s;
        m_help = u"Signs you in: your PIN unlocks your user key, which signs the request; "
                 "--otp also asks for a code of your authenticator app, --no-pin for that code "
                 "alone. Prints your status once signed in."_s +
                 secretsHelp +
                 u"\n\nExit status 0 signed in, 7 the PIN or code was refused, 4 no Vigil user "
                 "for this account."_s;
        m_options = {m_otp, m_noPin, jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const bool pin = !invocation.isSet(m_noPin);
        const bool otp = invocation.isSet(m_otp) || !pin;
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            SecretInput input(STDIN_FILENO, err);
            ipc::SignInParams params;
            if (pin)
                params.pin = readPin(input, "PIN: ");
            if (otp)
                params.otp = readTotpCode(input);
            return printMfaStatusResult(callMfa(vigild, ipc::Method::SignIn, std::move(params)),
                                        invocation.isSet(jsonOption()), out);
        });
    }

private:
    QCommandLineOption m_otp{u"otp"_s, u"Also give a TOTP code."_s};
    QCommandLineOption m_noPin{u"no-pin"_s, u"Give a TOTP code only."_s};
};

class MfaSignOutCommand : public cli::Command
{
public:
    MfaSignOutCommand()
    {
        m_name = u"mfa sign-out"_s;
        m_synopsis = u"[--socket PATH]"_s;
        m_description = u"Sign out: vigild drops your session."_s;
        m_options = {socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            ipc::EmptyResult::fromJson(callMfa(vigild, ipc::Method::SignOut), "/result");
            out << "Signed out.\n";
            return out.good() ? exitOk : exitFailure;
        });
    }
};

} // namespace

std::unique_ptr<cli::Command> mfaStatus()
{
    return std::make_unique<MfaStatusCommand>();
}

std::unique_ptr<cli::Command> mfaEnroll()
{
    return std::make_unique<MfaEnrollCommand>();
}

std::unique_ptr<cli::Command> mfaSignIn()
{
    return std::make_unique<MfaSignInCommand>();
}

std::unique_ptr<cli::Command> mfaSignOut()
{
    return std::make_unique<MfaSignOutCommand>();
}

} // namespace vigil::app::commands
