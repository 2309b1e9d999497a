#include "app/commands/vigildcall.h"

#include "app/agent/statelock.h"
#include "app/agent/vigildconfig.h"
#include "app/commands/exitcodes.h"
#include "app/commands/sharedoptions.h"
#include "app/commands/statustable.h"
#include "app/commands/terminaltext.h"

#include <QCoreApplication>
#include <clocale>
#include <cstdlib>
#include <ostream>
#include <string>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

using ipcclient::CallError;

QCommandLineOption socketOption()
{
    return QCommandLineOption(
        u"socket"_s,
        u"vigild's socket (default $VIGIL_SOCKET or /run/vigil/vigild.sock). When given, "
        "vigilctl never falls back to running in-process."_s,
        u"PATH"_s);
}

std::filesystem::path socketPath(const cli::Invocation &invocation)
{
    if (const std::string option = invocation.value(socketOption()); !option.empty())
        return option;
    if (const char *environment = std::getenv("VIGIL_SOCKET"); environment && *environment)
        return environment;
    return agent::VigildConfig{}.socketPath;
}

void ensureCoreApplication()
{
    if (QCoreApplication::instance())
        return;
    static int argc = 1;
    static char name[] = "vigilctl";
    static char *argv[] = {name, nullptr};
    // QCoreApplication adopts the environment's locale; vigilctl's output stays in C's.
    const std::string locale = std::setlocale(LC_ALL, nullptr);
    new QCoreApplication(argc, argv); // lives until the process ends
    std::setlocale(LC_ALL, locale.c_str());
}

int askVigild(const cli::Invocation &invocation, std::ostream &err, const WithVigild &withVigild,
              const std::optional<InProcess> &inProcess)
{
    const std::filesystem::path socket = socketPath(invocation);
    const auto runInProcess = [&] {
        if (inProcess->writesState)
            if (const auto refused = refuseWhileVigildOwnsState(*inProcess->writesState, err))
                return *refused;
        return inProcess->run();
    };
    // --state-dir names a device of its own (the demo's, a test's): vigild's is another one.
    if (inProcess && invocation.isSet(stateDirectoryOption()) && !invocation.isSet(socketOption()))
        return runInProcess();
    ensureCoreApplication();
    ipcclient::VigildClient vigild;
    try {
        vigild.connectAndWait(QString::fromStdString(socket.string()), connectTimeout);
    } catch (const CallError &e) {
        // An explicit --socket means "ask vigild there": running in-process instead would
        // hide that it is not.
        if (e.kind() != CallError::Kind::Unreachable || !inProcess ||
            invocation.isSet(socketOption()))
            return reportCallError(e, socket, err);
        return runInProcess();
    }
    try {
        return withVigild(vigild);
    } catch (const CallError &e) {
        return reportCallError(e, socket, err);
    }
}

std::optional<int> refuseWhileVigildOwnsState(const std::filesystem::path &stateDirectory,
                                              std::ostream &err)
{
    try {
        if (const auto holder = agent::StateLock::isHeld(stateDirectory)) {
            err << "vigilctl: " << agent::vigildOwnsStateMessage(stateDirectory, *holder) << "\n";
            return exitFailure;
        }
    } catch (const agent::StateLockError &e) {
        err << "vigilctl: " << printable(e.what()) << "\n";
        return exitFailure;
    }
    return std::nullopt;
}

int exitCodeFor(const CallError &error)
{
    switch (error.kind()) {
    case CallError::Kind::Unreachable:
        return exitServiceUnreachable;
    case CallError::Kind::AccessDenied:
        return exitPermissionDenied;
    case CallError::Kind::ErrorResponse:
        return error.error() ? app::exitCodeFor(error.error()->code) : exitFailure;
    default:
        return exitFailure;
    }
}

int reportCallError(const CallError &error, const std::filesystem::path &socket, std::ostream &err)
{
    switch (error.kind()) {
    case CallError::Kind::Unreachable:
        err << "vigilctl: vigild is not running or not reachable at " << socket.string() << "\n"
            << "vigilctl: start it with: systemctl start vigild\n";
        break;
    case CallError::Kind::AccessDenied:
        err << "vigilctl: " << printable(error.what()) << "\n";
        break;
    case CallError::Kind::ErrorResponse: {
        const auto code = error.error() ? error.error()->code : protocol::ipc::ErrorCode::Internal;
        err << "vigilctl: vigild: " << printable(error.what()) << " ("
            << protocol::ipc::errorCodeName(code) << ")\n";
        if (code == protocol::ipc::ErrorCode::PermissionDenied)
            err << "vigilctl: run it as root or as a member of vigild's group\n";
        else if (code == protocol::ipc::ErrorCode::NotEnrolled)
            err << "vigilctl: enroll first: vigilctl enroll --token-file FILE\n";
        else if (code == protocol::ipc::ErrorCode::NotEnrolledUser)
            err << "vigilctl: enroll your account first: vigilctl mfa enroll\n";
        else if (code == protocol::ipc::ErrorCode::AuthenticationRequired)
            err << "vigilctl: sign in first: vigilctl mfa sign-in\n";
        break;
    }
    default:
        err << "vigilctl: " << printable(error.what()) << "\n";
        break;
    }
    return exitCodeFor(error);
}

int printStatusResult(const nlohmann::json &result, bool json, std::ostream &out)
{
    const auto status = protocol::ipc::Status::fromJson(result, "/result");
    if (json) {
        out << result.dump(2) << "\n";
    } else {
        TableOptions table;
        table.color = colorOutput();
        out << formatStatus(status, table);
    }
    return out.good() ? app::exitCodeFor(status) : exitFailure;
}

} // namespace vigil::app::commands
