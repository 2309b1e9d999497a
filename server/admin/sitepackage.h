#pragma once

// The site-configuration package that `vigil-verifier deploy` builds: vigil-site-NAME, a .deb
// or .rpm (Architecture all / noarch) that depends on vigil and carries what pre-seeds a
// machine, so that `apt install ./vigil_*.deb ./vigil-site-NAME_*.deb` is a whole deployment:
//
//   /usr/share/vigil/site/vigild.json       0644 root:root  the site's agent configuration
//   /usr/share/vigil/site/verifier-ca.pem   0644 root:root  the verifier's CA
//   /usr/share/vigil/site/enroll.token      0600 root:root  a counted, expiring token
//
// Its postinst (rpm: %post) installs the configuration as /etc/vigil/vigild.json when there is
// none yet, only vigil's untouched default or an older site package's, and the token as
// /etc/vigil/enroll.token (0600) unless the machine is enrolled or has a token the
// administrator left (an older site package's gives way); it remembers what it installed in
// /var/lib/vigil-site. vigild (which watches both while not enrolled) does the rest. It provides
// and conflicts with the virtual package vigil-site: one site per machine.
//
// The package is made by the distribution's own tools (dpkg-deb, rpmbuild), run without a shell
// and with a time limit; no package is built by hand here.

#include "server/admin/datadirectory.h"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::server {

// A package that could not be built: the message names the tool and what it said, or the tool
// that is missing and the package that brings it.
class SitePackageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

enum class PackageFormat
{
    Deb,
    Rpm,
};

// What goes into the package.
struct SiteContents
{
    std::string site;       // accepted by siteNameProblem()
    std::string serverUrl;  // for the description
    std::string version;    // accepted by packageVersionProblem()
    std::string vigildJson; // the files' contents
    std::string caPem;
    std::string token;
    TimePoint builtAt; // the deb changelog entry's date
};

inline constexpr std::string_view siteFilesDirectory = "/usr/share/vigil/site";

// Why name cannot be a site's name, or nothing: 1 to 32 characters of a-z, 0-9 and '-',
// starting with a letter or digit, so that vigil-site-NAME is a valid package name for dpkg
// and rpm alike.
std::optional<std::string> siteNameProblem(std::string_view name);
// Why version cannot be the package's version, or nothing: a digit, then letters, digits, '.',
// '+' and '~' (no '-', which both dpkg and rpm read as the start of a release), at most 64.
std::optional<std::string> packageVersionProblem(std::string_view version);
// The time in UTC as YYYYMMDD.HHMMSS: a version that grows with each build, for dpkg and rpm.
std::string defaultPackageVersion(TimePoint now);

std::string sitePackageName(std::string_view site);
// vigil-site-NAME_V_all.deb or vigil-site-NAME-V-1.noarch.rpm.
std::string sitePackageFileName(const SiteContents &contents, PackageFormat format);

// The deb postinst or the rpm %post, as described above.
std::string sitePostinstScript(std::string_view site, PackageFormat format);
// The deb postrm or the rpm %postun: forgets what postinst installed (/var/lib/vigil-site).
std::string sitePostrmScript(PackageFormat format);

// Throws SitePackageError when the tool that builds format is not installed, saying what to
// install: checked before anything is created that a failed build would leave behind.
void requirePackageTool(PackageFormat format);

// Builds the package as outDir / sitePackageFileName(), from a private (0700) staging directory
// in outDir that is removed again; returns its path. Throws SitePackageError.
std::filesystem::path buildSitePackage(const SiteContents &contents, PackageFormat format,
                                       const std::filesystem::path &outDir);

} // namespace vigil::server
