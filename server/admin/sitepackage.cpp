#include "server/admin/sitepackage.h"

#include "core/bytes.h"
#include "core/filedescriptor.h"
#include "posture/host/commandrunner.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace vigil::server {

namespace {

// Long enough for a slow disk, short enough that a hung tool does not hang deploy.
constexpr std::chrono::seconds toolTimeout{120};

bool isLowerAlphanumeric(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string systemError(const std::string &what, const fs::path &path)
{
    return what + " " + path.string() + ": " + std::strerror(errno);
}

// A directory with exactly mode, whatever the umask: dpkg-deb refuses a control directory
// that is not 0755, and the staging directories become the package's directories.
void makeDirectory(const fs::path &path, mode_t mode)
{
    if (::mkdir(path.c_str(), mode) != 0)
        throw SitePackageError(systemError("cannot create", path));
    if (::chmod(path.c_str(), mode) != 0)
        throw SitePackageError(systemError("cannot set the mode of", path));
}

// A new file with exactly mode from the start (O_EXCL: never a file someone else put there,
// never readable by others even for a moment when mode is 0600).
void writeNewFile(const fs::path &path, std::string_view contents, mode_t mode)
{
    FileDescriptor fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0600));
    if (fd.get() < 0)
        throw SitePackageError(systemError("cannot create", path));
    if (::fchmod(fd.get(), mode) != 0 || !writeAll(fd.get(), contents) || fd.close() != 0)
        throw SitePackageError(systemError("cannot write", path));
}

// The directory with the package's tree and the tool's work, private because it holds a copy
// of the token; removed with everything in it when the build is over, whatever its end.
class StagingDirectory
{
public:
    explicit StagingDirectory(const fs::path &parent)
    {
        std::string path = (parent / ".vigil-site-XXXXXX").string();
        if (!::mkdtemp(path.data()))
            throw SitePackageError(systemError("cannot create a staging directory in", parent));
        m_path = path;
    }
    ~StagingDirectory()
    {
        std::error_code ignored;
        fs::remove_all(m_path, ignored);
    }
    StagingDirectory(const StagingDirectory &) = delete;
    StagingDirectory &operator=(const StagingDirectory &) = delete;
    const fs::path &path() const { return m_path; }

private:
    fs::path m_path;
};

std::optional<fs::path> findProgram(std::string_view name)
{
    const char *variable = std::getenv("PATH");
    const std::string path = variable && *variable ? variable : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const std::string directory = path.substr(start, end - start);
        start = end + 1;
        if (directory.empty() || directory.front() != '/')
            continue; // a relative PATH entry would make the tool depend on the working directory
        const fs::path candidate = fs::path(directory) / name;
        std::error_code error;
        if (fs::is_regular_file(candidate, error) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return std::nullopt;
}

struct Tool
{
    const char *program;
    const char *missing; // what to do when it is not installed
};

Tool toolFor(PackageFormat format)
{
    if (format == PackageFormat::Deb)
        return {"dpkg-deb", "dpkg-deb is not installed: install the package dpkg, or build only "
                            "the rpm (--format rpm) or no package (--format none)"};
    return {"rpmbuild", "rpmbuild is not installed: install the package rpm (Debian, Ubuntu: "
                        "apt-get install rpm) or rpm-build (Fedora, RHEL: dnf install rpm-build), "
                        "or build only the deb (--format deb) or no package (--format none)"};
}

fs::path requireProgram(const char *program, const char *missing)
{
    const auto found = findProgram(program);
    if (!found)
        throw SitePackageError(missing);
    return *found;
}

// Runs program with arguments, without a shell; throws with what it wrote to stderr when it
// does not exit with 0.
void runTool(const fs::path &program, std::vector<std::string> arguments)
{
    posture::Command command;
    command.program = program.string();
    command.arguments = std::move(arguments);
    command.timeout = toolTimeout;
    const posture::CommandResult result = posture::ProcessRunner().run(command);
    if (result.succeeded())
        return;
    std::string message = result.describe(command);
    // describe() keeps only the first line; a build tool's reason is often on a later one.
    std::string errors = result.standardError;
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' '))
        errors.pop_back();
    if (result.outcome == posture::CommandResult::Outcome::Exited &&
        errors.find('\n') != errors.npos)
        message = program.string() + " exited with code " + std::to_string(result.exitCode) +
                  ":\n" +
                  (errors.size() > 4000 ? "…" + errors.substr(errors.size() - 4000) : errors);
    throw SitePackageError(message);
}

