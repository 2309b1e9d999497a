#include "diskencryptioncollector.h"

#include "luksheader.h"
#include "mountinfo.h"

#include <algorithm>
#include <map>
#include <set>

namespace vigil::posture {

namespace {

constexpr std::string_view checkId = "disk_encryption";
constexpr int maxChainDepth = 16;
constexpr int maxChainNodes = 256;

enum class Protection
{
    Encrypted,
    Unencrypted,
    Unknown
};

std::string_view toText(Protection protection)
{
    switch (protection) {
    case Protection::Encrypted:
        return "encrypted";
    case Protection::Unencrypted:
        return "unencrypted";
    case Protection::Unknown:
        break;
    }
    return "unknown";
}

bool startsWith(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return text;
}

// Reports must be valid UTF-8; mount points and sysfs strings are arbitrary bytes.
std::string validUtf8(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        unsigned char low = 0x80, high = 0xbf;
        if (c < 0x80) {
            length = 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
            length = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            length = 3;
            low = c == 0xe0 ? 0xa0 : 0x80;
            high = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            length = 4;
            low = c == 0xf0 ? 0x90 : 0x80;
            high = c == 0xf4 ? 0x8f : 0xbf;
        }
        bool valid = length > 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            valid = k == 1 ? next >= low && next <= high : next >= 0x80 && next <= 0xbf;
        }
        if (!valid) {
            out.push_back('?');
            ++i;
            continue;
        }
        out.append(text.substr(i, length));
        i += length;
    }
    return out;
}

