#include "posture/parsers/iptablesrules.h"
#include "posture/parsers/nftruleset.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    vigil::posture::parseNftRuleset(text);
    vigil::posture::parseIptablesSave(text, true);
    vigil::posture::parseIptablesSave(text, false);
    return 0;
}
