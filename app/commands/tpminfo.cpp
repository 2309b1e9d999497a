// `vigilctl tpm info`: what the TPM is.
#include "app/commands/sharedoptions.h"
#include "app/commands/tpmcommands.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class TpmInfoCommand : public cli::Command
{
public:
    TpmInfoCommand()
    {
        m_name = u"tpm info"_s;
        m_synopsis = u"[--json]"_s;
        m_description = u"Show the TPM: manufacturer, PCR banks, lockout, EK."_s;
        m_help = u"Shows the TPM: manufacturer, firmware, PCR banks, lockout state, endorsement "
                 "key and its certificate."_s;
        m_options = {jsonOption(), tctiOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        TpmCommandOptions tpm;
        tpm.json = invocation.isSet(jsonOption());
        tpm.tcti = tcti(invocation);
        return runTpmInfo(tpm, out, err);
    }
};

} // namespace

std::unique_ptr<cli::Command> tpmInfo()
{
    return std::make_unique<TpmInfoCommand>();
}

} // namespace vigil::app::commands
