#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::posture {

// One line of /proc/<pid>/mountinfo (proc(5)), with the kernel's octal escapes (\040 for a
// space, \011, \012, \134) undone in the path-like fields.
struct MountInfoEntry
{
    int mountId = 0;
    int parentId = 0;
    unsigned major = 0;
    unsigned minor = 0;
    std::string root; // the directory of the filesystem mounted here (bind mounts, subvolumes)
    std::string mountPoint;
    std::string options;
    std::vector<std::string> optionalFields; // "shared:1", "master:2", …
    std::string fsType;
    std::string source;
    std::string superOptions;
};

struct ParseIssue
{
    std::size_t line = 0; // 1-based
    std::string message;
};

struct MountInfoParseResult
{
    std::vector<MountInfoEntry> entries;
    std::vector<ParseIssue> issues; // lines that could not be read; never silently dropped
};

// Lines that can't be parsed are reported in issues and skipped; never throws.
MountInfoParseResult parseMountInfo(std::string_view text);

// One line of /proc/swaps.
struct SwapEntry
{
    std::string filename; // "/dev/dm-1", "/swapfile"
    std::string type;     // "partition" or "file"
    std::uint64_t sizeKiB = 0;
    std::uint64_t usedKiB = 0;
    int priority = 0;
};

struct SwapsParseResult
{
    std::vector<SwapEntry> entries;
    std::vector<ParseIssue> issues;
    bool headerSeen = false; // the "Filename Type Size Used Priority" line
};

SwapsParseResult parseSwaps(std::string_view text);

// Undoes the kernel's "\ooo" octal escapes; a backslash not followed by three octal digits is
// kept as it is.
std::string unescapeMountField(std::string_view field);

} // namespace vigil::posture
