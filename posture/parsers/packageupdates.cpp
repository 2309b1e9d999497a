#include "posture/parsers/packageupdates.h"

#include <QXmlStreamReader>
#include <algorithm>

namespace vigil::posture {

namespace {

constexpr std::size_t maxQuotedLine = 120;

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && isSpace(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back()))
        s.remove_suffix(1);
    return s;
}

// Printable excerpt of an offending line for an error text: control bytes and non-ASCII are
// replaced so a reason never carries terminal escapes or invalid UTF-8 into JSON.
std::string quote(std::string_view line)
{
    std::string out;
    for (char c : line.substr(0, maxQuotedLine))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (line.size() > maxQuotedLine)
        out += "…";
    return "\"" + out + "\"";
}

template <typename Function> void forEachLine(std::string_view text, Function &&function)
{
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (!function(line))
            return;
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
}

std::vector<std::string_view> tokens(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && isSpace(line[i]))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && !isSpace(line[i]))
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

bool readNumber(std::string_view s, std::size_t pos, std::size_t digits, int &value)
{
    if (pos + digits > s.size())
        return false;
    value = 0;
    for (std::size_t i = pos; i < pos + digits; ++i) {
        if (!isDigit(s[i]))
            return false;
        value = value * 10 + (s[i] - '0');
    }
    return true;
}

// "YYYY-MM-DD?HH:MM[:SS]" where ? is ' ' or 'T'; the rest of s is left to the caller.
std::optional<LogTimestamp> parseDateTime(std::string_view s, bool secondsRequired,
                                          std::size_t *consumed = nullptr)
{
    LogTimestamp t;
    if (s.size() < 16 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
        s[13] != ':')
        return std::nullopt;
    if (!readNumber(s, 0, 4, t.year) || !readNumber(s, 5, 2, t.month) ||
        !readNumber(s, 8, 2, t.day) || !readNumber(s, 11, 2, t.hour) ||
        !readNumber(s, 14, 2, t.minute))
        return std::nullopt;
    std::size_t used = 16;
    if (s.size() >= 19 && s[16] == ':') {
        if (!readNumber(s, 17, 2, t.second))
            return std::nullopt;
        used = 19;
    } else if (secondsRequired) {
        return std::nullopt;
    }
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 ||
        t.second > 60)
        return std::nullopt;
    if (consumed)
        *consumed = used;
    return t;
}

// "(1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])"
// without the parentheses.
bool parseAptCandidate(std::string_view inside, PackageUpdate &update)
{
    inside = trim(inside);
    if (!inside.empty() && inside.back() == ']') {
        const auto open = inside.rfind(" [");
        if (open == std::string_view::npos)
            return false;
        inside = trim(inside.substr(0, open));
    }
    const auto space = inside.find(' ');
    update.newVersion = std::string(inside.substr(0, space));
    if (update.newVersion.empty())
        return false;
    const std::string_view origins =
        space == std::string_view::npos ? std::string_view() : trim(inside.substr(space + 1));
    update.source = std::string(origins);
    std::size_t start = 0;
    while (start <= origins.size()) {
        const auto comma = origins.find(',', start);
        const auto origin = trim(origins.substr(start, comma - start));
        // Debian: "Debian-Security:12/stable-security"; Ubuntu: "Ubuntu:24.04/noble-security".
        if (origin.find("-security") != std::string_view::npos)
            update.security = true;
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return true;
}

bool isAptSummary(std::string_view line)
{
    // "5 upgraded, 0 newly installed, 0 to remove and 0 not upgraded."
    std::size_t i = 0;
    while (i < line.size() && isDigit(line[i]))
        ++i;
    return i > 0 && line.substr(i).starts_with(" upgraded, ") &&
           line.find(" newly installed") != std::string_view::npos;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix)
{
    if (s.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i])
            return false;
    }
    return true;
}

bool isPackageArch(std::string_view nameArch)
{
    const auto dot = nameArch.rfind('.');
    return dot != std::string_view::npos && dot > 0 && dot + 1 < nameArch.size();
}

} // namespace

