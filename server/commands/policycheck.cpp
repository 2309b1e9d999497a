// `vigil-verifier policy check`: a policy file validated before it is put in place.
#include "cli/command.h"
#include "server/admin/admincommands.h"

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

class PolicyCheckCommand : public cli::Command
{
public:
    PolicyCheckCommand()
    {
        m_name = u"policy check"_s;
        m_synopsis = u"FILE"_s;
        m_description = u"Validate a policy file; errors name the bad entry."_s;
        m_arguments = {{u"FILE"_s, u"The policy, as JSON."_s}};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return checkPolicy(invocation.argument(0), out, err);
    }
};

} // namespace

std::unique_ptr<cli::Command> policyCheck()
{
    return std::make_unique<PolicyCheckCommand>();
}

} // namespace vigil::server::commands
