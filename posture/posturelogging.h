#pragma once

#include <QLoggingCategory>

namespace vigil::posture {

// vigil.posture: the engine and the collectors. Debug is off unless QT_LOGGING_RULES turns it
// on, so a command-line client's output stays its own.
Q_DECLARE_LOGGING_CATEGORY(lcPosture)

} // namespace vigil::posture
