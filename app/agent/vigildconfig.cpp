#include "app/agent/vigildconfig.h"

#include "app/agent/pathsafety.h"
#include "app/client/enrollmentstate.h"
#include "core/filedescriptor.h"
#include "core/text.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/jose.h"
#include "protocol/json/objectreader.h"
#include "protocol/json/strictjson.h"
#include "protocol/problem.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace vigil::agent {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using protocol::detail::ObjectReader;

// The file is one flat object; anything nested is a wrong type, reported as such.
constexpr int maxDepth = 4;
constexpr std::size_t maxValueLength = 4096;
// sockaddr_un's sun_path holds 108 bytes with the terminating NUL.
constexpr std::size_t maxSocketPathLength = 107;
constexpr std::size_t maxGroupNameLength = 32;

constexpr std::array logLevels{LogLevel::Debug, LogLevel::Info, LogLevel::Warning, LogLevel::Error};

[[noreturn]] void fail(const std::string &pointer, const std::string &problem)
{
    throw ConfigError(ConfigError::Kind::Invalid, pointer, problem);
}

// What a value is, for "expected …, got …": a string as messageExcerpt shows it, other types
// by name, never a whole object or array.
std::string described(const json &value)
{
    switch (value.type()) {
    case json::value_t::string:
        return protocol::messageExcerpt(value.get_ref<const std::string &>());
    case json::value_t::boolean:
    case json::value_t::null:
        return value.dump();
    case json::value_t::object:
        return "an object";
    case json::value_t::array:
        return "an array";
    default:
        return "a number";
    }
}

json parseDocument(std::string_view text)
{
    text = protocol::withoutByteOrderMark(text);
    json document;
    const auto fault = protocol::parseStrictJson(text, document, maxDepth);
    if (!fault)
        return document;
    using Kind = protocol::JsonFault::Kind;
    if (fault->kind == Kind::DuplicateName)
        fail(fault->pointer, "given more than once");
    if (fault->kind == Kind::TooDeep)
        fail(fault->pointer, "nested deeper than " + std::to_string(maxDepth) + " levels");
    fail("", "not valid UTF-8 JSON at " + protocol::textPosition(text, fault->offset));
}

bool isAsciiLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isVisibleAscii(char c)
{
    return c > 0x20 && c < 0x7f;
}

// What is wrong with url as a URL of one of schemes: scheme://host[:port][/path], a registered
// name, IPv4 address or [IPv6] literal as host; "" when nothing is.
std::string urlProblem(std::string_view url, std::initializer_list<std::string_view> schemes,
                       bool pathAllowed)
{
    if (!std::all_of(url.begin(), url.end(), isVisibleAscii))
        return "it has a space, a control or a non-ASCII character";
    const auto separator = url.find("://");
    if (separator == std::string_view::npos)
        return "it has no scheme:// in front";
    const std::string scheme = asciiLower(url.substr(0, separator));
    if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end())
        return "the scheme is " + protocol::messageExcerpt(scheme);
    std::string_view rest = url.substr(separator + 3);
    if (rest.find('#') != std::string_view::npos)
        return "it has a fragment (#…)";
    if (rest.find('?') != std::string_view::npos)
        return "it has a query (?…)";
    const auto pathStart = std::min(rest.find('/'), rest.size());
    const std::string_view authority = rest.substr(0, pathStart);
    if (authority.find('@') != std::string_view::npos)
        return "it has a user name or password (…@), which must not be in a file every local "
               "user can read";
    if (!pathAllowed && rest.size() > pathStart + 1)
        return "it has a path";
    std::string_view host = authority;
    std::string_view port;
    const auto portColon =
        authority.starts_with('[')
            ? authority.find(':', std::min(authority.find(']'), authority.size()))
            : authority.find(':');
    if (portColon != std::string_view::npos) {
        host = authority.substr(0, portColon);
        port = authority.substr(portColon + 1);
    }
    if (host.empty())
        return "it has no host";
    const auto inIpv6Literal = [](char c) {
        return isDigit(c) || (asciiLower(c) >= 'a' && asciiLower(c) <= 'f') || c == ':' || c == '.';
    };
    const auto inName = [](char c) {
        return isAsciiLetter(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
    };
    const bool hostValid = host.starts_with('[')
                               ? host.size() > 2 && host.ends_with(']') &&
                                     std::all_of(host.begin() + 1, host.end() - 1, inIpv6Literal)
                               : std::all_of(host.begin(), host.end(), inName);
    if (!hostValid)
        return "the host is not a name, an IPv4 address or an [IPv6] address";
    if (portColon != std::string_view::npos &&
        (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), isDigit) ||
         std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535))
        return "the port is not a number from 1 to 65535";
    return {};
}

