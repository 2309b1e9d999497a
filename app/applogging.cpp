#include "app/applogging.h"

namespace vigil::app {

Q_LOGGING_CATEGORY(lcApp, "vigil.app", QtInfoMsg)

} // namespace vigil::app
