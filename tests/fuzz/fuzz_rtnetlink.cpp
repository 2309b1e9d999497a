#include "app/agent/triggers/rtnetlinkparser.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const auto batch = vigil::agent::parseRtnetlink(std::span<const std::uint8_t>(data, size));
    // Every event needs at least one whole message (a header and a fixed part) behind it.
    if (batch.events.size() > size / 16)
        __builtin_trap();
    return 0;
}
