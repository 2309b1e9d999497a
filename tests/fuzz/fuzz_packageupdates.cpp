#include "posture/parsers/packageupdates.h"
#include "posture/parsers/versioncompare.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil::posture;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    parseAptSimulation(text);
    parseDnfUpdateTable(text);
    parsePacmanUpgrades(text);
    parseZypperUpdates(text);
    lastDpkgUpgrade(text);
    lastPacmanUpgrade(text);
    lastZyppInstall(text);
    const auto half = text.size() / 2;
    compareVersions(text.substr(0, half), text.substr(half));
    kernelFlavour(text);
    return 0;
}