std::string baseName(std::string_view path)
{
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool validDeviceName(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

std::string joined(const std::vector<std::string> &parts, std::string_view separator)
{
    std::string out;
    for (const auto &part : parts) {
        if (!out.empty())
            out += separator;
        out += part;
    }
    return out;
}

// What one block device and everything below it amounts to.
struct NodeResult
{
    Protection protection = Protection::Unknown;
    std::string reason; // why not encrypted / why unknown
    std::vector<std::string> chain;
    nlohmann::json layers = nlohmann::json::array(); // one entry per dm-crypt device
};

NodeResult combine(const std::vector<NodeResult> &children)
{
    NodeResult result;
    result.protection = Protection::Encrypted;
    // Data striped or mirrored over several devices is only as protected as the weakest one.
    for (const auto &child : children) {
        if (child.protection == Protection::Unencrypted) {
            result.protection = Protection::Unencrypted;
            result.reason = child.reason;
            break;
        }
        if (child.protection == Protection::Unknown && result.protection == Protection::Encrypted) {
            result.protection = Protection::Unknown;
            result.reason = child.reason;
        }
    }
    return result;
}

// Follows /sys/class/block/<name>/slaves down to the physical devices. Memoised, and bounded
// in depth and node count so a looping or enormous sysfs can't hang the check.
class ChainWalker
{
public:
    explicit ChainWalker(const FileSystem &fs) : m_fs(fs) {}

    NodeResult walk(const std::string &name, int depth = 0)
    {
        NodeResult result;
        if (!validDeviceName(name)) {
            result.reason = "invalid block device name \"" + validUtf8(name) + "\"";
            result.chain.push_back(validUtf8(name) + " (invalid)");
            return result;
        }
        if (m_onPath.count(name)) {
            result.reason = "device chain loops back to " + name;
            result.chain.push_back(name + " (loop)");
            return result;
        }
        if (const auto it = m_memo.find(name); it != m_memo.end())
            return it->second;
        if (depth > maxChainDepth || ++m_visited > maxChainNodes) {
            result.reason = "device chain below " + name + " is too deep";
            result.chain.push_back(name + " (too deep)");
            return result;
        }
        const std::string base = "/sys/class/block/" + name;
        if (!m_fs.isDirectory(base)) {
            result.reason = "no sysfs entry " + base;
            result.chain.push_back(name + " (unknown)");
            return m_memo[name] = result;
        }

        m_onPath.insert(name);
        std::vector<std::string> slaveNames;
        for (const auto &slave : m_fs.listDirectory(base + "/slaves"))
            slaveNames.push_back(slave);
        // zram with writeback stores pages on its backing device, which is no sysfs slave.
        if (startsWith(name, "zram")) {
            const auto backing = read(base + "/backing_dev");
            if (backing && startsWith(*backing, "/dev/"))
                slaveNames.push_back(baseName(m_fs.canonicalPath(*backing).value_or(*backing)));
        }
        std::vector<NodeResult> slaves;
        for (const auto &slave : slaveNames)
            slaves.push_back(walk(slave, depth + 1));
        m_onPath.erase(name);

        std::string label;
        std::optional<nlohmann::json> layer;
        if (m_fs.isDirectory(base + "/dm"))
            result = describeDeviceMapper(name, base, slaveNames, slaves, label, layer);
        else
            result = describeBlockDevice(name, base, slaves, label);

        result.chain.push_back(label);
        if (layer)
            result.layers.push_back(std::move(*layer));
        for (const auto &slave : slaves) {
            result.chain.insert(result.chain.end(), slave.chain.begin(), slave.chain.end());
            for (const auto &item : slave.layers)
                result.layers.push_back(item);
        }
        return m_memo[name] = result;
    }

private:
    std::optional<std::string> read(const std::string &path) const
    {
        const auto text = m_fs.readTrimmed(path);
        if (!text)
            return std::nullopt;
        return validUtf8(*text);
    }

    NodeResult describeBlockDevice(const std::string &name, const std::string &base,
                                   const std::vector<NodeResult> &slaves, std::string &label)
    {
        if (m_fs.exists(base + "/partition")) {
            label = name + " (partition)";
        } else if (m_fs.isDirectory(base + "/md")) {
            const auto level = read(base + "/md/level");
            label = name + " (md " + level.value_or("raid") + ")";
        } else if (m_fs.isDirectory(base + "/loop")) {
            label = name + " (loop)";
        } else if (startsWith(name, "zram")) {
            label = name + " (zram)";
        } else {
            label = name + " (disk)";
        }
        if (!slaves.empty())
            return combine(slaves);
        NodeResult result;
        result.protection = Protection::Unencrypted;
        result.reason = label + " is not encrypted";
        return result;
    }

    NodeResult describeDeviceMapper(const std::string &name, const std::string &base,
                                    const std::vector<std::string> &slaveNames,
                                    const std::vector<NodeResult> &slaves, std::string &label,
                                    std::optional<nlohmann::json> &layer)
    {
        const auto mapName = read(base + "/dm/name").value_or("");
        const auto uuid = read(base + "/dm/uuid");
        NodeResult result;
        // cryptsetup names its mappings CRYPT-<TYPE>-<uuid>-<name>; SUBDEV is the integrity
        // device under an authenticated LUKS2 mapping, not an encryption layer itself.
        if (uuid && startsWith(*uuid, "CRYPT-") && !startsWith(*uuid, "CRYPT-SUBDEV-")) {
            const auto rest = uuid->substr(6);
            const auto type = lower(rest.substr(0, rest.find('-')));
            label = name + " (crypt " + type + ")";
            layer = describeCrypt(name, mapName, type, *uuid, slaveNames);
            result.protection = Protection::Encrypted;
            const auto cipher = layer->value("cipher", nlohmann::json());
            if (cipher.is_string() && startsWith(cipher.get<std::string>(), "cipher_null")) {
                result.protection = Protection::Unencrypted;
                result.reason = name + " uses cipher_null, which does not encrypt";
            }
            return result;
        }
        std::string kind = "dm";
        if (uuid && !uuid->empty()) {
            kind = lower(uuid->substr(0, uuid->find('-')));
            if (startsWith(kind, "part"))
                kind = "partition";
            else if (startsWith(*uuid, "CRYPT-SUBDEV-"))
                kind = "integrity";
        }
        label = name + " (" + kind + (mapName.empty() ? "" : " " + mapName) + ")";
        if (slaves.empty()) {
            result.reason = "device-mapper device " + name + " has no underlying devices in sysfs";
            return result;
        }
        result = combine(slaves);
        if (result.protection != Protection::Encrypted && (!uuid || uuid->empty())) {
            // Without a uuid nothing says which target this is; only `dmsetup table` would.
            result.protection = Protection::Unknown;
            result.reason = uuid ? "device-mapper device " + name +
                                       " has no uuid, so its "
                                       "target type is unknown"
                                 : "cannot read " + base + "/dm/uuid";
        }
        return result;
    }

    nlohmann::json describeCrypt(const std::string &name, const std::string &mapName,
                                 const std::string &type, const std::string &uuid,
                                 const std::vector<std::string> &slaveNames)
    {
        nlohmann::json layer = {{"device", name}, {"name", mapName}, {"type", type}};
        int luksVersion = 0;
        if (type == "luks1")
            luksVersion = 1;
        else if (type == "luks2")
            luksVersion = 2;
        const auto unknownCipher = [&](std::string reason) {
            layer["cipher"] = nullptr;
            layer["cipher_unknown_reason"] = std::move(reason);
            return layer;
        };
        if (luksVersion == 0)
            return unknownCipher(type + " dm-crypt keeps no LUKS header; its cipher is only in "
                                        "the kernel's table (dmsetup table)");
        layer["luks_version"] = luksVersion;
        if (slaveNames.size() != 1 || !validDeviceName(slaveNames.front()))
            return unknownCipher("expected one underlying device, sysfs lists " +
                                 std::to_string(slaveNames.size()));
        const auto devicePath = "/dev/" + slaveNames.front();
        layer["header_device"] = devicePath;

        auto read = m_fs.readFile(devicePath, luks2BinaryHeaderSize);
        if (!read.ok()) {
            auto reason = "header not readable: " + read.errorText();
            if (read.error == std::errc::permission_denied ||
                read.error == std::errc::operation_not_permitted)
                reason += " (needs root)";
            return unknownCipher(std::move(reason));
        }
        auto parsed = parseLuksHeader(read.data);
        if (!parsed.header && parsed.bytesNeeded > read.data.size() && read.truncated &&
            parsed.bytesNeeded <= luks2MaxHeaderSize) {
            read = m_fs.readFile(devicePath, parsed.bytesNeeded);
            if (!read.ok())
                return unknownCipher("header not readable: " + read.errorText());
            parsed = parseLuksHeader(read.data);
        }
        if (!parsed.header)
            return unknownCipher("header on " + devicePath + " not usable: " + parsed.error);
        const auto &header = *parsed.header;
        if (header.version != luksVersion)
            return unknownCipher("header on " + devicePath + " is LUKS" +
                                 std::to_string(header.version) + ", the mapping LUKS" +
                                 std::to_string(luksVersion) + " (detached header?)");
        // The mapping's uuid embeds the LUKS uuid without dashes; a header that disagrees
        // belongs to another volume (a detached header lives elsewhere).
        std::string headerUuid = lower(header.uuid);
        headerUuid.erase(std::remove(headerUuid.begin(), headerUuid.end(), '-'), headerUuid.end());
        const auto prefixLength = std::string("CRYPT-LUKS1-").size();
        const auto mappedUuid = lower(uuid.substr(prefixLength, headerUuid.size()));
        if (headerUuid.empty() || mappedUuid != headerUuid)
            return unknownCipher("header on " + devicePath + " has uuid " + header.uuid +
                                 ", which is not the mapping's (detached header?)");
        layer["uuid"] = header.uuid;
        layer["cipher"] = header.cipher;
        layer["key_bits"] = header.keyBits ? nlohmann::json(*header.keyBits) : nlohmann::json();
        layer["hash"] = header.hash;
        std::vector<std::string> kdfs;
        for (const auto &slot : header.keyslots) {
            if (std::find(kdfs.begin(), kdfs.end(), slot.kdf) == kdfs.end())
                kdfs.push_back(slot.kdf);
        }
        layer["keyslot_kdfs"] = kdfs;
        return layer;
    }

    const FileSystem &m_fs;
    std::map<std::string, NodeResult> m_memo;
    std::set<std::string> m_onPath;
    int m_visited = 0;
};

enum class MountKind
{
    Volume,
    Virtual,
    Skipped,
    Unmappable
};

struct MountClass
{
    MountKind kind = MountKind::Volume;
    std::string reason;
};

MountClass classifyFilesystem(const MountInfoEntry &mount)
{
    static const std::set<std::string, std::less<>> virtualTypes = {
        "proc",        "sysfs",      "tmpfs",     "devtmpfs", "devpts",    "cgroup",
        "cgroup2",     "securityfs", "debugfs",   "tracefs",  "pstore",    "bpf",
        "efivarfs",    "mqueue",     "hugetlbfs", "configfs", "fusectl",   "autofs",
        "binfmt_misc", "rpc_pipefs", "nsfs",      "ramfs",    "selinuxfs", "nfsd",
        "sockfs",      "pipefs",     "devfs",     "rootfs",   "binder",    "zonefs"};
    static const std::set<std::string, std::less<>> networkTypes = {
        "nfs", "nfs4", "cifs",   "smb3",       "smbfs",          "ceph",        "glusterfs",
        "9p",  "afs",  "lustre", "fuse.sshfs", "fuse.glusterfs", "fuse.rclone", "davfs"};
    static const std::set<std::string, std::less<>> imageTypes = {"squashfs", "iso9660", "erofs",
                                                                  "cramfs"};
    const auto &type = mount.fsType;
    if (virtualTypes.count(type))
        return {MountKind::Virtual, "virtual filesystem"};
    if (networkTypes.count(type))
        return {MountKind::Skipped, "network filesystem: its data is stored on a server"};
    if (imageTypes.count(type))
        return {MountKind::Skipped, "read-only image"};
    if (type == "overlay")
        return {MountKind::Skipped, "overlay of directories on other filesystems"};
    if (startsWith(type, "fuse") && type != "fuseblk")
        return {MountKind::Skipped, "FUSE filesystem: its storage is provided by a program"};
    if (type == "zfs")
        return {MountKind::Unmappable,
                "ZFS native encryption is not visible through sysfs (zfs get encryption)"};
    if (mount.major == 0 && !startsWith(mount.source, "/dev/"))
        return {MountKind::Skipped, "not backed by a block device"};
    return {};
}

bool bootOnly(const std::string &mountPoint)
{
    return mountPoint == "/boot" || mountPoint == "/boot/efi" || mountPoint == "/efi";
}

struct Volume
{
    std::string device; // "/dev/dm-0", or the source when it can't be mapped
    std::vector<std::string> mountPoints;
    std::string fsType;
    NodeResult node;

    bool required() const { return !std::all_of(mountPoints.begin(), mountPoints.end(), bootOnly); }
    std::string describe() const
    {
        return joined(mountPoints, ", ") + " (" +
               (startsWith(device, "/dev/") ? baseName(device) : device) + ")";
    }
};

class VolumeList
{
public:
    Volume &add(const std::string &key, const std::string &device, const std::string &fsType)
    {
        const auto it = m_index.find(key);
        if (it != m_index.end())
            return m_volumes[it->second];
        m_index[key] = m_volumes.size();
        Volume volume;
        volume.device = device;
        volume.fsType = fsType;
        m_volumes.push_back(std::move(volume));
        return m_volumes.back();
    }
    Volume *find(const std::string &key)
    {
        const auto it = m_index.find(key);
        return it == m_index.end() ? nullptr : &m_volumes[it->second];
    }
    std::vector<Volume> &all() { return m_volumes; }

private:
    std::vector<Volume> m_volumes;
    std::map<std::string, std::size_t> m_index;
};

void addMountPoint(Volume &volume, const std::string &mountPoint)
{
    if (std::find(volume.mountPoints.begin(), volume.mountPoints.end(), mountPoint) ==
        volume.mountPoints.end())
        volume.mountPoints.push_back(mountPoint);
}

// Devices whose contents never reach persistent storage, or are an image file that lives
// on (and is as protected as) another filesystem.
std::optional<std::string> transientDevice(const FileSystem &fs, const std::string &name)
{
    const std::string base = "/sys/class/block/" + name;
    if (startsWith(name, "zram")) {
        const auto backing = fs.readTrimmed(base + "/backing_dev");
        if (!backing || *backing == "none" || backing->empty())
            return "compressed RAM device (zram): nothing reaches persistent storage";
        return std::nullopt;
    }
    if (startsWith(name, "ram") && !fs.isDirectory(base + "/slaves"))
        return "RAM disk: nothing reaches persistent storage";
    if (startsWith(name, "loop")) {
        const auto backing = fs.readTrimmed(base + "/loop/backing_file");
        return "loop device over the image file " + validUtf8(backing.value_or("(unknown)")) +
               ", which lives on another filesystem";
    }
    return std::nullopt;
}

struct Mapping
{
    std::optional<std::string> name; // block device name
    std::string error;
};

Mapping mapMount(const FileSystem &fs, const MountInfoEntry &mount)
{
    if (mount.major != 0) {
        const auto link =
            "/sys/dev/block/" + std::to_string(mount.major) + ":" + std::to_string(mount.minor);
        const auto resolved = fs.canonicalPath(link);
        if (!resolved)
            return {std::nullopt, "no sysfs entry " + link};
        return {baseName(*resolved), {}};
    }
    // btrfs (and other multi-device filesystems) report an anonymous 0:N device; the mount
    // source names the block device.
    const auto resolved = fs.canonicalPath(mount.source);
    if (!resolved || !startsWith(*resolved, "/dev/"))
        return {std::nullopt, "cannot resolve " + validUtf8(mount.source) + " to a block device"};
    return {baseName(*resolved), {}};
}

std::optional<std::string> swapDeviceName(const FileSystem &fs, const std::string &filename)
{
    if (const auto resolved = fs.canonicalPath(filename);
        resolved && startsWith(*resolved, "/dev/"))
        return baseName(*resolved);
    // Device nodes need not exist under a test root; /proc/swaps names them /dev/<kernel name>.
    if (startsWith(filename, "/dev/") && filename.find('/', 5) == std::string::npos &&
        filename.size() > 5)
        return filename.substr(5);
    return std::nullopt;
}

bool pathUnder(const std::string &path, const std::string &mountPoint)
{
    if (mountPoint == "/")
        return startsWith(path, "/");
    return path == mountPoint || startsWith(path, mountPoint + "/");
}

nlohmann::json skippedItem(const char *key, const std::string &where, const std::string &fsType,
                           const std::string &source, const std::string &reason)
{
    nlohmann::json item = {{key, where}};
    if (!fsType.empty())
        item["fs_type"] = fsType;
    if (!source.empty())
        item["source"] = source;
    item["reason"] = reason;
    return item;
}

} // namespace

CheckResult DiskEncryptionCollector::collect(const CollectContext &context)
{
    const auto &fs = context.fs();
    const auto mountInfoText = fs.readFile("/proc/self/mountinfo");
    if (!mountInfoText.ok())
        return CheckResult::unknown(std::string(checkId), "cannot read /proc/self/mountinfo: " +
                                                              mountInfoText.errorText());
    auto mountInfo = parseMountInfo(mountInfoText.data);
    nlohmann::json mountInfoErrors = nlohmann::json::array();
    for (const auto &issue : mountInfo.issues)
        mountInfoErrors.push_back("line " + std::to_string(issue.line) + ": " + issue.message);
    if (mountInfo.entries.empty()) {
        nlohmann::json details;
        details["mountinfo_errors"] = mountInfoErrors;
        return CheckResult::unknown(std::string(checkId),
                                    "/proc/self/mountinfo has no readable mount entries",
                                    std::move(details));
    }
    for (auto &mount : mountInfo.entries) {
        mount.mountPoint = validUtf8(mount.mountPoint);
        mount.source = validUtf8(mount.source);
        mount.fsType = validUtf8(mount.fsType);
    }

    ChainWalker walker(fs);
    VolumeList volumes;
    nlohmann::json skipped = nlohmann::json::array();
    int virtualMounts = 0;
    std::vector<std::string> problems; // reasons for unknown that aren't a volume's
    // Per mount: the key of its volume, or empty when skipped.
    std::vector<std::string> mountVolume(mountInfo.entries.size());
    std::optional<std::size_t> rootMount;

    for (std::size_t i = 0; i < mountInfo.entries.size(); ++i) {
        const auto &mount = mountInfo.entries[i];
        if (mount.mountPoint == "/")
            rootMount = i;
        const auto kind = classifyFilesystem(mount);
        if (kind.kind == MountKind::Virtual) {
            ++virtualMounts;
            continue;
        }
        if (kind.kind == MountKind::Skipped) {
            skipped.push_back(skippedItem("mount_point", mount.mountPoint, mount.fsType,
                                          mount.source, kind.reason));
            continue;
        }
        std::string key;
        Mapping mapping;
        if (kind.kind == MountKind::Volume)
            mapping = mapMount(fs, mount);
        if (!mapping.name) {
            key = "source:" + mount.source;
            auto &volume = volumes.add(key, mount.source, mount.fsType);
            addMountPoint(volume, mount.mountPoint);
            volume.node.protection = Protection::Unknown;
            volume.node.reason = kind.kind == MountKind::Unmappable ? kind.reason : mapping.error;
            mountVolume[i] = key;
            continue;
        }
        if (const auto transient = transientDevice(fs, *mapping.name)) {
            skipped.push_back(skippedItem("mount_point", mount.mountPoint, mount.fsType,
                                          mount.source, *transient));
            continue;
        }
        key = "device:" + *mapping.name;
        const bool known = volumes.find(key) != nullptr;
        auto &volume = volumes.add(key, "/dev/" + *mapping.name, mount.fsType);
        addMountPoint(volume, mount.mountPoint);
        if (!known)
            volume.node = walker.walk(*mapping.name);
        mountVolume[i] = key;
    }

    const auto swapsText = fs.readFile("/proc/swaps");
    nlohmann::json swapsErrors = nlohmann::json::array();
    if (!swapsText.ok()) {
        problems.push_back("cannot read /proc/swaps: " + swapsText.errorText());
    } else {
        const auto swaps = parseSwaps(swapsText.data);
        for (const auto &issue : swaps.issues)
            swapsErrors.push_back("line " + std::to_string(issue.line) + ": " + issue.message);
        if (!swaps.issues.empty())
            problems.push_back("/proc/swaps has lines that can't be read");
        for (const auto &swap : swaps.entries) {
            const auto filename = validUtf8(swap.filename);
            if (swap.type == "file") {
                // A swap file is as protected as the filesystem holding it.
                std::optional<std::size_t> holder;
                for (std::size_t i = 0; i < mountInfo.entries.size(); ++i) {
                    const auto &mountPoint = mountInfo.entries[i].mountPoint;
                    if (pathUnder(filename, mountPoint) &&
                        (!holder ||
                         mountPoint.size() >= mountInfo.entries[*holder].mountPoint.size()))
                        holder = i;
                }
                Volume *volume = holder ? volumes.find(mountVolume[*holder]) : nullptr;
                if (volume)
                    addMountPoint(*volume, filename + " [SWAP]");
                else
                    skipped.push_back(skippedItem(
                        "swap", filename, "swap", {},
                        holder ? "swap file on " + mountInfo.entries[*holder].mountPoint +
                                     ", which is not a local persistent filesystem"
                               : "swap file outside any mount"));
                continue;
            }
            const auto name = swapDeviceName(fs, filename);
            if (!name) {
                auto &volume = volumes.add("source:" + filename, filename, "swap");
                addMountPoint(volume, "[SWAP]");
                volume.node.protection = Protection::Unknown;
                volume.node.reason = "cannot resolve swap " + filename + " to a block device";
                continue;
            }
            if (const auto transient = transientDevice(fs, *name)) {
                skipped.push_back(skippedItem("swap", filename, "swap", {}, *transient));
                continue;
            }
            const auto key = "device:" + *name;
            const bool known = volumes.find(key) != nullptr;
            auto &volume = volumes.add(key, "/dev/" + *name, "swap");
            addMountPoint(volume, "[SWAP]");
            if (!known)
                volume.node = walker.walk(*name);
        }
    }

    if (!rootMount) {
        problems.push_back("/proc/self/mountinfo has no root filesystem");
    } else if (mountVolume[*rootMount].empty()) {
        const auto &root = mountInfo.entries[*rootMount];
        problems.push_back("the root filesystem (" + root.fsType +
                           ") is not on a local block device, so its storage can't be checked");
    }
    if (!mountInfo.issues.empty())
        problems.push_back("/proc/self/mountinfo has lines that can't be read");

    nlohmann::json volumeList = nlohmann::json::array();
    std::vector<std::string> unencrypted;
    std::vector<std::string> undetermined;
    std::vector<std::string> encrypted;
    for (const auto &volume : volumes.all()) {
        nlohmann::json item = {{"device", volume.device},
                               {"mount_points", volume.mountPoints},
                               {"fs_type", volume.fsType},
                               {"required", volume.required()},
                               {"status", toText(volume.node.protection)},
                               {"chain", volume.node.chain},
                               {"encryption", volume.node.layers}};
        if (volume.node.protection != Protection::Encrypted)
            item["reason"] = volume.node.reason;
        if (!volume.required())
            item["not_required_reason"] = "the firmware and boot loader must read it "
                                          "unencrypted";
        volumeList.push_back(std::move(item));
        if (!volume.required())
            continue;
        if (volume.node.protection == Protection::Encrypted)
            encrypted.push_back(volume.describe());
        else if (volume.node.protection == Protection::Unencrypted)
            unencrypted.push_back(volume.describe());
        else if (volume.node.protection == Protection::Unknown)
            undetermined.push_back(volume.describe() + ": " + volume.node.reason);
    }

    nlohmann::json details = {{"volumes", std::move(volumeList)},
                              {"skipped", std::move(skipped)},
                              {"virtual_mounts_skipped", virtualMounts}};
    if (!mountInfoErrors.empty())
        details["mountinfo_errors"] = std::move(mountInfoErrors);
    if (!swapsErrors.empty())
        details["swaps_errors"] = std::move(swapsErrors);

    if (!unencrypted.empty())
        return CheckResult::fail(
            std::string(checkId), "Not encrypted: " + joined(unencrypted, "; "),
            "Store these volumes on LUKS-encrypted devices: reinstall with full-disk encryption "
            "or move the data to an encrypted volume; encrypt swap with a random key through "
            "/etc/crypttab.",
            std::move(details));
    undetermined.insert(undetermined.end(), problems.begin(), problems.end());
    if (!undetermined.empty())
        return CheckResult::unknown(std::string(checkId),
                                    "Encryption could not be determined: " +
                                        joined(undetermined, "; "),
                                    std::move(details));
    return CheckResult::pass(std::string(checkId),
                             "All persistent volumes are encrypted: " + joined(encrypted, "; "),
                             std::move(details));
}

} // namespace vigil::posture