std::string md5Hex(std::string_view contents)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(contents.data(), contents.size(), digest, &size, EVP_md5(), nullptr) != 1)
        throw SitePackageError("OpenSSL cannot compute MD5 for the package's md5sums");
    return toHex(Bytes(digest, digest + size));
}

std::tm utcTime(TimePoint time)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    return utc;
}

// RFC 5322 date in English whatever the locale, as Debian changelogs have it.
std::string changelogDate(TimePoint time)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::tm utc = utcTime(time);
    char text[64];
    std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[utc.tm_wday],
                  utc.tm_mday, months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                  utc.tm_sec);
    return text;
}

// Who answers for the package: the site's verifier, at the host agents reach it by. dpkg
// wants "Name <address>", and lintian an address that is not on localhost.
std::string maintainer(const SiteContents &contents)
{
    std::string_view authority = contents.serverUrl;
    authority.remove_prefix(std::min(authority.find("://") + 3, authority.size()));
    authority = authority.substr(0, authority.find('/'));
    const auto port =
        authority.starts_with('[') ? authority.find(':', authority.find(']')) : authority.find(':');
    return "Vigil site " + contents.site + " <vigil-verifier@" +
           std::string(authority.substr(0, port)) + ">";
}

std::string summary(const SiteContents &contents)
{
    return "Vigil configuration and enrollment for site " + contents.site;
}

// The long description, one line each, for a deb (" " in front) or an rpm (as it is).
std::vector<std::string> description(const SiteContents &contents)
{
    return {"Points vigild at the verifier " + contents.serverUrl + ",",
            "pins its CA and carries a counted, expiring enrollment token, so that a",
            "machine with the vigil package enrolls itself. Made by vigil-verifier deploy."};
}

struct PackageFile
{
    std::string name; // in siteFilesDirectory
    const std::string *contents;
    mode_t mode;
};

std::vector<PackageFile> siteFiles(const SiteContents &contents)
{
    return {{"vigild.json", &contents.vigildJson, 0644},
            {"verifier-ca.pem", &contents.caPem, 0644},
            {"enroll.token", &contents.token, 0600}};
}

