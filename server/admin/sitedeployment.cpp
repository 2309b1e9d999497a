#include "server/admin/sitedeployment.h"

#include "core/privatefile.h"
#include "protocol/jose/dpop.h"
#include "protocol/rfc3339.h"
#include "server/admin/admincommands.h"
#include "server/admin/datadirectory.h"
#include "server/storage/sqlitestorage.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace vigil::server {

namespace {

const char *const configName = "vigild.json";
const char *const caName = "verifier-ca.pem";
const char *const tokenName = "enroll.token";

std::string readCertificate(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (!in && !in.eof())
        throw std::runtime_error("cannot read " + path.string());
    return text;
}

// A new directory, or an existing empty one, made 0700: what goes into it enrolls machines.
// Returns whether it was created here.
bool prepareOutDirectory(const fs::path &dir)
{
    std::error_code error;
    const auto status = fs::symlink_status(dir, error);
    bool created = false;
    if (status.type() == fs::file_type::not_found) {
        if (::mkdir(dir.c_str(), 0700) != 0)
            throw std::runtime_error("cannot create " + dir.string() + ": " + std::strerror(errno));
        created = true;
    } else if (status.type() != fs::file_type::directory) {
        throw std::runtime_error(dir.string() + " exists and is not a directory; give --out a "
                                                "new directory");
    } else if (!fs::is_empty(dir, error) || error) {
        throw std::runtime_error(dir.string() + " is not empty (a deployment made before?); "
                                                "give --out a new directory");
    }
    if (::chmod(dir.c_str(), 0700) != 0)
        throw std::runtime_error("cannot set the mode of " + dir.string() + ": " +
                                 std::strerror(errno));
    return created;
}

// The file is private while written (O_EXCL, 0600), then opened to all when mode says so.
void writeOutFile(const fs::path &path, const std::string &text, mode_t mode)
{
    if (!writePrivateFile(
            path, std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()),
            Replace::Forbidden, "deployment"))
        throw std::runtime_error(path.string() + " appeared while deploy was writing it");
    if (mode != 0600 && ::chmod(path.c_str(), mode) != 0)
        throw std::runtime_error("cannot set the mode of " + path.string() + ": " +
                                 std::strerror(errno));
}

void printText(const DeployOptions &options, const fs::path &dir, const fs::path &dataDir,
               const std::string &fingerprint, const IssuedEnrollmentToken &issued,
               const std::vector<fs::path> &packages, std::ostream &out)
{
    const EnrollmentToken &token = issued.token;
    out << "Deployment for site " << options.site << " in " << dir.string() << "/ (verifier "
        << options.serverUrl << ")\n"
        << "  " << configName << "       server URL and CA, pinned as " << fingerprint << "\n"
        << "  " << caName << "   the verifier's CA\n"
        << "  " << tokenName << "      enrollment token " << token.id << " (" << token.maxUses
        << (token.maxUses == 1 ? " use" : " uses") << ", until "
        << protocol::formatRfc3339(token.expiresAt) << ")\n";
    for (const fs::path &package : packages)
        out << "  " << package.filename().string() << "\n";
    out << "Everything here enrolls machines: keep it as safe as the token, and end the token "
           "early with\n  vigil-verifier token revoke --data "
        << dataDir.string() << " " << token.id << "\n";
    if (packages.empty()) {
        out << "On each machine, before or after installing the vigil package: " << configName
            << " and " << caName << " into /etc/vigil/ (mode 0644), and " << tokenName
            << " into /etc/vigil/ (root's, mode 0600).\n";
        return;
    }
    out << "Install on each machine, beside the vigil package:\n";
    for (const fs::path &package : packages)
        out << (package.extension() == ".deb" ? "  apt install ./vigil_*.deb ./"
                                              : "  dnf install ./vigil-[0-9]*.rpm ./")
            << package.filename().string() << "\n";
}

nlohmann::ordered_json jsonReport(const DeployOptions &options, const std::string &version,
                                  const fs::path &dir, const std::string &fingerprint,
                                  const IssuedEnrollmentToken &issued,
                                  const std::vector<fs::path> &packages)
{
    nlohmann::ordered_json packageList = nlohmann::ordered_json::array();
    for (const fs::path &package : packages)
        packageList.push_back(package.string());
    // The token's text stays in its file: output ends up in logs and CI records.
    return {{"site", options.site},
            {"server_url", options.serverUrl},
            {"ca_fingerprint", fingerprint},
            {"directory", dir.string()},
            {"config", (dir / configName).string()},
            {"ca_file", (dir / caName).string()},
            {"token_file", (dir / tokenName).string()},
            {"token_id", issued.token.id},
            {"max_uses", issued.token.maxUses},
            {"expires_at", protocol::formatRfc3339(issued.token.expiresAt)},
            {"version", version},
            {"packages", packageList}};
}

} // namespace

