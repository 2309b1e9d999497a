// `vigilctl report`: the posture, signed, and the verifier's verdict on it.
#include "app/commands/posturecollection.h"
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

// A report collects the posture (5 s per collector at most), quotes and talks to the verifier.
constexpr std::chrono::milliseconds reportTimeout{120000};

class ReportCommand : public cli::Command
{
public:
    ReportCommand()
    {
        m_name = u"report"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Report the posture and print the verifier's verdict."_s;
        m_help = u"Collects the posture, answers a fresh nonce with a signed report (and a TPM "
                 "quote of the PCRs the verifier asks for) and prints the verdict: every check "
                 "with what to fix. With vigild running, vigild reports and vigilctl prints its "
                 "status after the verdict (--json: that status); otherwise the report is made "
                 "in-process (--json: the verifier's appraisal).\n\nExit status 0 compliant, 3 "
                 "non-compliant, 4 not enrolled."_s;
        m_options = {deviceKeyTctiOption(), stateDirectoryOption(), jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const auto inProcess = [&] {
            return runReport(
                verifierCommandOptions(invocation), [] { return collectPosture().toJson(); }, out,
                err);
        };
        return askVigild(
            invocation, err,
            [&](ipcclient::VigildClient &vigild) {
                protocol::ipc::Request request;
                request.method = protocol::ipc::Method::Report;
                return printStatusResult(vigild.call(request, reportTimeout),
                                         invocation.isSet(jsonOption()), out);
            },
            InProcess{inProcess, stateDirectory(invocation)});
    }
};

} // namespace

std::unique_ptr<cli::Command> report()
{
    return std::make_unique<ReportCommand>();
}

} // namespace vigil::app::commands
