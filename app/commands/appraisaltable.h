#pragma once

#include "app/commands/posturetable.h"
#include "protocol/messages.h"

#include <string>

namespace vigil::app {

// The verifier's verdict as a person reads it: the verdict, one line per policy check, then what
// to do about each failing one, and when the next report is due. Text from the verifier is
// shown with control characters escaped.
std::string formatAppraisalTable(const protocol::Appraisal &appraisal,
                                 const TableOptions &options = {});

} // namespace vigil::app
