// `vigilctl enroll`: enrolls this device with a verifier.
#include "app/commands/sharedoptions.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class EnrollCommand : public cli::Command
{
public:
    EnrollCommand()
    {
        m_name = u"enroll"_s;
        m_synopsis = u"--server URL --ca-file PEM [--ca-fingerprint sha256:HEX] "
                     "(--token-file FILE | --token TOKEN) [--json]"_s;
        m_description = u"Enroll this device with a verifier."_s;
        m_help = u"Enrolls this device with a verifier: pins its CA (checked against the "
                 "fingerprint when given), proves the TPM's keys (or uses the software key where "
                 "there is no TPM) and saves the enrollment in the state directory."_s;
        m_options = {m_server,
                     m_caFile,
                     m_caFingerprint,
                     m_tokenFile,
                     m_token,
                     deviceKeyTctiOption(),
                     stateDirectoryOption(),
                     jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        for (const auto *required : {&m_server, &m_caFile})
            if (invocation.value(*required).empty())
                throw cli::UsageError("enroll needs --" +
                                      required->names().constFirst().toStdString());
        EnrollOptions enroll;
        enroll.enrollmentToken = invocation.value(m_token);
        enroll.enrollmentTokenFile = invocation.value(m_tokenFile);
        if (enroll.enrollmentToken.empty() == enroll.enrollmentTokenFile.empty())
            throw cli::UsageError(enroll.enrollmentToken.empty()
                                      ? "enroll needs --token-file (or --token)"
                                      : "enroll takes --token-file or --token, not both");
        enroll.serverUrl = invocation.value(m_server);
        enroll.caFile = invocation.value(m_caFile);
        if (invocation.isSet(m_caFingerprint))
            enroll.caFingerprint = invocation.value(m_caFingerprint);
        return runEnroll(verifierCommandOptions(invocation), enroll, out, err);
    }

private:
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
