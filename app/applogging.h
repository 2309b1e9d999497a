#pragma once

#include <QLoggingCategory>

namespace vigil::app {

// vigil.app: the device's verifier client, its transport and the enrollment state. Debug is
// off unless QT_LOGGING_RULES turns it on. Never given a header, body, token or key: requests
// are logged by method, URL and status only.
Q_DECLARE_LOGGING_CATEGORY(lcApp)

} // namespace vigil::app
