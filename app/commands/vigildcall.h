#pragma once

// How a vigilctl command reaches vigild: the --socket option, asking vigild first and falling
// back to the in-process command when nothing listens, the state lock those in-process commands
// that write state respect, and how a failed call becomes a message and an exit status.

#include "app/ipcclient/vigildclient.h"
#include "cli/command.h"
#include "protocol/ipc/status.h"

#include <QCommandLineOption>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>

namespace vigil::app::commands {

QCommandLineOption socketOption();
// --socket, else $VIGIL_SOCKET, else vigild's default (VigildConfig::socketPath).
std::filesystem::path socketPath(const cli::Invocation &invocation);

inline constexpr std::chrono::milliseconds connectTimeout{5000};

// What a command does with vigild once connected; returns the exit status. A CallError it
// throws is reported by askVigild.
using WithVigild = std::function<int(ipcclient::VigildClient &vigild)>;

// The in-process form of a command, for machines without vigild.
struct InProcess
{
    std::function<int()> run;
    // Where it writes the device's state (key, enrollment): it is refused while vigild holds
    // the lock on it. Unset for a command that writes nothing.
    std::optional<std::filesystem::path> writesState;
};

// Connects to vigild (socketPath) and runs withVigild. When nothing listens there, --socket was
// not given and the command has an in-process form, runs that instead (after the state lock's
// check); otherwise the failure is reported on err and its exit status returned. A --state-dir
// without --socket asks for the in-process form at once: that directory's device is not
// necessarily vigild's.
int askVigild(const cli::Invocation &invocation, std::ostream &err, const WithVigild &withVigild,
              const std::optional<InProcess> &inProcess = std::nullopt);

// exitFailure with vigildOwnsStateMessage on err while vigild holds stateDirectory (or when
// that cannot be told); nullopt when an in-process command may write there.
std::optional<int> refuseWhileVigildOwnsState(const std::filesystem::path &stateDirectory,
                                              std::ostream &err);

// The exit status for a failed call: 5 unreachable, 6 access denied, an error response by its
// code (exitCodeFor), 1 anything else.
int exitCodeFor(const ipcclient::CallError &error);
// Writes what went wrong, and what to do, on err; returns exitCodeFor(error).
int reportCallError(const ipcclient::CallError &error, const std::filesystem::path &socket,
                    std::ostream &err);

// A status result (status, report, enroll) as JSON or formatStatus; returns exitCodeFor it.
int printStatusResult(const nlohmann::json &result, bool json, std::ostream &out);

// vigilctl has no QCoreApplication of its own; the blocking calls need one. Keeps the C locale.
void ensureCoreApplication();

} // namespace vigil::app::commands
