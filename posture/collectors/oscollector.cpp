#include "posture/collectors/oscollector.h"

#include "posture/parsers/osrelease.h"

#include <charconv>
#include <cmath>

namespace vigil::posture {

namespace {

struct Distribution
{
    std::string id, idLike, name, version, versionId, codename, prettyName, source;
};

std::optional<Distribution> fromOsRelease(const FileSystem &fs, const std::string &path)
{
    const auto file = fs.readFile(path, 64 * 1024);
    if (!file.ok())
        return std::nullopt;
    const auto f = parseOsRelease(file.data);
    auto get = [&](const char *key) {
        auto it = f.find(key);
        return it == f.end() ? std::string() : it->second;
    };
    Distribution d;
    d.id = get("ID");
    d.idLike = get("ID_LIKE");
    d.name = get("NAME");
    d.version = get("VERSION");
    d.versionId = get("VERSION_ID");
    d.codename = get("VERSION_CODENAME");
    d.prettyName = get("PRETTY_NAME");
    // Rolling releases (Arch, Tumbleweed) carry no VERSION_ID; BUILD_ID says so.
    if (d.versionId.empty() && get("BUILD_ID") == "rolling")
        d.versionId = "rolling";
    d.source = path;
    if (d.id.empty() && d.name.empty())
        return std::nullopt;
    if (d.id.empty())
        d.id = "linux"; // the os-release default
    return d;
}

std::optional<Distribution> fromLsbRelease(const FileSystem &fs)
{
    const auto file = fs.readFile("/etc/lsb-release", 64 * 1024);
    if (!file.ok())
        return std::nullopt;
    const auto f = parseOsRelease(file.data);
    auto it = f.find("DISTRIB_ID");
    if (it == f.end() || it->second.empty())
        return std::nullopt;
    Distribution d;
    d.id = it->second;
    for (auto &c : d.id)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    d.name = it->second;
    if (auto v = f.find("DISTRIB_RELEASE"); v != f.end())
        d.versionId = v->second;
    if (auto v = f.find("DISTRIB_CODENAME"); v != f.end())
        d.codename = v->second;
    if (auto v = f.find("DISTRIB_DESCRIPTION"); v != f.end())
        d.prettyName = v->second;
    d.source = "/etc/lsb-release";
    return d;
}

// Last resort for systems without os-release: the single-line release files.
std::optional<Distribution> fromReleaseFiles(const FileSystem &fs)
{
    if (auto version = fs.readTrimmed("/etc/debian_version"); version && !version->empty()) {
        Distribution d{"debian", "", "Debian GNU/Linux", "", *version, "", "", ""};
        // Testing and unstable say "trixie/sid": a codename, not a version number.
        if (version->find('/') != std::string::npos) {
            d.codename = *version;
            d.versionId.clear();
        }
        d.prettyName = "Debian GNU/Linux " + *version;
        d.source = "/etc/debian_version";
        return d;
    }
    if (auto line = fs.readTrimmed("/etc/redhat-release"); line && !line->empty()) {
        Distribution d;
        d.prettyName = d.name = *line;
        d.id = line->starts_with("Fedora") ? "fedora" : "rhel";
        const auto release = line->find(" release ");
        if (release != std::string::npos) {
            const auto start = release + 9;
            d.versionId = line->substr(start, line->find(' ', start) - start);
        }
        d.source = "/etc/redhat-release";
        return d;
    }
    if (fs.exists("/etc/arch-release"))
        return Distribution{"arch",    "", "Arch Linux", "",
                            "rolling", "", "Arch Linux", "/etc/arch-release"};
    return std::nullopt;
}

nlohmann::json orNull(const std::string &value)
{
    return value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value);
}

} // namespace

CheckResult OsCollector::collect(const CollectContext &context)
{
    const auto &fs = context.fs();
    nlohmann::json details = nlohmann::json::object();

    std::optional<Distribution> distribution = fromOsRelease(fs, "/etc/os-release");
    if (!distribution)
        distribution = fromOsRelease(fs, "/usr/lib/os-release");
    if (!distribution)
        distribution = fromLsbRelease(fs);
    if (!distribution)
        distribution = fromReleaseFiles(fs);

    const auto kernel = fs.readTrimmed("/proc/sys/kernel/osrelease");
    details["kernel_release"] = kernel ? nlohmann::json(*kernel) : nlohmann::json(nullptr);

    auto architecture = fs.readTrimmed("/proc/sys/kernel/arch");
    if (!architecture || architecture->empty()) {
        // /proc/sys/kernel/arch appeared in Linux 6.1; older kernels are asked through uname.
        architecture.reset();
        if (const auto uname = context.host().findProgram("uname")) {
            const auto result = context.run({*uname, {"-m"}, std::chrono::milliseconds(2000)});
            if (result.succeeded()) {
                auto text = result.standardOutput.substr(0, result.standardOutput.find('\n'));
                if (!text.empty() && text.size() < 64)
                    architecture = text;
            }
        }
    }
    details["architecture"] =
        architecture ? nlohmann::json(*architecture) : nlohmann::json(nullptr);

    const auto hostname = fs.readTrimmed("/proc/sys/kernel/hostname");
    details["hostname"] = hostname ? nlohmann::json(*hostname) : nlohmann::json(nullptr);

    details["uptime_seconds"] = nullptr;
    if (const auto uptime = fs.readTrimmed("/proc/uptime")) {
        double seconds = 0;
        const auto first = uptime->substr(0, uptime->find(' '));
        const auto [ptr, ec] = std::from_chars(first.data(), first.data() + first.size(), seconds);
        if (ec == std::errc() && ptr == first.data() + first.size() && std::isfinite(seconds) &&
            seconds >= 0)
            details["uptime_seconds"] = static_cast<long long>(seconds);
    }

    if (!distribution) {
        return CheckResult::unknown(
            std::string(id()),
            "no readable /etc/os-release, /usr/lib/os-release, /etc/lsb-release or release file",
            std::move(details));
    }
    const auto &d = *distribution;
    details["id"] = d.id;
    details["id_like"] = orNull(d.idLike);
    details["name"] = orNull(d.name);
    details["version"] = orNull(d.version);
    details["version_id"] = orNull(d.versionId);
    details["version_codename"] = orNull(d.codename);
    details["pretty_name"] = orNull(d.prettyName);
    details["source"] = d.source;

    std::string title = !d.prettyName.empty() ? d.prettyName
                        : !d.name.empty()     ? d.name + " " + d.versionId
                                              : d.id + " " + d.versionId;
    std::string summary = title;
    if (kernel)
        summary += ", kernel " + *kernel;
    if (architecture)
        summary += " (" + *architecture + ")";

    if (d.versionId.empty())
        return CheckResult::unknown(
            std::string(id()), d.source + " names " + d.id + " but no version", std::move(details));
    return CheckResult::pass(std::string(id()), summary, std::move(details));
}

} // namespace vigil::posture
