// `vigilctl status`: vigild's status of the device, as a summary or JSON.
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

// status answers at once; the margin is for a loaded machine.
constexpr std::chrono::milliseconds statusTimeout{15000};

class StatusCommand : public cli::Command
{
public:
    StatusCommand()
    {
        m_name = u"status"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Print vigild's status: enrollment, last verdict, next report, token."_s;
        m_help = u"Asks vigild for the device's status: its state and why, the enrollment "
                 "(device, assurance, verifier), the last verdict with each failing check and "
                 "what to do about it, the last and next report, the access token's expiry and "
                 "whether the verifier was reachable. --json prints the status as vigild sent it "
                 "(docs/ipc.md section 8). Needs vigild.\n\nExit status 0 compliant, 3 "
                 "non-compliant, 4 not enrolled, 1 any other state (starting, enrolling, offline, "
                 "revoked, error), 5 when vigild is not running or not reachable."_s;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return askVigild(invocation, err, [&](ipcclient::VigildClient &vigild) {
            protocol::ipc::Request request;
            request.method = protocol::ipc::Method::Status;
            return printStatusResult(vigild.call(request, statusTimeout),
                                     invocation.isSet(jsonOption()), out);
        });
    }
};

} // namespace

std::unique_ptr<cli::Command> status()
{
    return std::make_unique<StatusCommand>();
}

} // namespace vigil::app::commands
