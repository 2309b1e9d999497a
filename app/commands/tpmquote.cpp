// `vigilctl tpm quote`: a quote of the PCRs an administrator can check with tpm2_checkquote.
#include "app/commands/sharedoptions.h"
#include "app/commands/tpmcommands.h"
#include "core/bytes.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class TpmQuoteCommand : public cli::Command
{
public:
    TpmQuoteCommand()
    {
        m_name = u"tpm quote"_s;
        m_synopsis = u"--nonce HEX --pcrs LIST --out DIR [--json]"_s;
        m_description = u"Quote PCRs with the attestation key, for tpm2-tools."_s;
        m_help = u"Quotes SHA-256 PCRs with the device's attestation key (created on first use) "
                 "and writes quote.msg, quote.sig, quote.pcrs and ak.pub to DIR, files "
                 "tpm2_checkquote accepts as they are."_s;
        m_options = {m_nonce, m_pcrs, m_out, tctiOption(), stateDirectoryOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const auto nonce = fromHex(invocation.value(m_nonce));
        if (!nonce || nonce->empty() || nonce->size() > 64)
            throw cli::UsageError("--nonce needs 1 to 64 bytes as hex digits");
        const auto pcrs = parsePcrList(invocation.value(m_pcrs));
        if (!pcrs)
            throw cli::UsageError("--pcrs needs PCR numbers 0-23 such as 0,1,7 or 0-7");
        const std::string outDirectory = invocation.value(m_out);
        if (outDirectory.empty())
            throw cli::UsageError("tpm quote needs --out DIR");
        TpmCommandOptions tpm;
        tpm.json = invocation.isSet(jsonOption());
        tpm.tcti = tcti(invocation);
        tpm.stateDirectory = stateDirectory(invocation);
        return runTpmQuote(tpm, *nonce, *pcrs, outDirectory, out, err);
    }

private:
    const QCommandLineOption m_nonce{
        u"nonce"_s, u"The fresh value the quote signs: 1 to 64 bytes."_s, u"HEX"_s};
    const QCommandLineOption m_pcrs{u"pcrs"_s, u"PCRs to quote, such as 0,1,7 or 0-7."_s,
                                    u"LIST"_s};
    const QCommandLineOption m_out{u"out"_s, u"The directory the files go to."_s, u"DIR"_s};
};

} // namespace

std::unique_ptr<cli::Command> tpmQuote()
{
    return std::make_unique<TpmQuoteCommand>();
}

} // namespace vigil::app::commands
