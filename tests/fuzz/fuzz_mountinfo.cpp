#include "posture/parsers/mountinfo.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    vigil::posture::parseMountInfo(text);
    vigil::posture::parseSwaps(text);
    vigil::posture::unescapeMountField(text);
    return 0;
}
