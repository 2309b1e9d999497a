#pragma once

// vigilctl's exit statuses, in one place so that scripts can rely on them (README.md, "vigilctl
// and vigild", and the epilogue of `vigilctl --help`).

#include "cli/commandline.h"
#include "protocol/ipc/envelope.h"
#include "protocol/ipc/status.h"

#include <QString>

namespace vigil::app {

inline constexpr int exitOk = 0;
inline constexpr int exitFailure = 1; // the reason is on stderr
inline constexpr int exitUsage = cli::exitUsageError;
inline constexpr int exitNonCompliant = 3;       // the verdict is non-compliant
inline constexpr int exitNotEnrolled = 4;        // the device is not enrolled
inline constexpr int exitServiceUnreachable = 5; // vigild is not running or not reachable
inline constexpr int exitPermissionDenied = 6;   // vigild refused this user
// The user's PIN, TOTP code or recovery code was refused (wrong_pin, pin_locked, invalid_code).
inline constexpr int exitCredentialRefused = 7;
inline constexpr int exitNotSignedIn = 8; // the user is not signed in (authentication_required)

// The exit status for an error vigild answered with.
int exitCodeFor(protocol::ipc::ErrorCode code);

// The exit status for a status: 0 compliant, 3 non-compliant, 4 not enrolled, 1 any other state
// (starting, enrolling, offline, revoked, error).
int exitCodeFor(const protocol::ipc::Status &status);

// The paragraph `vigilctl --help` ends with.
QString exitCodesHelp();

} // namespace vigil::app
