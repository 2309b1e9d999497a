#pragma once

namespace vigil::ui {

// vigil-tray's main: its options, one instance per session, the translations and the TrayApp.
// Returns the exit code.
int runTray(int argc, char **argv);

} // namespace vigil::ui
