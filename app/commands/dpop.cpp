// `vigilctl dpop`: a DPoP proof signed by the device key, made by vigild.
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"
#include "core/filedescriptor.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

constexpr std::chrono::milliseconds dpopTimeout{30000};
// docs/ipc.md section 11: params.access_token is at most 8192 bytes.
constexpr std::size_t maxAccessTokenSize = 8192;

// The access token in file ("-": standard input), without the white space around it. The
// token itself never appears in a message.
std::string readAccessToken(const std::string &file)
{
    const std::string where = file == "-" ? std::string("the access token on standard input")
                                          : "the access token file " + file;
    std::string text;
    if (file == "-") {
        text.resize(maxAccessTokenSize + 2);
        std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(std::cin.gcount()));
        if (std::cin.bad())
            throw std::runtime_error(where + " cannot be read");
    } else {
        const FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0)
            throw std::runtime_error(where + " cannot be opened: " + std::strerror(errno));
        try {
            text = readUpTo(fd.get(), maxAccessTokenSize + 2);
        } catch (const std::system_error &e) {
            throw std::runtime_error(where + " cannot be read: " + e.code().message());
        }
    }
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    if (first == std::string::npos)
        throw std::runtime_error(where + " is empty");
    text = text.substr(first, last - first + 1);
    if (text.size() > maxAccessTokenSize)
        throw std::runtime_error(where + " holds more than " + std::to_string(maxAccessTokenSize) +
                                 " bytes");
    return text;
}

class DpopCommand : public cli::Command
{
public:
    DpopCommand()
    {
        m_name = u"dpop"_s;
        m_synopsis = u"--method METHOD --url URL [--access-token-file FILE | --access-token TOKEN] "
                     "[--json] [--socket PATH]"_s;
        m_description = u"Print a DPoP proof for one HTTP request, signed by the device key."_s;
        m_help = u"Asks vigild for a DPoP proof (RFC 9449) for the request METHOD URL, signed by "
                 "the device key; with an access token, the proof is bound to it. Make a new "
                 "proof for every request. --json prints {\"proof\": …}. Needs vigild; root and "
                 "its group only.\n\nExit status 5 when vigild is not running or not reachable, "
                 "6 when it refuses this user."_s;
        m_options = {m_method,      m_url,        m_accessTokenFile,
                     m_accessToken, jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        protocol::ipc::DpopParams params;
        params.method = invocation.value(m_method);
        params.url = invocation.value(m_url);
        if (params.method.empty() || params.url.empty())
            throw cli::UsageError(params.method.empty() ? "dpop needs --method"
                                                        : "dpop needs --url");
        if (invocation.isSet(m_accessToken) && invocation.isSet(m_accessTokenFile))
            throw cli::UsageError("dpop takes --access-token-file or --access-token, not both");
        if (invocation.isSet(m_accessToken))
            params.accessToken = invocation.value(m_accessToken);
        else if (invocation.isSet(m_accessTokenFile))
            params.accessToken = readAccessToken(invocation.value(m_accessTokenFile));
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            protocol::ipc::Request request;
            request.method = protocol::ipc::Method::Dpop;
            request.params = params;
            const auto result =
                protocol::ipc::DpopResult::fromJson(vigild.call(request, dpopTimeout), "/result");
            if (invocation.isSet(jsonOption()))
                out << result.toJson().dump(2) << "\n";
            else
                out << result.proof << "\n";
            return out.good() ? 0 : 1;
        });
    }

private:
    const QCommandLineOption m_method{u"method"_s, u"The request's HTTP method, as sent (GET)."_s,
                                      u"METHOD"_s};
    const QCommandLineOption m_url{u"url"_s, u"The request's absolute https URL."_s, u"URL"_s};
    const QCommandLineOption m_accessTokenFile{
        u"access-token-file"_s,
        u"Binds the proof to the access token in FILE (- for standard input), out of sight of "
        "other users' process lists."_s,
        u"FILE"_s};
    const QCommandLineOption m_accessToken{
        u"access-token"_s, u"Binds the proof to this access token, for trying things out."_s,
        u"TOKEN"_s};
};

} // namespace

std::unique_ptr<cli::Command> dpop()
{
    return std::make_unique<DpopCommand>();
}

} // namespace vigil::app::commands
