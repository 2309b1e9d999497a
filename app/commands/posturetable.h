#pragma once

#include "posture/posturesnapshot.h"

#include <string>

namespace vigil::app {

struct TableOptions
{
    bool color = false; // ANSI colours for the status column (only on a terminal)
    int width = 100;    // summaries are cut to fit
};

// The snapshot as a person reads it: one line per check, then what to do about each failing
// check and why each unknown one is unknown.
std::string formatPostureTable(const posture::PostureSnapshot &snapshot,
                               const TableOptions &options = {});

} // namespace vigil::app