std::string_view toString(PackageManager manager)
{
    switch (manager) {
    case PackageManager::Apt:
        return "apt";
    case PackageManager::Dnf:
        return "dnf";
    case PackageManager::Zypper:
        return "zypper";
    case PackageManager::Pacman:
        return "pacman";
    }
    return "unknown";
}

std::size_t UpdateList::securityCount() const
{
    return static_cast<std::size_t>(
        std::count_if(updates.begin(), updates.end(), [](const auto &u) { return u.security; }));
}

UpdateList parseAptSimulation(std::string_view output)
{
    UpdateList list;
    bool summary = false;
    forEachLine(output, [&](std::string_view line) {
        if (isAptSummary(line)) {
            summary = true;
            return true;
        }
        if (!line.starts_with("Inst "))
            return true;
        std::string_view rest = trim(line.substr(5));
        PackageUpdate update;
        const auto nameEnd = rest.find(' ');
        update.name = std::string(rest.substr(0, nameEnd));
        rest = nameEnd == std::string_view::npos ? std::string_view() : trim(rest.substr(nameEnd));
        if (rest.starts_with("[")) {
            const auto close = rest.find(']');
            if (close == std::string_view::npos) {
                list.error = "unterminated current version in " + quote(line);
                return false;
            }
            update.currentVersion = std::string(rest.substr(1, close - 1));
            rest = trim(rest.substr(close + 1));
        }
        const auto close = rest.find(')');
        if (update.name.empty() || !rest.starts_with("(") || close == std::string_view::npos ||
            !parseAptCandidate(rest.substr(1, close - 1), update)) {
            list.error = "unrecognised apt line " + quote(line);
            return false;
        }
        list.updates.push_back(std::move(update));
        return true;
    });
    if (list.ok() && !summary)
        list.error = "no \"N upgraded, N newly installed\" summary in apt-get output";
    if (!list.ok())
        list.updates.clear();
    return list;
}

UpdateList parseDnfUpdateTable(std::string_view output)
{
    UpdateList list;
    std::string pendingName; // dnf4 puts a name too wide for its column on a line of its own
    forEachLine(output, [&](std::string_view line) {
        const auto trimmed = trim(line);
        if (trimmed.empty())
            return true;
        if (startsWithNoCase(trimmed, "obsoleting"))
            return false;
        // Informational lines that -q does not always silence.
        for (std::string_view info :
             {"Last metadata expiration check", "No security updates needed",
              "Updating and loading repositories", "Repositories loaded"}) {
            if (trimmed.starts_with(info))
                return true;
        }
        const auto parts = tokens(trimmed);
        PackageUpdate update;
        if (pendingName.empty() && parts.size() == 1 && !isSpace(line.front()) &&
            isPackageArch(parts[0])) {
            pendingName = std::string(parts[0]);
            return true;
        }
        if (!pendingName.empty() && parts.size() == 2) {
            update.name = std::move(pendingName);
            pendingName.clear();
            update.newVersion = std::string(parts[0]);
            update.source = std::string(parts[1]);
        } else if (pendingName.empty() && parts.size() == 3) {
            update.name = std::string(parts[0]);
            update.newVersion = std::string(parts[1]);
            update.source = std::string(parts[2]);
        } else {
            list.error = "unrecognised dnf line " + quote(line);
            return false;
        }
        if (!isPackageArch(update.name) || update.newVersion.find('-') == std::string::npos) {
            list.error = "unrecognised dnf line " + quote(line);
            return false;
        }
        list.updates.push_back(std::move(update));
        return true;
    });
    if (list.ok() && !pendingName.empty())
        list.error = "dnf output ends inside a row after " + quote(pendingName);
    if (!list.ok())
        list.updates.clear();
    return list;
}

UpdateList parsePacmanUpgrades(std::string_view output)
{
    UpdateList list;
    forEachLine(output, [&](std::string_view line) {
        if (trim(line).empty())
            return true;
        const auto parts = tokens(line);
        const bool plain = parts.size() == 4 && parts[2] == "->";
        const bool ignored = parts.size() == 5 && parts[2] == "->" && parts[4] == "[ignored]";
        if (!plain && !ignored) {
            list.error = "unrecognised pacman line " + quote(line);
            return false;
        }
        PackageUpdate update;
        update.name = std::string(parts[0]);
        update.currentVersion = std::string(parts[1]);
        update.newVersion = std::string(parts[3]);
        list.updates.push_back(std::move(update));
        return true;
    });
    if (!list.ok())
        list.updates.clear();
    return list;
}

