#pragma once

// vigild's status (docs/ipc.md section 8) as a person reads it: what `vigilctl status`, and
// report and enroll through vigild, print.

#include "app/commands/posturetable.h"
#include "protocol/ipc/status.h"

#include <string>

namespace vigil::app {

// One line each for the state (and why), the enrollment, the verifier and its reachability, the
// last verdict, the last and next report and the token's expiry; then each failing check with
// its summary and what to do about it. Text from vigild is shown with control characters
// escaped.
std::string formatStatus(const protocol::ipc::Status &status, const TableOptions &options = {});

} // namespace vigil::app
