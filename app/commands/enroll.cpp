// `vigilctl enroll`: enrolls this device with a verifier.
#include "app/client/enrollmenttoken.h"
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

#include <iostream>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

// vigild answers once the device is enrolled and its first report has a verdict.
constexpr std::chrono::milliseconds enrollTimeout{180000};

class EnrollCommand : public cli::Command
{
public:
    EnrollCommand()
    {
        m_name = u"enroll"_s;
        m_synopsis = u"[--server URL --ca-file PEM [--ca-fingerprint sha256:HEX]] "
                     "(--token-file FILE | --token TOKEN) [--json] [--socket PATH]"_s;
        m_description = u"Enroll this device with a verifier."_s;
        m_help = u"Enrolls this device with a verifier: pins its CA (checked against the "
                 "fingerprint when given), proves the TPM's keys (or uses the software key where "
                 "there is no TPM) and saves the enrollment in the state directory.\n\nWith "
                 "vigild running, only the token is needed: vigild enrolls with the verifier its "
                 "configuration names, reports once, and vigilctl prints its status (exit status "
                 "as for status). Without it, --server and --ca-file are needed and the "
                 "enrollment is made in-process."_s;
        m_options = {m_server,
                     m_caFile,
                     m_caFingerprint,
                     m_tokenFile,
                     m_token,
                     deviceKeyTctiOption(),
                     stateDirectoryOption(),
                     jsonOption(),
                     socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const std::string token = invocation.value(m_token);
        const std::string tokenFile = invocation.value(m_tokenFile);
        if (token.empty() == tokenFile.empty())
            throw cli::UsageError(token.empty() ? "enroll needs --token-file (or --token)"
                                                : "enroll takes --token-file or --token, not both");
        return askVigild(
            invocation, err,
            [&](ipcclient::VigildClient &vigild) {
                // vigild enrolls with the verifier of its own configuration: another one asked
                // for here would be silently ignored.
                for (const auto *inProcessOnly : {&m_server, &m_caFile, &m_caFingerprint})
                    if (invocation.isSet(*inProcessOnly))
                        throw cli::UsageError(
                            "vigild is running and enrolls with the verifier its vigild.json "
                            "names: enroll takes only --token-file (or --token), not --" +
                            inProcessOnly->names().constFirst().toStdString());
                protocol::ipc::Request request;
                request.method = protocol::ipc::Method::Enroll;
                request.params = protocol::ipc::EnrollParams{
                    token.empty() ? readEnrollmentToken(tokenFile, std::cin, err) : token};
                return printStatusResult(vigild.call(request, enrollTimeout),
                                         invocation.isSet(jsonOption()), out);
            },
            InProcess{[&] { return runInProcess(invocation, out, err); },
                      stateDirectory(invocation)});
    }

private:
    int runInProcess(const cli::Invocation &invocation, std::ostream &out, std::ostream &err)
    {
        for (const auto *required : {&m_server, &m_caFile})
            if (invocation.value(*required).empty())
                throw cli::UsageError("enroll needs --" +
                                      required->names().constFirst().toStdString());
        EnrollOptions enroll;
        enroll.enrollmentToken = invocation.value(m_token);
        enroll.enrollmentTokenFile = invocation.value(m_tokenFile);
        enroll.serverUrl = invocation.value(m_server);
        enroll.caFile = invocation.value(m_caFile);
        if (invocation.isSet(m_caFingerprint))
            enroll.caFingerprint = invocation.value(m_caFingerprint);
        return runEnroll(verifierCommandOptions(invocation), enroll, out, err);
    }

    const QCommandLineOption m_server{u"server"_s, u"The verifier: https://HOST[:PORT]."_s,
                                      u"URL"_s};
    const QCommandLineOption m_caFile{u"ca-file"_s, u"The verifier's CA certificate, to pin."_s,
                                      u"PEM"_s};
    const QCommandLineOption m_caFingerprint{
        u"ca-fingerprint"_s, u"The fingerprint the CA certificate must have."_s, u"sha256:HEX"_s};
    const QCommandLineOption m_tokenFile{
        u"token-file"_s,
        u"Reads the enrollment token from FILE (- for standard input), out of sight of other "
        "users' process lists."_s,
        u"FILE"_s};
    const QCommandLineOption m_token{u"token"_s, u"The enrollment token, for trying things out."_s,
                                     u"TOKEN"_s};
};

} // namespace

std::unique_ptr<cli::Command> enroll()
{
    return std::make_unique<EnrollCommand>();
}

} // namespace vigil::app::commands
