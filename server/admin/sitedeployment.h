#pragma once

// `vigil-verifier deploy`: what an administrator hands out to a site's machines. It issues a
// counted, expiring enrollment token labelled "site NAME" and writes, into a new directory:
//
//   vigild.json      0644  server_url, ca_file (/usr/share/vigil/site/verifier-ca.pem),
//                          ca_fingerprint and vigild's defaults spelled out
//   verifier-ca.pem  0644  the data directory's CA
//   enroll.token     0600  the token's text (written nowhere else, printed nowhere)
//   vigil-site-NAME_V_all.deb, vigil-site-NAME-V-1.noarch.rpm   0600 (they carry the token)
//
// The directory itself is 0700: everything in it enrolls machines.

#include "server/admin/sitepackage.h"

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::server {

struct DeployOptions
{
    std::string site;      // siteNameProblem() accepts it
    std::string serverUrl; // serverUrlProblem() accepts it
    // A fleet enrolls over days or weeks, machine by machine, from one package: enough uses
    // for a large site and a month to roll it out; `token revoke` ends it sooner.
    int uses = 1000;
    std::chrono::seconds ttl = std::chrono::days(30);
    std::filesystem::path outDir;       // empty: ./vigil-site-NAME
    std::vector<PackageFormat> formats; // none: only the files
    std::string version;                // empty: defaultPackageVersion(now)
};

// Why url cannot be the server_url agents use, or nothing. vigild's own rule: https, a host,
// no user name or password (the file is world-readable), no query, no fragment.
std::optional<std::string> serverUrlProblem(std::string_view url);

// Where the verifier's CA lies on a machine: the site package's copy, or the one an
// administrator pre-seeding by hand puts beside vigild.json.
inline constexpr std::string_view handSeededCaFile = "/etc/vigil/verifier-ca.pem";

// The site's vigild.json, as installed in /etc/vigil, naming caFile as the verifier's CA.
std::string siteVigildJson(const std::string &serverUrl, const std::string &caFingerprint,
                           std::string_view caFile);

// Does the above with the data directory dataDir; prints what it wrote and how to install it
// (as JSON with json, never the token's text). Returns 0, or 1 with the reason on err; a token
// issued before a failure is revoked again.
int deploySite(const std::filesystem::path &dataDir, const DeployOptions &options, TimePoint now,
               bool json, std::ostream &out, std::ostream &err);

} // namespace vigil::server
