#pragma once

// This machine's posture as posture and report collect it.

#include "posture/posturesnapshot.h"

namespace vigil::app::commands {

posture::PostureSnapshot collectPosture();

// Whether collectPosture() ran in this process: a slow check (a package-manager query runs on
// past the report) may then still be finishing on a detached thread, and main leaves without
// running static destructors under it.
bool postureCollected();

} // namespace vigil::app::commands
