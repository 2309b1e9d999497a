// `vigil-verifier token create | list | revoke`: the enrollment tokens devices enroll with.
#include "server/admin/admincommands.h"
#include "server/commands/commandoptions.h"

#include <chrono>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

class TokenCreateCommand : public cli::Command
{
public:
    TokenCreateCommand()
    {
        m_name = u"token create"_s;
        m_synopsis = u"--data DIR [--uses N] [--ttl DURATION] [--label TEXT] [--json]"_s;
        m_description = u"Create an enrollment token (default 1 use, 24h)."_s;
        m_help = u"Creates an enrollment token (default: single use, 24h) and prints it, once: "
                 "only its hash is stored.\n\n"
                 "DURATION is seconds or a number with s, m, h or d (e.g. 30m, 24h, 7d)."_s;
        m_options = {dataOption(), m_uses, m_ttl, m_label, jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        TokenOptions options;
        readNumber(invocation, m_uses, 1, 1000000, options.uses,
                   "--uses needs a number from 1 to 1000000");
        if (const auto ttl = invocation.value(m_ttl); !ttl.empty()) {
            const auto parsed = parseDuration(ttl);
            if (!parsed)
                throw cli::UsageError("--ttl needs a duration such as 30m, 24h or 7d");
            options.ttl = *parsed;
        }
        options.label = invocation.value(m_label);
        return createEnrollmentToken(*openStorage(invocation), options,
                                     std::chrono::system_clock::now(),
                                     invocation.isSet(jsonOption()), out);
    }

private:
    const QCommandLineOption m_uses{u"uses"_s, u"Devices that may enroll with it (default 1)."_s,
                                    u"N"_s};
    const QCommandLineOption m_ttl{u"ttl"_s, u"How long it stays valid (default 24h)."_s,
                                   u"DURATION"_s};
    const QCommandLineOption m_label{u"label"_s, u"A note for token list."_s, u"TEXT"_s};
};

class TokenListCommand : public cli::Command
{
public:
    TokenListCommand()
    {
        m_name = u"token list"_s;
        m_synopsis = u"--data DIR [--json]"_s;
        m_description = u"List the enrollment tokens."_s;
        m_options = {dataOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        return listEnrollmentTokens(*openStorage(invocation), std::chrono::system_clock::now(),
                                    invocation.isSet(jsonOption()), out);
    }
};

class TokenRevokeCommand : public cli::Command
{
public:
    TokenRevokeCommand()
    {
        m_name = u"token revoke"_s;
        m_synopsis = u"--data DIR ID"_s;
        m_description = u"Revoke an enrollment token."_s;
        m_options = {dataOption()};
        m_arguments = {{u"ID"_s, u"The token's id, as token create and token list show it."_s}};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return revokeEnrollmentToken(*openStorage(invocation), invocation.argument(0),
                                     std::chrono::system_clock::now(), out, err);
    }
};

} // namespace

std::unique_ptr<cli::Command> tokenCreate()
{
    return std::make_unique<TokenCreateCommand>();
}

std::unique_ptr<cli::Command> tokenList()
{
    return std::make_unique<TokenListCommand>();
}

std::unique_ptr<cli::Command> tokenRevoke()
{
    return std::make_unique<TokenRevokeCommand>();
}

} // namespace vigil::server::commands
