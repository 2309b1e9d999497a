// `vigilctl report`: the posture, signed, and the verifier's verdict on it.
#include "app/commands/posturecollection.h"
#include "app/commands/sharedoptions.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class ReportCommand : public cli::Command
{
public:
    ReportCommand()
    {
        m_name = u"report"_s;
        m_synopsis = u"[--json]"_s;
        m_description = u"Report the posture and print the verifier's verdict."_s;
        m_help = u"Collects the posture, answers a fresh nonce with a signed report (and a TPM "
                 "quote of the PCRs the verifier asks for) and prints the verdict: every check "
                 "with what to fix.\n\nExit status 0 compliant, 3 non-compliant."_s;
        m_options = {deviceKeyTctiOption(), stateDirectoryOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return runReport(
            verifierCommandOptions(invocation), [] { return collectPosture().toJson(); }, out, err);
    }
};

} // namespace

std::unique_ptr<cli::Command> report()
{
    return std::make_unique<ReportCommand>();
}

} // namespace vigil::app::commands
