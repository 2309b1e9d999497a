#pragma once

// This machine's posture as posture and report collect it.

#include "posture/posturesnapshot.h"

namespace vigil::app::commands {

posture::PostureSnapshot collectPosture();

} // namespace vigil::app::commands