std::string tctiProblem(std::string_view tcti)
{
    if (tcti == "auto" || tcti == "none")
        return {};
    const auto colon = tcti.find(':');
    const std::string_view name = tcti.substr(0, colon);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return isAsciiLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '.';
        }))
        return "the TCTI name before ':' is not letters, digits, '-', '_' or '.'";
    if (colon == std::string_view::npos)
        return {};
    const std::string_view conf = tcti.substr(colon + 1);
    if (conf.empty() || !std::all_of(conf.begin(), conf.end(), isVisibleAscii))
        return "the configuration after ':' is empty or has a space, a control or a non-ASCII "
               "character";
    if (name == "device" && !conf.starts_with('/'))
        return "the device is not an absolute path";
    return {};
}

bool validGroupName(std::string_view name)
{
    // Shadow-utils' rule, relaxed to the upper-case letters and dots some sites use; a leading
    // digit is refused so that a name can never be read as a gid.
    return !name.empty() && name.size() <= maxGroupNameLength &&
           (isAsciiLetter(name.front()) || name.front() == '_') &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return isAsciiLetter(c) || isDigit(c) || c == '_' || c == '-' || c == '.';
           });
}

// Reads the members of one document: each takes a string, checks it against what it expects
// and says so when it is not.
class MemberReader
{
public:
    explicit MemberReader(const ObjectReader &root) : m_root(root) {}

    // The string member name, or nullopt when it is absent.
    std::optional<std::string> text(std::string_view name, const std::string &expected) const
    {
        const json *value = m_root.find(name);
        if (!value)
            return std::nullopt;
        if (!value->is_string() || value->get_ref<const std::string &>().empty() ||
            value->get_ref<const std::string &>().size() > maxValueLength)
            invalid(name, expected, *value);
        return value->get<std::string>();
    }

    // An absolute path, naming a file (not ending in '/') when isFile.
    std::optional<fs::path> path(std::string_view name, bool isFile,
                                 std::size_t maxLength = maxValueLength) const
    {
        const std::string expected = isFile ? "an absolute file path" : "an absolute path";
        const auto value = text(name, expected);
        if (!value)
            return std::nullopt;
        if (!value->starts_with('/'))
            invalid(name, expected, *value, "it is relative");
        if (value->find('\0') != std::string::npos)
            invalid(name, expected, *value, "it has a NUL character");
        if (isFile && value->ends_with('/'))
            invalid(name, expected, *value, "it ends in '/'");
        if (value->size() > maxLength)
            invalid(name, expected, *value,
                    "it is longer than " + std::to_string(maxLength) + " bytes");
        return fs::path(*value);
    }

    [[noreturn]] void invalid(std::string_view name, const std::string &expected, const json &value,
                              const std::string &why = {}) const
    {
        fail(m_root.pointerTo(name), "expected " + expected + ", got " + described(value) +
                                         (why.empty() ? "" : ": " + why));
    }

private:
    const ObjectReader &m_root;
};

VigildConfig readConfig(std::string_view text)
{
    if (text.size() > VigildConfig::maxFileSize)
        fail("", "larger than " + std::to_string(VigildConfig::maxFileSize) + " bytes");
    const json document = parseDocument(text);
    if (!document.is_object())
        fail("", "expected a JSON object ({…}), got " + described(document));
    const ObjectReader root(document, "");
    root.rejectUnknown({"server_url", "ca_file", "ca_fingerprint", "tcti", "state_directory",
                        "socket_path", "privileged_group", "proxy", "log_level"});
    const MemberReader members(root);
    VigildConfig config;

    const std::string serverUrl = "an https:// URL with a host, like https://verifier.example.com";
    config.serverUrl = members.text("server_url", serverUrl);
    if (config.serverUrl) {
        if (const auto problem = urlProblem(*config.serverUrl, {"https"}, true); !problem.empty())
            members.invalid("server_url", serverUrl, *config.serverUrl, problem);
        // The verifier client takes exactly the URLs a DPoP proof can name.
        try {
            protocol::normaliseHtu(*config.serverUrl);
        } catch (const protocol::JoseError &e) {
            members.invalid("server_url", serverUrl, *config.serverUrl, e.what());
        }
    }

    config.caFile = members.path("ca_file", true);

    const std::string fingerprint = "\"sha256:\" and 64 hex digits, as vigil-verifier init prints";
    if (const auto value = members.text("ca_fingerprint", fingerprint)) {
        config.caFingerprint = app::normaliseFingerprint(*value);
        if (!config.caFingerprint)
            members.invalid("ca_fingerprint", fingerprint, *value);
    }

    const std::string tcti = "\"auto\", \"none\" or a TCTI like \"device:/dev/tpmrm0\" or "
                             "\"swtpm:host=127.0.0.1,port=2321\"";
    if (const auto value = members.text("tcti", tcti)) {
        if (const auto problem = tctiProblem(*value); !problem.empty())
            members.invalid("tcti", tcti, *value, problem);
        config.tcti = *value;
    }

    if (const auto value = members.path("state_directory", false))
        config.stateDirectory = *value;
    if (const auto value = members.path("socket_path", true, maxSocketPathLength))
        config.socketPath = *value;

    const std::string group = "a group name (letters, digits, '_', '-', '.'; starting with a "
                              "letter or '_'; at most 32)";
    if (const auto value = members.text("privileged_group", group)) {
        if (!validGroupName(*value))
            members.invalid("privileged_group", group, *value);
        config.privilegedGroup = *value;
    }

    const std::string proxy = "an http://, https://, socks5:// or socks5h:// URL with a host and "
                              "no path, like http://proxy.example.com:3128";
    config.proxy = members.text("proxy", proxy);
    if (config.proxy) {
        if (const auto problem =
                urlProblem(*config.proxy, {"http", "https", "socks5", "socks5h"}, false);
            !problem.empty())
            members.invalid("proxy", proxy, *config.proxy, problem);
    }

    const std::string logLevel = "one of \"debug\", \"info\", \"warning\", \"error\"";
    if (const auto value = members.text("log_level", logLevel)) {
        const auto level = std::find_if(logLevels.begin(), logLevels.end(),
                                        [&](LogLevel l) { return logLevelName(l) == *value; });
        if (level == logLevels.end())
            members.invalid("log_level", logLevel, *value);
        config.logLevel = *level;
    }
    return config;
}

} // namespace

