#pragma once

// Internals the event log's parser, replay and JSON form share; not part of the API.

#include <cstddef>
#include <cstdint>

namespace vigil::attestation::eventlogdetail {

struct KnownAlgorithm
{
    std::uint16_t id;
    const char *name;
    std::size_t digestSize;
    const char *openSslName;
};

// The hash algorithms a log may carry (the tpmAlg* constants); nullptr for any other id.
const KnownAlgorithm *knownAlgorithm(std::uint16_t id);

// Logs are little-endian whatever the platform.
inline std::uint32_t readLe32(const std::uint8_t *p)
{
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
           std::uint32_t(p[3]) << 24;
}

inline std::uint16_t readLe16(const std::uint8_t *p)
{
    return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

} // namespace vigil::attestation::eventlogdetail
