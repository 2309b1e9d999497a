#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::posture {

// Parsers for the places desktops keep their screen-lock settings. All accept any bytes.

// `gsettings get` output for a boolean key: exactly "true" or "false" (plus a newline).
std::optional<bool> parseGVariantBoolean(std::string_view text);
// `gsettings get` output for a "u" key: "uint32 300" (gsettings prints the type for non-int32
// numbers); a plain "300" is accepted too. Anything else, or out of range, is nullopt.
std::optional<std::uint32_t> parseGVariantUint32(std::string_view text);

// KConfig INI text: {"Group/Key": value}. "[$i]"-style key flags and group names are kept
// apart: a key "Autolock[$i]" is stored as "Daemon/Autolock". Later assignments win.
std::map<std::string, std::string> parseKConfig(std::string_view text);
// KConfig's boolean spellings ("true", "1", "yes", "on" and their negations).
std::optional<bool> parseKConfigBoolean(std::string_view text);

// An xfconf per-channel XML file: {"/lock/enabled": {"bool", "true"}}. Empty-typed container
// properties are not listed.
struct XfconfValue
{
    std::string type;
    std::string value;
};
struct XfconfChannel
{
    std::string name;
    std::map<std::string, XfconfValue> properties;
};
struct XfconfParse
{
    std::optional<XfconfChannel> channel;
    std::string error;
};
XfconfParse parseXfconfChannel(std::string_view xml);

} // namespace vigil::posture
