#pragma once

#include "posture/host/filesystem.h"
#include "posture/parsers/mountinfo.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::posture {

enum class Protection
{
    Encrypted,
    Unencrypted,
    Unknown
};

std::string_view toText(Protection protection);

// What one block device and everything below it amounts to.
struct BlockDeviceChain
{
    Protection protection = Protection::Unknown;
    std::string reason;             // why not encrypted / why unknown
    std::vector<std::string> chain; // "dm-0 (crypt luks2)", then the devices below it
    nlohmann::json layers = nlohmann::json::array(); // one entry per dm-crypt device
};

// Follows /sys/class/block/<name>/slaves down to the physical devices, naming each one
// (partition, md, loop, zram, disk, dm target) and reading the LUKS header under every
// dm-crypt mapping (needs root). Memoised across calls, and bounded in depth and node count so
// a looping or enormous sysfs can't hang the check.
class BlockDeviceChainResolver
{
public:
    explicit BlockDeviceChainResolver(const FileSystem &fs) : m_fs(fs) {}

    // name: a kernel block device name ("dm-0", "sda2").
    BlockDeviceChain resolve(const std::string &name) { return walk(name, 0); }

private:
    BlockDeviceChain walk(const std::string &name, int depth);
    std::optional<std::string> read(const std::string &path) const;
    BlockDeviceChain describeBlockDevice(const std::string &name, const std::string &base,
                                         const std::vector<BlockDeviceChain> &slaves,
                                         std::string &label);
    BlockDeviceChain describeDeviceMapper(const std::string &name, const std::string &base,
                                          const std::vector<std::string> &slaveNames,
                                          const std::vector<BlockDeviceChain> &slaves,
                                          std::string &label, std::optional<nlohmann::json> &layer);
    nlohmann::json describeCrypt(const std::string &name, const std::string &mapName,
                                 const std::string &type, const std::string &uuid,
                                 const std::vector<std::string> &slaveNames);

    const FileSystem &m_fs;
    std::map<std::string, BlockDeviceChain> m_memo;
    std::set<std::string> m_onPath;
    int m_visited = 0;
};

// The kernel name of the block device holding a mount, or why it can't be found.
struct MountDevice
{
    std::optional<std::string> name;
    std::string error;
};

MountDevice blockDeviceOfMount(const FileSystem &fs, const MountInfoEntry &mount);

// The kernel name of the block device an active swap area (a /proc/swaps filename) is on.
std::optional<std::string> blockDeviceOfSwap(const FileSystem &fs, const std::string &filename);

// Why a device's contents never reach persistent storage, or are an image file that lives on
// (and is as protected as) another filesystem; nullopt for a device that holds data itself.
std::optional<std::string> transientDeviceReason(const FileSystem &fs, const std::string &name);

// Reports must be valid UTF-8; mount points and sysfs strings are arbitrary bytes. Invalid
// bytes become '?'.
std::string validUtf8(std::string_view text);

} // namespace vigil::posture
