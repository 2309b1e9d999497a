#include "posture/parsers/screenlocksettings.h"

#include "core/text.h"

#include <QXmlStreamReader>
#include <charconv>
#include <vector>

namespace vigil::posture {

std::optional<bool> parseGVariantBoolean(std::string_view text)
{
    const auto value = trimmedView(text);
    if (value == "true")
        return true;
    if (value == "false")
        return false;
    return std::nullopt;
}

std::optional<std::uint32_t> parseGVariantUint32(std::string_view text)
{
    auto value = trimmedView(text);
    if (value.starts_with("uint32 "))
        value.remove_prefix(7);
    if (value.empty() || value.size() > 10)
        return std::nullopt;
    std::uint32_t number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size())
        return std::nullopt;
    return number;
}

std::map<std::string, std::string> parseKConfig(std::string_view text)
{
    std::map<std::string, std::string> values;
    std::string group;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const auto line = trimmedView(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        if (line.empty() || line.front() == '#')
            continue;
        if (line.front() == '[') {
            const auto close = line.find(']');
            group = close == std::string_view::npos ? std::string()
                                                    : std::string(line.substr(1, close - 1));
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos || group.empty())
            continue;
        auto key = trimmedView(line.substr(0, eq));
        if (const auto flags = key.find('['); flags != std::string_view::npos)
            key = trimmedView(key.substr(0, flags));
        if (key.empty())
            continue;
        values[group + "/" + std::string(key)] = std::string(trimmedView(line.substr(eq + 1)));
    }
    return values;
}

std::optional<bool> parseKConfigBoolean(std::string_view text)
{
    std::string value(trimmedView(text));
    for (auto &c : value)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (value == "true" || value == "1" || value == "yes" || value == "on")
        return true;
    if (value == "false" || value == "0" || value == "no" || value == "off")
        return false;
    return std::nullopt;
}

XfconfParse parseXfconfChannel(std::string_view xml)
{
    QXmlStreamReader reader(QByteArray(xml.data(), static_cast<qsizetype>(xml.size())));
    XfconfChannel channel;
    bool sawChannel = false;
    std::vector<std::string> path;
    while (!reader.atEnd()) {
        const auto token = reader.readNext();
        if (token == QXmlStreamReader::StartElement) {
            const auto name = reader.name();
            const auto attributes = reader.attributes();
            if (name == QLatin1String("channel")) {
                if (sawChannel || !path.empty())
                    return {std::nullopt, "nested or repeated <channel>"};
                sawChannel = true;
                channel.name = attributes.value(QLatin1String("name")).toString().toStdString();
            } else if (name == QLatin1String("property")) {
                if (!sawChannel)
                    return {std::nullopt, "<property> outside <channel>"};
                const auto propertyName =
                    attributes.value(QLatin1String("name")).toString().toStdString();
                if (propertyName.empty() || propertyName.find('/') != std::string::npos)
                    return {std::nullopt, "property without a valid name"};
                path.push_back(propertyName);
                const auto type = attributes.value(QLatin1String("type")).toString().toStdString();
                if (type != "empty" && type != "array") {
                    std::string full;
                    for (const auto &part : path)
                        full += "/" + part;
                    channel.properties[full] = {
                        type, attributes.value(QLatin1String("value")).toString().toStdString()};
                }
            } else if (name != QLatin1String("value")) {
                return {std::nullopt, "unexpected element <" + name.toString().toStdString() + ">"};
            }
        } else if (token == QXmlStreamReader::EndElement) {
            if (reader.name() == QLatin1String("property") && !path.empty())
                path.pop_back();
        }
    }
    if (reader.hasError())
        return {std::nullopt, "malformed XML: " + reader.errorString().toStdString() + " at line " +
                                  std::to_string(reader.lineNumber())};
    if (!sawChannel)
        return {std::nullopt, "no <channel> element"};
    return {std::move(channel), {}};
}

} // namespace vigil::posture
