// `vigil-verifier users add | list | show | disable | unlock | totp-reset | invite`: the people who
// sign in on enrolled devices (docs/mfa.md).
#include "server/admin/admincommands.h"
#include "server/admin/useradmin.h"
#include "server/commands/commandoptions.h"
#include "server/mfa/invitecodes.h"
#include "server/mfa/username.h"

#include <chrono>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

const cli::Argument userName{u"NAME"_s, u"The user's name, as users list shows it."_s};

// The NAME argument, refused as a usage error when no user could have it.
std::string nameArgument(const cli::Invocation &invocation)
{
    std::string name = invocation.argument(0);
    if (const auto problem = userNameProblem(name))
        throw cli::UsageError("invalid user name '" + name + "': " + *problem);
    return name;
}

class UsersAddCommand : public cli::Command
{
public:
    UsersAddCommand()
    {
        m_name = u"users add"_s;
        m_synopsis = u"--data DIR NAME [--json]"_s;
        m_description = u"Add a user."_s;
        m_help = u"Adds a user with a new random id. NAME is 1 to 64 characters of a-z, 0-9, "
                 "'.', '_' and '-', starting with a letter or digit; it is unique and is what "
                 "authenticator apps and user tokens show. The user enrolls on a device with an "
                 "invite (users invite)."_s;
        m_options = {dataOption(), jsonOption()};
        m_arguments = {{u"NAME"_s, u"The new user's name."_s}};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const std::string name = nameArgument(invocation);
        return addUser(*openStorage(invocation), name, std::chrono::system_clock::now(),
                       invocation.isSet(jsonOption()), out, err);
    }
};

class UsersListCommand : public cli::Command
{
public:
    UsersListCommand()
    {
        m_name = u"users list"_s;
        m_synopsis = u"--data DIR [--json]"_s;
        m_description = u"List the users."_s;
        m_options = {dataOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        return listUsers(*openStorage(invocation), std::chrono::system_clock::now(),
                         invocation.isSet(jsonOption()), out);
    }
};

class UsersShowCommand : public cli::Command
{
public:
    UsersShowCommand()
    {
        m_name = u"users show"_s;
        m_synopsis = u"--data DIR NAME [--json]"_s;
        m_description = u"Show a user's devices, TOTP and sessions."_s;
        m_options = {dataOption(), jsonOption()};
        m_arguments = {userName};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const std::string name = nameArgument(invocation);
        return showUser(*openStorage(invocation), name, std::chrono::system_clock::now(),
                        invocation.isSet(jsonOption()), out, err);
    }
};

class UsersDisableCommand : public cli::Command
{
public:
    UsersDisableCommand()
    {
        m_name = u"users disable"_s;
        m_synopsis = u"--data DIR NAME"_s;
        m_description = u"Disable a user: their sessions end at once."_s;
        m_options = {dataOption()};
        m_arguments = {userName};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const std::string name = nameArgument(invocation);
        return disableUser(*openStorage(invocation), name, std::chrono::system_clock::now(), out,
                           err);
    }
};

class UsersUnlockCommand : public cli::Command
{
public:
    UsersUnlockCommand()
    {
        m_name = u"users unlock"_s;
        m_synopsis = u"--data DIR NAME"_s;
        m_description = u"Lift a user's TOTP lockout."_s;
        m_options = {dataOption()};
        m_arguments = {userName};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const std::string name = nameArgument(invocation);
        return unlockUser(*openStorage(invocation), name, out, err);
    }
};

class UsersTotpResetCommand : public cli::Command
{
public:
    UsersTotpResetCommand()
    {
        m_name = u"users totp-reset"_s;
        m_synopsis = u"--data DIR NAME"_s;
        m_description = u"Forget a user's TOTP (a lost authenticator app) so they can set it up "
                        u"again."_s;
        m_options = {dataOption()};
        m_arguments = {userName};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const std::string name = nameArgument(invocation);
        return resetUserTotp(*openStorage(invocation), name, out, err);
    }
};

class UsersInviteCommand : public cli::Command
{
public:
    UsersInviteCommand()
    {
        m_name = u"users invite"_s;
        m_synopsis = u"--data DIR NAME [--ttl DURATION] [--json]"_s;
        m_description = u"Invite a user to enroll one device (default 24h)."_s;
        m_help = u"Creates a one-time invite code for the user and prints it, once: only its hash "
                 "is stored. The user enters it on one device (vigilctl or the tray) to enroll "
                 "a key there.\n\n"
                 "DURATION is seconds or a number with s, m, h or d (e.g. 30m, 24h, 7d)."_s;
        m_options = {dataOption(), m_ttl, jsonOption()};
        m_arguments = {userName};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        std::chrono::seconds ttl = defaultInviteLifetime;
        if (const auto text = invocation.value(m_ttl); !text.empty()) {
            const auto parsed = parseDuration(text);
            if (!parsed)
                throw cli::UsageError("--ttl needs a duration such as 30m, 24h or 7d");
            ttl = *parsed;
        }
        const std::string name = nameArgument(invocation);
        return inviteUser(*openStorage(invocation), name, ttl, std::chrono::system_clock::now(),
                          invocation.isSet(jsonOption()), out, err);
    }

private:
    const QCommandLineOption m_ttl{u"ttl"_s, u"How long it stays valid (default 24h)."_s,
                                   u"DURATION"_s};
};

} // namespace

std::unique_ptr<cli::Command> usersAdd()
{
    return std::make_unique<UsersAddCommand>();
}

std::unique_ptr<cli::Command> usersList()
{
    return std::make_unique<UsersListCommand>();
}

std::unique_ptr<cli::Command> usersShow()
{
    return std::make_unique<UsersShowCommand>();
}

std::unique_ptr<cli::Command> usersDisable()
{
    return std::make_unique<UsersDisableCommand>();
}

std::unique_ptr<cli::Command> usersUnlock()
{
    return std::make_unique<UsersUnlockCommand>();
}

std::unique_ptr<cli::Command> usersTotpReset()
{
    return std::make_unique<UsersTotpResetCommand>();
}

std::unique_ptr<cli::Command> usersInvite()
{
    return std::make_unique<UsersInviteCommand>();
}

} // namespace vigil::server::commands
