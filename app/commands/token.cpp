// `vigilctl token`: an access token bound to the device key.
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

#include <ostream>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

// vigild answers from the token it holds, or fetches one from the verifier.
constexpr std::chrono::milliseconds tokenTimeout{60000};

class TokenCommand : public cli::Command
{
public:
    TokenCommand()
    {
        m_name = u"token"_s;
        m_synopsis = u"[--user] [--json] [--socket PATH]"_s;
        m_description = u"Print an access token bound to the device key."_s;
        m_help = u"Prints an access token bound to the device key, refused while the device is "
                 "not compliant: vigild's when it runs (--json: token_type and expiry too), "
                 "otherwise one fetched in-process.\n\nExit status 4 when the device is not "
                 "enrolled, 6 when vigild refuses this user (root and its group only)."_s;
        m_options = {m_user, deviceKeyTctiOption(), stateDirectoryOption(), jsonOption(),
                     socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        if (invocation.isSet(m_user))
            return runUserToken(invocation, out, err);
        const auto inProcess = [&] {
            return runToken(verifierCommandOptions(invocation), out, err);
        };
        return askVigild(
            invocation, err,
            [&](ipcclient::VigildClient &vigild) {
                protocol::ipc::Request request;
                request.method = protocol::ipc::Method::Token;
                const auto token = protocol::ipc::TokenResult::fromJson(
                    vigild.call(request, tokenTimeout), "/result");
                // The one place vigilctl prints a token: the user asked for it.
                if (invocation.isSet(jsonOption()))
                    out << token.toJson().dump(2) << "\n";
                else
                    out << token.accessToken << "\n";
                return out.good() ? 0 : 1;
            },
            InProcess{inProcess, stateDirectory(invocation)});
    }

private:
    // vigild only: a user's session lives there.
    int runUserToken(const cli::Invocation &invocation, std::ostream &out, std::ostream &err)
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            protocol::ipc::Request request;
            request.method = protocol::ipc::Method::UserToken;
            const nlohmann::json result = vigild.call(request, tokenTimeout);
            const auto token = protocol::ipc::UserTokenResult::fromJson(result, "/result");
            if (invocation.isSet(jsonOption()))
                out << token.toJson().dump(2) << "\n";
            else
                out << token.accessToken << "\n";
            return out.good() ? 0 : 1;
        });
    }

    QCommandLineOption m_user{u"user"_s, u"A token naming you (signed in), not the device."_s};
};

} // namespace

std::unique_ptr<cli::Command> token()
{
    return std::make_unique<TokenCommand>();
}

} // namespace vigil::app::commands
