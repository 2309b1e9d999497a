#include "posture/parsers/mountinfo.h"

#include <charconv>

namespace vigil::posture {

namespace {

std::vector<std::string_view> splitFields(std::string_view line)
{
    std::vector<std::string_view> fields;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
            ++pos;
        if (pos >= line.size())
            break;
        const auto end = line.find_first_of(" \t", pos);
        const auto stop = end == std::string_view::npos ? line.size() : end;
        fields.push_back(line.substr(pos, stop - pos));
        pos = stop;
    }
    return fields;
}

template <typename T> std::optional<T> parseNumber(std::string_view text)
{
    T value{};
    if (text.empty())
        return std::nullopt;
    const auto *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end)
        return std::nullopt;
    return value;
}

template <typename Callback> void forEachLine(std::string_view text, Callback callback)
{
    std::size_t number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto end = text.find('\n', pos);
        const auto stop = end == std::string_view::npos ? text.size() : end;
        ++number;
        callback(number, text.substr(pos, stop - pos));
        pos = stop + 1;
    }
}

std::optional<std::string> parseEntry(std::string_view line, MountInfoEntry &entry)
{
    const auto fields = splitFields(line);
    // Six fixed fields, optional fields ended by "-", then type, source and super options.
    if (fields.size() < 10)
        return "too few fields";
    const auto mountId = parseNumber<int>(fields[0]);
    const auto parentId = parseNumber<int>(fields[1]);
    if (!mountId || !parentId || *mountId < 0 || *parentId < 0)
        return "bad mount id";
    const auto colon = fields[2].find(':');
    if (colon == std::string_view::npos)
        return "bad major:minor";
    const auto major = parseNumber<unsigned>(fields[2].substr(0, colon));
    const auto minor = parseNumber<unsigned>(fields[2].substr(colon + 1));
    if (!major || !minor)
        return "bad major:minor";
    entry.mountId = *mountId;
    entry.parentId = *parentId;
    entry.major = *major;
    entry.minor = *minor;
    entry.root = unescapeMountField(fields[3]);
    entry.mountPoint = unescapeMountField(fields[4]);
    if (entry.mountPoint.empty() || entry.mountPoint.front() != '/')
        return "mount point is not an absolute path";
    entry.options = std::string(fields[5]);
    std::size_t index = 6;
    while (index < fields.size() && fields[index] != "-")
        entry.optionalFields.emplace_back(fields[index++]);
    if (index >= fields.size())
        return "no \"-\" separator";
    // Newer kernels may append fields; the three after the separator are all we need.
    if (fields.size() - index - 1 < 3)
        return "too few fields after \"-\"";
    entry.fsType = unescapeMountField(fields[index + 1]);
    entry.source = unescapeMountField(fields[index + 2]);
    entry.superOptions = std::string(fields[index + 3]);
    if (entry.fsType.empty())
        return "empty filesystem type";
    return std::nullopt;
}

bool isOctal(char c)
{
    return c >= '0' && c <= '7';
}

} // namespace

std::string unescapeMountField(std::string_view field)
{
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && isOctal(field[i + 1]) &&
            isOctal(field[i + 2]) && isOctal(field[i + 3])) {
            const int value =
                (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
            if (value <= 0xff) {
                out.push_back(static_cast<char>(value));
                i += 3;
                continue;
            }
        }
        out.push_back(field[i]);
    }
    return out;
}

MountInfoParseResult parseMountInfo(std::string_view text)
{
    MountInfoParseResult result;
    forEachLine(text, [&](std::size_t number, std::string_view line) {
        if (line.find_first_not_of(" \t\r") == std::string_view::npos)
            return;
        MountInfoEntry entry;
        if (auto error = parseEntry(line, entry))
            result.issues.push_back({number, std::move(*error)});
        else
            result.entries.push_back(std::move(entry));
    });
    return result;
}

SwapsParseResult parseSwaps(std::string_view text)
{
    SwapsParseResult result;
    forEachLine(text, [&](std::size_t number, std::string_view line) {
        const auto fields = splitFields(line);
        if (fields.empty())
            return;
        if (number == 1 && fields[0] == "Filename") {
            result.headerSeen = true;
            return;
        }
        if (fields.size() != 5) {
            result.issues.push_back({number, "expected 5 fields"});
            return;
        }
        SwapEntry entry;
        entry.filename = unescapeMountField(fields[0]);
        entry.type = std::string(fields[1]);
        const auto size = parseNumber<std::uint64_t>(fields[2]);
        const auto used = parseNumber<std::uint64_t>(fields[3]);
        const auto priority = parseNumber<int>(fields[4]);
        if (entry.filename.empty() || entry.filename.front() != '/') {
            result.issues.push_back({number, "swap name is not an absolute path"});
            return;
        }
        if (!size || !used || !priority) {
            result.issues.push_back({number, "bad size, used or priority"});
            return;
        }
        entry.sizeKiB = *size;
        entry.usedKiB = *used;
        entry.priority = *priority;
        result.entries.push_back(std::move(entry));
    });
    return result;
}

} // namespace vigil::posture
