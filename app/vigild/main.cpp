// vigild: Vigil's service. Everything it does is in app/agent/ (runVigild in vigild.h).
#include "app/agent/vigild.h"

int main(int argc, char **argv)
{
    return vigil::agent::runVigild(argc, argv);
}