ConfigError::ConfigError(Kind kind, std::string pointer, const std::string &problem,
                         const std::string &file)
    : std::runtime_error((file.empty() ? std::string() : file + ": ") +
                         (pointer.empty() ? problem : pointer + ": " + problem)),
      m_kind(kind), m_pointer(std::move(pointer)), m_problem(problem)
{
}

std::string_view logLevelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        return "debug";
    case LogLevel::Info:
        return "info";
    case LogLevel::Warning:
        return "warning";
    case LogLevel::Error:
        return "error";
    }
    return "info";
}

std::string VigildConfig::enrollmentBlocker() const
{
    std::vector<std::string> missing;
    if (!serverUrl)
        missing.emplace_back("server_url");
    if (!caFile)
        missing.emplace_back("ca_file");
    if (missing.empty())
        return {};
    return "the configuration has no " + joined(missing, " and no ") +
           "; vigild enrolls once the installer or an administrator sets " +
           (missing.size() > 1 ? "them" : "it") + " (docs/deployment.md)";
}

VigildConfig VigildConfig::parse(std::string_view text)
{
    try {
        return readConfig(text);
    } catch (const protocol::MessageError &e) {
        // ObjectReader's own refusals: not an object, an unknown member.
        throw ConfigError(ConfigError::Kind::Invalid, e.field(), e.reason());
    }
}

VigildConfig VigildConfig::load(const fs::path &file)
{
    using Kind = ConfigError::Kind;
    const std::string name = file.string();
    // O_NONBLOCK: opening a FIFO planted at the path must not hang; fstat then refuses it.
    FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        const int error = errno;
        if (error == ENOENT)
            throw ConfigError(Kind::Missing, "", "does not exist", name);
        throw ConfigError(Kind::Unreadable, "", std::string("cannot open: ") + std::strerror(error),
                          name);
    }
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
        throw ConfigError(Kind::Unreadable, "", std::string("cannot stat: ") + std::strerror(errno),
                          name);
    if (!S_ISREG(st.st_mode))
        throw ConfigError(Kind::Unreadable, "", "not a regular file", name);
    // The problem names the file itself.
    if (const auto problem = writeAccessProblem(file, "config file"); !problem.empty())
        throw ConfigError(Kind::Unsafe, "", problem);
    // The checks went by name; what is read must be what they looked at, and itself safe.
    struct stat checked
    {
    };
    if (::stat(file.c_str(), &checked) != 0 || checked.st_dev != st.st_dev ||
        checked.st_ino != st.st_ino)
        throw ConfigError(Kind::Unsafe, "", "was replaced while it was being checked", name);
    if ((st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
        throw ConfigError(Kind::Unsafe, "", "changed owner or mode while it was being checked",
                          name);
    std::string text;
    try {
        text = readUpTo(fd.get(), maxFileSize);
    } catch (const std::system_error &e) {
        throw ConfigError(Kind::Unreadable, "", std::string("cannot read: ") + e.what(), name);
    }
    try {
        return parse(text);
    } catch (const ConfigError &e) {
        throw ConfigError(e.kind(), e.pointer(), e.problem(), name);
    }
}

} // namespace vigil::agent