fs::path buildDeb(const SiteContents &contents, const fs::path &staging)
{
    const fs::path dpkgDeb = requireProgram("dpkg-deb", toolFor(PackageFormat::Deb).missing);
    const fs::path gzip = requireProgram("gzip", "gzip is not installed: install the package gzip");
    const std::string package = sitePackageName(contents.site);
    const fs::path root = staging / "root";
    const fs::path doc = root / "usr/share/doc" / package;
    const fs::path site = root / fs::path(siteFilesDirectory).relative_path();
    const fs::path overrides = root / "usr/share/lintian/overrides";
    for (const fs::path &directory :
         {root, root / "DEBIAN", root / "usr", root / "usr/share", root / "usr/share/doc", doc,
          root / "usr/share/vigil", site, root / "usr/share/lintian", overrides})
        makeDirectory(directory, 0755);

    std::string md5sums;
    std::uintmax_t bytes = 0;
    const auto add = [&](const fs::path &path, std::string_view text, mode_t mode) {
        writeNewFile(path, text, mode);
        md5sums += md5Hex(text) + "  " + fs::relative(path, root).string() + "\n";
        bytes += (text.size() + 1023) / 1024 * 1024;
    };
    for (const PackageFile &file : siteFiles(contents))
        add(site / file.name, *file.contents, file.mode);
    add(doc / "copyright",
        "Copyright " + std::to_string(utcTime(contents.builtAt).tm_year + 1900) +
            " the administrators of the Vigil site " + contents.site +
            ".\n\nThis package holds that site's configuration: the URL and CA of its "
            "verifier and an\nenrollment token. vigil-verifier deploy made it for the site "
            "alone; it is not\nmeant to be redistributed.\n",
        0644);
    add(overrides / package,
        "# The enrollment token is a secret: only root may read it until the postinst copies it\n"
        "# to /etc/vigil/enroll.token (also 0600), where vigild reads and deletes it.\n"
        "non-standard-file-perm 0600 != 0644 [usr/share/vigil/site/enroll.token]\n",
        0644);
    // Debian wants a changelog in every package; a native one (no revision) as changelog.gz.
    const fs::path changelog = doc / "changelog";
    const std::string entry = package + " (" + contents.version + ") unstable; urgency=medium\n\n" +
                              "  * Configuration for the verifier " + contents.serverUrl + ".\n\n" +
                              " -- " + maintainer(contents) + "  " +
                              changelogDate(contents.builtAt) + "\n";
    writeNewFile(changelog, entry, 0644);
    runTool(gzip, {"-9n", changelog.string()});
    {
        // Its digest and size are those of the file gzip wrote.
        const fs::path compressed = changelog.string() + ".gz";
        const FileDescriptor fd(::open(compressed.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0)
            throw SitePackageError(systemError("cannot read", compressed));
        const std::string gz = readUpTo(fd.get(), 64 * 1024);
        md5sums += md5Hex(gz) + "  " + fs::relative(compressed, root).string() + "\n";
        bytes += (gz.size() + 1023) / 1024 * 1024;
    }

    std::string control = "Package: " + package + "\nVersion: " + contents.version +
                          "\nArchitecture: all\nMaintainer: " + maintainer(contents) +
                          "\nInstalled-Size: " + std::to_string(bytes / 1024) +
                          "\nDepends: vigil\nProvides: vigil-site\nConflicts: vigil-site\n"
                          "Section: admin\nPriority: optional\nDescription: " +
                          summary(contents) + "\n";
    for (const std::string &line : description(contents))
        control += " " + line + "\n";
    writeNewFile(root / "DEBIAN/control", control, 0644);
    writeNewFile(root / "DEBIAN/md5sums", md5sums, 0644);
    writeNewFile(root / "DEBIAN/postinst", sitePostinstScript(contents.site, PackageFormat::Deb),
                 0755);
    writeNewFile(root / "DEBIAN/postrm", sitePostrmScript(PackageFormat::Deb), 0755);

    const fs::path built = staging / "package.deb";
    runTool(dpkgDeb, {"--root-owner-group", "--build", root.string(), built.string()});
    return built;
}

// Text for a spec, where rpm would expand a '%' (a server URL may have one) as a macro.
std::string rpmText(std::string_view text)
{
    std::string escaped;
    for (const char c : text)
        escaped += c == '%' ? std::string("%%") : std::string(1, c);
    return escaped;
}

// rpm's spec reads macros and a shell script: a path with anything else than these would need
// quoting that neither does reliably.
bool isPlainPath(const fs::path &path)
{
    const std::string text = path.string();
    return std::all_of(text.begin(), text.end(), [](char c) {
        return isLowerAlphanumeric(c) || (c >= 'A' && c <= 'Z') ||
               std::string_view("/._+-,=@").find(c) != std::string_view::npos;
    });
}

fs::path buildRpm(const SiteContents &contents, const fs::path &staging)
{
    const fs::path rpmbuild = requireProgram("rpmbuild", toolFor(PackageFormat::Rpm).missing);
    if (!isPlainPath(staging))
        throw SitePackageError("rpmbuild cannot be given the path " + staging.string() +
                               ": give --out a directory whose path has only letters, digits "
                               "and / . _ + - , = @");
    const fs::path top = staging / "rpm";
    const fs::path sources = top / "SOURCES";
    makeDirectory(top, 0700);
    makeDirectory(sources, 0700);
    const std::string package = sitePackageName(contents.site);
    std::string spec =
        "Name: " + package + "\nVersion: " + contents.version +
        "\nRelease: 1\nSummary: " + summary(contents) +
        // Not free software nor anyone's work to license: the site's own settings.
        "\nLicense: LicenseRef-site-configuration\nPackager: " + maintainer(contents) +
        "\nBuildArch: noarch\nRequires: vigil\nRequires(post): coreutils diffutils\n"
        "Provides: vigil-site\nConflicts: vigil-site\n";
    int index = 0;
    std::string install;
    std::string files =
        "%files\n%dir %attr(0755,root,root) " + std::string(siteFilesDirectory) + "\n";
    for (const PackageFile &file : siteFiles(contents)) {
        writeNewFile(sources / file.name, *file.contents, 0600);
        const std::string target = std::string(siteFilesDirectory) + "/" + file.name;
        const std::string mode = file.mode == 0600 ? "0600" : "0644";
        spec += "Source" + std::to_string(index) + ": " + file.name + "\n";
        install += "install -D -m " + mode + " %{SOURCE" + std::to_string(index) +
                   "} %{buildroot}" + target + "\n";
        files += "%attr(" + mode + ",root,root) " + target + "\n";
        ++index;
    }
    spec += "\n%description\n";
    for (const std::string &line : description(contents))
        spec += rpmText(line) + "\n";
    spec += "\n%install\n" + install + "\n%post\n" +
            sitePostinstScript(contents.site, PackageFormat::Rpm) + "\n%postun\n" +
            sitePostrmScript(PackageFormat::Rpm) + "\n" + files;
    const fs::path specFile = top / (package + ".spec");
    writeNewFile(specFile, spec, 0600);

    runTool(rpmbuild, {"-bb", "--quiet", "--define", "_topdir " + top.string(),
                       // No brp-* scripts (stripping, byte-compiling): there is nothing for them,
                       // and Debian's rpm has not all of them.
                       "--define", "__os_install_post %{nil}",
                       // Every rpm that might install it reads gzip; not all read zstd.
                       "--define", "_binary_payload w9.gzdio", specFile.string()});
    return top / "RPMS/noarch" / sitePackageFileName(contents, PackageFormat::Rpm);
}

} // namespace