UpdateList parseZypperUpdates(std::string_view xml)
{
    UpdateList list;
    QXmlStreamReader reader(QByteArray(xml.data(), static_cast<qsizetype>(xml.size())));
    bool sawStatus = false;
    int listDepth = 0; // inside update-list or blocked-update-list
    while (!reader.atEnd()) {
        const auto token = reader.readNext();
        if (token == QXmlStreamReader::EndElement) {
            if (reader.name() == u"update-list" || reader.name() == u"blocked-update-list")
                --listDepth;
            continue;
        }
        if (token != QXmlStreamReader::StartElement)
            continue;
        const auto name = reader.name();
        const auto attributes = reader.attributes();
        if (name == u"update-status") {
            sawStatus = true;
        } else if (name == u"update-list" || name == u"blocked-update-list") {
            ++listDepth;
        } else if (name == u"message" && attributes.value(QStringLiteral("type")) == u"error") {
            list.error = "zypper: " + reader.readElementText().simplified().left(200).toStdString();
            break;
        } else if (name == u"update" && listDepth > 0) {
            const auto kind = attributes.value(QStringLiteral("kind"));
            const auto status = attributes.value(QStringLiteral("status"));
            if (kind == u"patch" && !status.isEmpty() && status != u"needed")
                continue;
            PackageUpdate update;
            update.name = attributes.value(QStringLiteral("name")).toString().toStdString();
            update.newVersion =
                attributes.value(QStringLiteral("edition")).toString().toStdString();
            update.currentVersion =
                attributes.value(QStringLiteral("edition-old")).toString().toStdString();
            update.security =
                kind == u"patch" && attributes.value(QStringLiteral("category")) == u"security";
            if (update.name.empty()) {
                list.error = "zypper <update> element without a name";
                break;
            }
            list.updates.push_back(std::move(update));
        }
    }
    if (list.ok() && reader.hasError())
        list.error = "malformed zypper XML: " + reader.errorString().left(200).toStdString();
    if (list.ok() && !sawStatus)
        list.error = "no <update-status> element in zypper output";
    if (!list.ok())
        list.updates.clear();
    return list;
}

std::optional<LogTimestamp> lastDpkgUpgrade(std::string_view log)
{
    std::optional<LogTimestamp> last;
    forEachLine(log, [&](std::string_view line) {
        std::size_t used = 0;
        const auto time = parseDateTime(line, true, &used);
        if (time && used == 19 && line.substr(used).starts_with(" upgrade "))
            last = time;
        return true;
    });
    return last;
}

std::optional<LogTimestamp> lastPacmanUpgrade(std::string_view log)
{
    std::optional<LogTimestamp> last;
    forEachLine(log, [&](std::string_view line) {
        if (!line.starts_with("[") || line.find("] [ALPM] upgraded ") == std::string_view::npos)
            return true;
        const auto close = line.find(']');
        const auto stamp = line.substr(1, close - 1);
        std::size_t used = 0;
        auto time = parseDateTime(stamp, false, &used);
        if (!time)
            return true;
        const auto zone = stamp.substr(used);
        if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
            int hours = 0;
            int minutes = 0;
            if (!readNumber(zone, 1, 2, hours) || !readNumber(zone, 3, 2, minutes))
                return true;
            time->utcOffsetMinutes = (zone[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
        } else if (zone == "Z") {
            time->utcOffsetMinutes = 0;
        } else if (!zone.empty()) {
            return true;
        }
        last = time;
        return true;
    });
    return last;
}

std::optional<LogTimestamp> lastZyppInstall(std::string_view log)
{
    std::optional<LogTimestamp> last;
    forEachLine(log, [&](std::string_view line) {
        std::size_t used = 0;
        const auto time = parseDateTime(line, true, &used);
        if (time && used == 19 && line.substr(used).starts_with("|install|"))
            last = time;
        return true;
    });
    return last;
}

} // namespace vigil::posture
