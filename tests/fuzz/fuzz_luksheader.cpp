#include "posture/parsers/luksheader.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vigil::posture::parseLuksHeader(std::string_view(reinterpret_cast<const char *>(data), size));
    return 0;
}
