// vigil-tray: the tray of the person at the desktop. Everything it does is in ui/ (runTray in
// vigiltray.h).
#include "ui/vigiltray.h"

int main(int argc, char **argv)
{
    return vigil::ui::runTray(argc, argv);
}