std::optional<std::string> siteNameProblem(std::string_view name)
{
    if (name.empty() || name.size() > 32 || !isLowerAlphanumeric(name.front()) ||
        !std::all_of(name.begin(), name.end(),
                     [](char c) { return isLowerAlphanumeric(c) || c == '-'; }))
        return "a site name is 1 to 32 characters of a-z, 0-9 and '-', starting with a letter "
               "or digit (it becomes the package name vigil-site-NAME)";
    return std::nullopt;
}

std::optional<std::string> packageVersionProblem(std::string_view version)
{
    const auto allowed = [](char c) {
        return isLowerAlphanumeric(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '+' || c == '~';
    };
    if (version.empty() || version.size() > 64 ||
        !(version.front() >= '0' && version.front() <= '9') ||
        !std::all_of(version.begin(), version.end(), allowed))
        return "a package version is a digit, then letters, digits, '.', '+' and '~' (at most "
               "64; e.g. 2.1 or 20261207.1030)";
    return std::nullopt;
}

std::string defaultPackageVersion(TimePoint now)
{
    const std::tm utc = utcTime(now);
    char text[32];
    std::snprintf(text, sizeof text, "%04d%02d%02d.%02d%02d%02d", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    return text;
}

std::string sitePackageName(std::string_view site)
{
    return "vigil-site-" + std::string(site);
}

std::string sitePackageFileName(const SiteContents &contents, PackageFormat format)
{
    const std::string package = sitePackageName(contents.site);
    return format == PackageFormat::Deb ? package + "_" + contents.version + "_all.deb"
                                        : package + "-" + contents.version + "-1.noarch.rpm";
}

std::string sitePostinstScript(std::string_view site, PackageFormat format)
{
    // The deb's runs for "configure" only (not for abort-upgrade and the like); rpm's %post
    // runs on install and upgrade alike, with no #! line of its own.
    const char *const debHead = R"(#!/bin/sh
# @PACKAGE@: puts the site's configuration and enrollment token where vigild
# looks for them, never over an administrator's own files.
set -e

[ "$1" = configure ] || exit 0

)";
    const char *const body = R"SH(config=/etc/vigil/vigild.json
token=/etc/vigil/enroll.token
# What this package last put in /etc/vigil, as SHA-256: a file still equal to it is the site's
# (an older version's), so this version may replace it; anything else is the administrator's.
record=/var/lib/vigil-site
install -d -m 0700 "$record"
installed_by_site() {
    [ -f "$record/$1.sha256" ] && [ -f "$2" ] &&
        [ "$(sha256sum <"$2" | cut -d' ' -f1)" = "$(cat "$record/$1.sha256")" ]
}
install_from_site() {
    install -D -m "$3" -o root -g root "@SITE@/$1" "$2"
    sha256sum <"@SITE@/$1" | cut -d' ' -f1 >"$record/$1.sha256"
}

# Absent, vigil's untouched default, or an older site package's: the site's.
if { [ ! -e "$config" ] && [ ! -L "$config" ]; } || cmp -s "$config" /usr/share/vigil/vigild.json ||
    installed_by_site vigild.json "$config"; then
    install_from_site vigild.json "$config" 0644
elif ! cmp -s "$config" @SITE@/vigild.json; then
    echo "@PACKAGE@: kept your $config; the site's configuration is @SITE@/vigild.json"
fi

# A token only for a machine that is not enrolled, and never over one the administrator left;
# an older site package's that is still waiting (expired, say) gives way to this one's.
if [ -e /var/lib/vigil/enrollment.json ]; then
    echo "@PACKAGE@: this machine is enrolled already; its enrollment token was not used"
elif { [ ! -e "$token" ] && [ ! -L "$token" ]; } || installed_by_site enroll.token "$token"; then
    install_from_site enroll.token "$token" 0600
fi

# vigild notices both files by itself while not enrolled; a restart makes an enrolled one
# read the new configuration. Without systemd (a chroot, an image being built) nothing runs.
)SH";
    // deb-systemd-invoke honours policy-rc.d, with which image builders keep services down.
    const char *const debRestart =
        R"(if [ -d /run/systemd/system ] && command -v deb-systemd-invoke >/dev/null; then
    deb-systemd-invoke try-restart vigild.service ||
        echo "@PACKAGE@: vigild.service did not restart: see journalctl -u vigild.service" >&2
fi

exit 0
)";
    const char *const rpmRestart =
        R"(if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl try-restart vigild.service ||
        echo "@PACKAGE@: vigild.service did not restart: see journalctl -u vigild.service" >&2