std::optional<std::string> serverUrlProblem(std::string_view url)
{
    if (!std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
        return "it has a space, a control or a non-ASCII character";
    const auto separator = url.find("://");
    std::string scheme(url.substr(0, std::min(separator, url.size())));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
    if (separator == std::string_view::npos || scheme != "https")
        return "it does not start with https://";
    const std::string_view rest = url.substr(separator + 3);
    if (rest.find('#') != std::string_view::npos)
        return "it has a fragment (#…)";
    if (rest.find('?') != std::string_view::npos)
        return "it has a query (?…)";
    const std::string_view authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string_view::npos)
        return "it has a user name or password (…@), which must not be in a file every user "
               "can read";
    if (authority.empty() || authority.starts_with(':'))
        return "it has no host";
    // What vigild checks next: the URL must be one a DPoP proof can name.
    try {
        protocol::normaliseHtu(url);
    } catch (const std::exception &e) {
        return e.what();
    }
    return std::nullopt;
}

std::string siteVigildJson(const std::string &serverUrl, const std::string &caFingerprint,
                           std::string_view caFile)
{
    // The defaults are those of /usr/share/vigil/vigild.json, spelled out so that the file
    // says all there is to know about the machine's agent.
    const nlohmann::ordered_json config = {
        {"server_url", serverUrl},         {"ca_file", std::string(caFile)},
        {"ca_fingerprint", caFingerprint}, {"tcti", "auto"},
        {"privileged_group", "vigil"},     {"log_level", "info"}};
    return config.dump(2) + "\n";
}

int deploySite(const fs::path &dataDir, const DeployOptions &options, TimePoint now, bool json,
               std::ostream &out, std::ostream &err)
{
    const fs::path dir =
        options.outDir.empty() ? fs::path(sitePackageName(options.site)) : options.outDir;
    const std::string version =
        options.version.empty() ? defaultPackageVersion(now) : options.version;
    std::unique_ptr<SqliteStorage> storage;
    std::optional<IssuedEnrollmentToken> issued;
    bool createdDir = false, preparedDir = false;
    try {
        const DataDirectory data = DataDirectory::open(dataDir);
        storage = SqliteStorage::open(data.database());
        const std::string fingerprint = certificateFingerprint(data.caCertificate());
        const std::string caPem = readCertificate(data.caCertificate());
        // Before anything is made that a missing tool would leave behind.
        for (const PackageFormat format : options.formats)
            requirePackageTool(format);
        createdDir = prepareOutDirectory(dir);
        preparedDir = true;

        issued = issueEnrollmentToken(
            *storage, {.uses = options.uses, .ttl = options.ttl, .label = "site " + options.site},
            now);
        const SiteContents contents{
            .site = options.site,
            .serverUrl = options.serverUrl,
            .version = version,
            .vigildJson = siteVigildJson(options.serverUrl, fingerprint,
                                         std::string(siteFilesDirectory) + "/" + caName),
            .caPem = caPem,
            .token = issued->text + "\n",
            .builtAt = now};
        // The files beside the packages are for pre-seeding by hand: their CA goes in /etc/vigil.
        writeOutFile(dir / configName,
                     siteVigildJson(options.serverUrl, fingerprint, handSeededCaFile), 0644);
        writeOutFile(dir / caName, contents.caPem, 0644);
        writeOutFile(dir / tokenName, contents.token, 0600);
        std::vector<fs::path> packages;
        for (const PackageFormat format : options.formats)
            packages.push_back(buildSitePackage(contents, format, dir));

        if (json)
            out << jsonReport(options, version, dir, fingerprint, *issued, packages).dump(2)
                << "\n";
        else
            printText(options, dir, dataDir, fingerprint, *issued, packages, out);
        return 0;
    } catch (const std::exception &e) {
        err << "vigil-verifier: deploy failed: " << e.what() << "\n";
        // Nothing half-made stays behind: no live token, no files that carry it. The
        // directory was empty or new, so all in it is this run's.
        try {
            if (issued && storage->revokeEnrollmentToken(issued->token.id, now))
                err << "vigil-verifier: the enrollment token " << issued->token.id
                    << " made for it is revoked again\n";
        } catch (const std::exception &revoke) {
            err << "vigil-verifier: the enrollment token " << issued->token.id
                << " made for it could not be revoked (" << revoke.what()
                << "): revoke it with vigil-verifier token revoke\n";
        }
        std::error_code ignored;
        if (createdDir)
            fs::remove_all(dir, ignored);
        else if (preparedDir)
            for (const auto &entry : fs::directory_iterator(dir, ignored))
                fs::remove_all(entry.path(), ignored);
        return 1;
    }
}

} // namespace vigil::server
