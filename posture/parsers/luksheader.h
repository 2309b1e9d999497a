#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::posture {

struct LuksKeyslot
{
    int id = 0;
    std::string kdf; // "pbkdf2", "argon2i", "argon2id"
};

// What a LUKS header says about a volume: no key material, only the algorithms.
struct LuksHeader
{
    int version = 0;        // 1 or 2
    bool secondary = false; // parsed from a LUKS2 secondary header ("SKUL\xba\xbe")
    std::string uuid;
    std::string label;     // LUKS2 only
    std::string subsystem; // LUKS2 only
    std::string cipher;    // "aes-xts-plain64" (LUKS1: cipher name + "-" + cipher mode)
    std::optional<unsigned> keyBits;
    std::string hash;                   // LUKS1 hash spec; LUKS2 hash of the segment's digest
    std::optional<unsigned> sectorSize; // LUKS2 segment sector size
    std::vector<LuksKeyslot> keyslots;  // active slots only
    std::uint64_t headerSize = 0;       // LUKS1: 592; LUKS2: hdr_size (binary header + JSON)
};

struct LuksParseResult
{
    std::optional<LuksHeader> header;
    std::string error;
    // When the bytes seen so far are a plausible header but too short: how many bytes from the
    // start are needed (LUKS2 hdr_size). 0 otherwise.
    std::size_t bytesNeeded = 0;
};

inline constexpr std::size_t luks1HeaderSize = 592;
inline constexpr std::size_t luks2BinaryHeaderSize = 4096;
inline constexpr std::size_t luks2MaxHeaderSize = 4 * 1024 * 1024;

// Parses a LUKS1 or LUKS2 header from the first bytes of a device (or of a LUKS2 secondary
// header's offset). LUKS2: the binary header, its checksum over binary header + JSON area
// (sha1/sha256/sha512), and the JSON metadata's first crypt segment. Survives arbitrary bytes.
LuksParseResult parseLuksHeader(std::string_view data);

} // namespace vigil::posture