fi
)";
    const bool deb = format == PackageFormat::Deb;
    std::string script = std::string(deb ? debHead : "") + body + (deb ? debRestart : rpmRestart);
    for (const auto &[placeholder, value] :
         {std::pair<std::string_view, std::string>{"@PACKAGE@", sitePackageName(site)},
          {"@SITE@", std::string(siteFilesDirectory)}})
        for (auto at = script.find(placeholder); at != std::string::npos;
             at = script.find(placeholder, at + value.size()))
            script.replace(at, placeholder.size(), value);
    return script;
}

std::string sitePostrmScript(PackageFormat format)
{
    // The record of what postinst installed goes with the package (rpm has no purge: on its
    // removal); the files in /etc/vigil stay, as an administrator's would.
    if (format == PackageFormat::Deb)
        return "#!/bin/sh\nset -e\n\nif [ \"$1\" = purge ]; then\n    rm -rf /var/lib/vigil-site\n"
               "fi\n";
    return "if [ \"$1\" -eq 0 ]; then\n    rm -rf /var/lib/vigil-site\nfi\n";
}

void requirePackageTool(PackageFormat format)
{
    const Tool tool = toolFor(format);
    requireProgram(tool.program, tool.missing);
}

fs::path buildSitePackage(const SiteContents &contents, PackageFormat format,
                          const fs::path &outDir)
{
    const fs::path output = outDir / sitePackageFileName(contents, format);
    const StagingDirectory staging(outDir);
    const fs::path built = format == PackageFormat::Deb ? buildDeb(contents, staging.path())
                                                        : buildRpm(contents, staging.path());
    // The package carries the token: it stays as private as the token's own file.
    if (::chmod(built.c_str(), 0600) != 0)
        throw SitePackageError(systemError("cannot set the mode of", built));
    std::error_code error;
    fs::rename(built, output, error);
    if (error)
        throw SitePackageError("cannot move the package to " + output.string() + ": " +
                               error.message());
    return output;
}

} // namespace vigil::server
