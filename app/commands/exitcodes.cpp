#include "app/commands/exitcodes.h"

using namespace Qt::StringLiterals;

namespace vigil::app {

int exitCodeFor(protocol::ipc::ErrorCode code)
{
    switch (code) {
    case protocol::ipc::ErrorCode::NotEnrolled:
    case protocol::ipc::ErrorCode::NotEnrolledUser: // the user's account, for the mfa commands
        return exitNotEnrolled;
    case protocol::ipc::ErrorCode::WrongPin:
    case protocol::ipc::ErrorCode::PinLocked:
    case protocol::ipc::ErrorCode::InvalidCode:
        return exitCredentialRefused;
    case protocol::ipc::ErrorCode::AuthenticationRequired:
        return exitNotSignedIn;
    case protocol::ipc::ErrorCode::PermissionDenied:
        return exitPermissionDenied;
    default:
        return exitFailure;
    }
}

int exitCodeFor(const protocol::ipc::Status &status)
{
    switch (status.state) {
    case protocol::ipc::AgentState::Compliant:
        return exitOk;
    case protocol::ipc::AgentState::NonCompliant:
        return exitNonCompliant;
    case protocol::ipc::AgentState::NotEnrolled:
        return exitNotEnrolled;
    default:
        return exitFailure;
    }
}

QString exitCodesHelp()
{
    return u"Exit status: 0 on success, 1 if the command failed (reason on stderr), 2 on a usage "
           "error,\n3 when the verdict is non-compliant, 4 when the device is not enrolled, 5 when "
           "vigild\nis not running or not reachable (for a command that needs it, or with "
           "--socket), 6 when\nvigild refuses this user (root and its group only), 7 when a PIN or "
           "code "
           "is refused,\n8 when the user is not signed in (mfa, token --user; 4 there: the account "
           "is not enrolled).\n\nWith vigild "
           "running, vigilctl asks it over its socket; without it, enroll, report,\ntoken, whoami "
           "and posture run in-process, and those that write the device's state refuse\nwhile "
           "vigild holds it. --state-dir without --socket runs in-process too.\n"_s;
}

} // namespace vigil::app
