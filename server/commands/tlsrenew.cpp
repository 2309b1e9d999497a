// `vigil-verifier tls renew`: the TLS certificate issued again from the data directory's CA.
#include "server/admin/admincommands.h"
#include "server/commands/commandoptions.h"

#include <chrono>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

class TlsRenewCommand : public cli::Command
{
public:
    TlsRenewCommand()
    {
        m_name = u"tls renew"_s;
        m_synopsis = u"--data DIR [--name NAME ...] [--new-key] [--json]"_s;
        m_description = u"Issue the TLS certificate again from the CA."_s;
        m_help = u"Issues the TLS certificate again from the data directory's CA, for 397 days "
                 "(never past the CA's end), for the names given or else the names it has. Agents "
                 "keep trusting it (same CA); a running serve presents it from its next "
                 "connection. serve warns 30 days before the certificate runs out, and 180 days "
                 "before the CA does.\n\n"
                 "Also mends a tls.pem that serve refuses (give --name when it is unreadable)."_s;
        m_options = {dataOption(), m_serverName, m_newKey, jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return renewTlsCertificate(
            dataDirectory(invocation), invocation.values(m_serverName),
            invocation.isSet(m_newKey) ? DataDirectory::TlsKey::New : DataDirectory::TlsKey::Keep,
            std::chrono::system_clock::now(), invocation.isSet(jsonOption()), out, err);
    }

private:
    const QCommandLineOption m_serverName{
        u"name"_s, u"A name agents connect to, instead of the certificate's; one --name each."_s,
        u"NAME"_s};
    const QCommandLineOption m_newKey{
        u"new-key"_s,
        u"Replace the TLS key too, for one others may have seen or one that is lost."_s};
};

} // namespace

std::unique_ptr<cli::Command> tlsRenew()
{
    return std::make_unique<TlsRenewCommand>();
}

} // namespace vigil::server::commands
