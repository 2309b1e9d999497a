#include "posture/collectors/diskencryptioncollector.h"

#include "posture/collectors/blockdevicechain.h"
#include "posture/parsers/mountinfo.h"

#include <algorithm>
#include <map>
#include <set>

namespace vigil::posture {

namespace {

constexpr std::string_view checkId = "disk_encryption";

std::string baseName(std::string_view path)
{
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
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
    if (type.starts_with("fuse") && type != "fuseblk")
        return {MountKind::Skipped, "FUSE filesystem: its storage is provided by a program"};
    if (type == "zfs")
        return {MountKind::Unmappable,
                "ZFS native encryption is not visible through sysfs (zfs get encryption)"};
    if (mount.major == 0 && !mount.source.starts_with("/dev/"))
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
    BlockDeviceChain node;

    bool required() const { return !std::all_of(mountPoints.begin(), mountPoints.end(), bootOnly); }
    std::string describe() const
    {
        return joined(mountPoints, ", ") + " (" +
               (device.starts_with("/dev/") ? baseName(device) : device) + ")";
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

bool pathUnder(const std::string &path, const std::string &mountPoint)
{
    if (mountPoint == "/")
        return path.starts_with("/");
    return path == mountPoint || path.starts_with(mountPoint + "/");
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

    BlockDeviceChainResolver resolver(fs);
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
        MountDevice mapping;
        if (kind.kind == MountKind::Volume)
            mapping = blockDeviceOfMount(fs, mount);
        if (!mapping.name) {
            key = "source:" + mount.source;
            auto &volume = volumes.add(key, mount.source, mount.fsType);
            addMountPoint(volume, mount.mountPoint);
            volume.node.protection = Protection::Unknown;
            volume.node.reason = kind.kind == MountKind::Unmappable ? kind.reason : mapping.error;
            mountVolume[i] = key;
            continue;
        }
        if (const auto transient = transientDeviceReason(fs, *mapping.name)) {
            skipped.push_back(skippedItem("mount_point", mount.mountPoint, mount.fsType,
                                          mount.source, *transient));
            continue;
        }
        key = "device:" + *mapping.name;
        const bool known = volumes.find(key) != nullptr;
        auto &volume = volumes.add(key, "/dev/" + *mapping.name, mount.fsType);
        addMountPoint(volume, mount.mountPoint);
        if (!known)
            volume.node = resolver.resolve(*mapping.name);
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
            const auto name = blockDeviceOfSwap(fs, filename);
            if (!name) {
                auto &volume = volumes.add("source:" + filename, filename, "swap");
                addMountPoint(volume, "[SWAP]");
                volume.node.protection = Protection::Unknown;
                volume.node.reason = "cannot resolve swap " + filename + " to a block device";
                continue;
            }
            if (const auto transient = transientDeviceReason(fs, *name)) {
                skipped.push_back(skippedItem("swap", filename, "swap", {}, *transient));
                continue;
            }
            const auto key = "device:" + *name;
            const bool known = volumes.find(key) != nullptr;
            auto &volume = volumes.add(key, "/dev/" + *name, "swap");
            addMountPoint(volume, "[SWAP]");
            if (!known)
                volume.node = resolver.resolve(*name);
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
