// `vigil-verifier deploy`: a site's agent configuration, enrollment token and packages, which
// an administrator hands out to a fleet (server/admin/sitedeployment.h).
#include "server/admin/admincommands.h"
#include "server/admin/sitedeployment.h"
#include "server/commands/commandoptions.h"

#include <chrono>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

class DeployCommand : public cli::Command
{
public:
    DeployCommand()
    {
        m_name = u"deploy"_s;
        m_synopsis = u"--data DIR --site NAME --server-url URL [--uses N] [--ttl DURATION] "
                     "[--out DIR] [--format deb|rpm|all|none] [--package-version V] [--json]"_s;
        m_description = u"Make a site's configuration, token and packages."_s;
        m_help =
            u"Writes what pre-seeds a site's machines into a new directory (default "
            "./vigil-site-NAME, mode 0700): vigild.json (server URL, CA file and fingerprint), "
            "verifier-ca.pem, enroll.token (mode 0600: a counted, expiring enrollment token "
            "labelled \"site NAME\", which token list shows and token revoke ends), and the "
            "package vigil-site-NAME as a .deb (dpkg-deb) and an .rpm (rpmbuild). Installed "
            "beside vigil, the package puts the configuration in /etc/vigil unless an "
            "administrator's is there, and the token unless the machine is enrolled, and the "
            "machine enrolls itself (apt install ./vigil_*.deb ./vigil-site-NAME_*.deb).\n\n"
            "The token's defaults (1000 uses, 30 days) let one package roll out over a site in "
            "a month; a smaller site or a shorter rollout is safer with less. Its text is in "
            "enroll.token and in the packages only, never printed: keep the directory as safe "
            "as the token.\n\n"
            "NAME is 1 to 32 characters of a-z, 0-9 and '-'. URL is what agents connect to: "
            "https, with a host, no user name, query or fragment. DURATION is seconds or a "
            "number with s, m, h or d. V (--package-version) defaults to the time in UTC "
            "(YYYYMMDD.HHMMSS), so that "
            "a newer package upgrades an older one."_s;
        m_options = {dataOption(), m_site,   m_serverUrl, m_uses,      m_ttl,
                     m_out,        m_format, m_version,   jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        DeployOptions options;
        options.site = invocation.value(m_site);
        if (!invocation.isSet(m_site))
            throw cli::UsageError("deploy needs --site NAME");
        if (const auto problem = siteNameProblem(options.site))
            throw cli::UsageError("invalid site name '" + options.site + "': " + *problem);
        options.serverUrl = invocation.value(m_serverUrl);
        if (!invocation.isSet(m_serverUrl))
            throw cli::UsageError("deploy needs --server-url URL (the https URL agents use)");
        if (const auto problem = serverUrlProblem(options.serverUrl))
            throw cli::UsageError("invalid --server-url '" + options.serverUrl + "': " + *problem);
        readNumber(invocation, m_uses, 1, 1000000, options.uses,
                   "--uses needs a number from 1 to 1000000");
        if (invocation.isSet(m_ttl)) {
            const auto ttl = parseDuration(invocation.value(m_ttl));
            if (!ttl)
                throw cli::UsageError("--ttl needs a duration such as 30m, 24h or 7d");
            options.ttl = *ttl;
        }
        options.outDir = invocation.value(m_out);
        options.formats = formats(invocation.isSet(m_format) ? invocation.value(m_format) : "all");
        options.version = invocation.value(m_version);
        if (const auto problem = packageVersionProblem(options.version);
            invocation.isSet(m_version) && problem)
            throw cli::UsageError("invalid --package-version '" + options.version +
                                  "': " + *problem);
        return deploySite(dataDirectory(invocation), options, std::chrono::system_clock::now(),
                          invocation.isSet(jsonOption()), out, err);
    }

private:
    static std::vector<PackageFormat> formats(const std::string &text)
    {
        if (text == "deb")
            return {PackageFormat::Deb};
        if (text == "rpm")
            return {PackageFormat::Rpm};
        if (text == "all")
            return {PackageFormat::Deb, PackageFormat::Rpm};
        if (text == "none")
            return {};
        throw cli::UsageError("--format needs deb, rpm, all or none");
    }

    const QCommandLineOption m_site{u"site"_s, u"The site's name, in the package's name."_s,
                                    u"NAME"_s};
    const QCommandLineOption m_serverUrl{
        u"server-url"_s, u"The verifier's https URL, as agents reach it."_s, u"URL"_s};
    const QCommandLineOption m_uses{u"uses"_s, u"Machines that may enroll (default 1000)."_s,
                                    u"N"_s};
    const QCommandLineOption m_ttl{u"ttl"_s, u"How long the token stays valid (default 30d)."_s,
                                   u"DURATION"_s};
    const QCommandLineOption m_out{
        u"out"_s, u"A new or empty directory (default ./vigil-site-NAME)."_s, u"DIR"_s};
    const QCommandLineOption m_format{u"format"_s, u"The packages to build (default all)."_s,
                                      u"deb|rpm|all|none"_s};
    // Not --version: that is the program's own option, which shows its version.
    const QCommandLineOption m_version{u"package-version"_s,
                                       u"The packages' version (default: the UTC time)."_s, u"V"_s};
};

} // namespace

std::unique_ptr<cli::Command> deploy()
{
    return std::make_unique<DeployCommand>();
}

} // namespace vigil::server::commands
