#include "posture/posturelogging.h"

namespace vigil::posture {

Q_LOGGING_CATEGORY(lcPosture, "vigil.posture", QtInfoMsg)

} // namespace vigil::posture
