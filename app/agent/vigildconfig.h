#pragma once

// vigild's configuration: /etc/vigil/vigild.json unless `vigild --config FILE` says otherwise.
// docs/deployment.md ("vigild configuration") is the administrator's description; every member
// is optional:
//
//   {
//     "server_url": "https://verifier.example.com:8443",  // https only, with a host; no
//                                                          //   userinfo, query or fragment
//     "ca_file": "/etc/vigil/verifier-ca.pem",             // absolute path
//     "ca_fingerprint": "sha256:<64 hex>",                  // also openssl's AA:BB:… form
//     "tcti": "auto",                  // "auto", "none" (software key) or a TCTI string
//     "state_directory": "/var/lib/vigil",
//     "socket_path": "/run/vigil/vigild.sock",
//     "privileged_group": "vigil",
//     "proxy": "http://proxy.example.com:3128",            // http, https, socks5 or socks5h
//     "log_level": "info"              // "debug" | "info" | "warning" | "error"
//   }
//
// server_url and ca_file may be absent: an installer may lay down the package before the site's
// values are known. vigild then runs and stays not_enrolled, with enrollmentBlocker() as the
// reason. An enrolled device no longer needs them: its state directory holds both.
//
// Strict, because a typo must never silently mean a default: an unknown member, a wrong type or
// a bad value is a ConfigError naming the member as a JSON pointer and saying what is expected.

#include "protocol/ipc/envelope.h"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::agent {

class ConfigError : public std::runtime_error
{
public:
    enum class Kind
    {
        Missing,    // the file does not exist: the caller decides whether defaults will do
        Unreadable, // not a regular file, cannot be opened or read
        Unsafe,     // someone other than root or its owner could change it
        Invalid,    // not a valid configuration: too large, not JSON, a bad member
    };

    // what(): "<file>: <pointer>: <problem>", without the parts that are empty.
    ConfigError(Kind kind, std::string pointer, const std::string &problem,
                const std::string &file = {});

    Kind kind() const { return m_kind; }
    // RFC 6901 pointer to the bad member ("/server_url"); "" for the whole file.
    const std::string &pointer() const { return m_pointer; }
    const std::string &problem() const { return m_problem; }

private:
    Kind m_kind;
    std::string m_pointer;
    std::string m_problem;
};

enum class LogLevel
{
    Debug,
    Info,
    Warning,
    Error,
};

struct VigildConfig
{
    static constexpr std::string_view defaultPath = "/etc/vigil/vigild.json";
    static constexpr std::size_t maxFileSize = 64 * 1024;

    std::optional<std::string> serverUrl;
    std::optional<std::filesystem::path> caFile;
    std::optional<std::string> caFingerprint; // "sha256:" + lower-case hex
    std::string tcti = "auto";
    std::filesystem::path stateDirectory = "/var/lib/vigil";
    std::filesystem::path socketPath = protocol::ipc::defaultSocketPath;
    std::string privilegedGroup = "vigil";
    std::optional<std::string> proxy;
    LogLevel logLevel = LogLevel::Info;

    // Why a device that is not enrolled cannot enroll with this configuration ("no server_url
    // and no ca_file in the configuration"), or "" when it can.
    std::string enrollmentBlocker() const;

    // The text alone, touching no file: what the fuzz target and the tests drive. Throws
    // ConfigError (Invalid).
    static VigildConfig parse(std::string_view text);

    // Opens file (symbolic links followed), refuses it unless it is a regular file of at most
    // maxFileSize bytes that only root or its owner can change, with the directories above it
    // (pathsafety.h), then parses it. The paths it names are not opened here: the state
    // directory is checked by StateLock when vigild takes it, the CA file when enrolling.
    static VigildConfig load(const std::filesystem::path &file);

    bool operator==(const VigildConfig &) const = default;
};

// "debug", "info", "warning", "error": as the file spells them.
std::string_view logLevelName(LogLevel level);

} // namespace vigil::agent
