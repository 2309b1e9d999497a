#include "posture/collectors/diskencryptioncollector.h"

#include "core/text.h"
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

nlohmann::json issueList(const std::vector<ParseIssue> &issues)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto &issue : issues)
        list.push_back("line " + std::to_string(issue.line) + ": " + issue.message);
    return list;
}

// What the mounts and swap areas add up to, volume by volume: each block device once, with
// every mount point and swap area stored on it.
class VolumeSurvey
{
public:
    VolumeSurvey(const FileSystem &fs, const std::vector<MountInfoEntry> &mounts)
        : m_fs(fs), m_mounts(mounts), m_resolver(fs), m_mountVolume(mounts.size())
    {
    }

    void addMounts();
    void addSwaps();
    // Notes a problem when the root filesystem is missing or not on a local block device.
    void checkRoot();
    void addProblem(std::string problem) { m_problems.push_back(std::move(problem)); }
    CheckResult verdict(nlohmann::json details);

private:
    void addSwapFile(const std::string &filename);
    // Adds `where` to the volume on /dev/<name>, resolving its chain the first time.
    void addDevice(const std::string &name, const std::string &fsType, const std::string &where);
    // A volume whose block device can't be found: unknown for `reason`.
    void addUnmapped(const std::string &source, const std::string &fsType, const std::string &where,
                     const std::string &reason);

    const FileSystem &m_fs;
    const std::vector<MountInfoEntry> &m_mounts;
    BlockDeviceChainResolver m_resolver;
    VolumeList m_volumes;
    nlohmann::json m_skipped = nlohmann::json::array();
    int m_virtualMounts = 0;
    // Per mount: the key of its volume, or empty when skipped.
    std::vector<std::string> m_mountVolume;
    std::optional<std::size_t> m_rootMount;
    std::vector<std::string> m_problems; // reasons for unknown that aren't a volume's
    nlohmann::json m_swapsErrors = nlohmann::json::array();
};

void VolumeSurvey::addDevice(const std::string &name, const std::string &fsType,
                             const std::string &where)
{
    const auto key = "device:" + name;
    const bool known = m_volumes.find(key) != nullptr;
    auto &volume = m_volumes.add(key, "/dev/" + name, fsType);
    addMountPoint(volume, where);
    if (!known)
        volume.node = m_resolver.resolve(name);
}

void VolumeSurvey::addUnmapped(const std::string &source, const std::string &fsType,
                               const std::string &where, const std::string &reason)
{
    auto &volume = m_volumes.add("source:" + source, source, fsType);
    addMountPoint(volume, where);
    volume.node.protection = Protection::Unknown;
    volume.node.reason = reason;
}

void VolumeSurvey::addMounts()
{
    for (std::size_t i = 0; i < m_mounts.size(); ++i) {
        const auto &mount = m_mounts[i];
        if (mount.mountPoint == "/")
            m_rootMount = i;
        const auto kind = classifyFilesystem(mount);
        if (kind.kind == MountKind::Virtual) {
            ++m_virtualMounts;
            continue;
        }
        if (kind.kind == MountKind::Skipped) {
            m_skipped.push_back(skippedItem("mount_point", mount.mountPoint, mount.fsType,
                                            mount.source, kind.reason));
            continue;
        }
        MountDevice mapping;
        if (kind.kind == MountKind::Volume)
            mapping = blockDeviceOfMount(m_fs, mount);
        if (!mapping.name) {
            addUnmapped(mount.source, mount.fsType, mount.mountPoint,
                        kind.kind == MountKind::Unmappable ? kind.reason : mapping.error);
            m_mountVolume[i] = "source:" + mount.source;
            continue;
        }
        if (const auto transient = transientDeviceReason(m_fs, *mapping.name)) {
            m_skipped.push_back(skippedItem("mount_point", mount.mountPoint, mount.fsType,
                                            mount.source, *transient));
            continue;
        }
        addDevice(*mapping.name, mount.fsType, mount.mountPoint);
        m_mountVolume[i] = "device:" + *mapping.name;
    }
}

// A swap file is as protected as the filesystem holding it.
void VolumeSurvey::addSwapFile(const std::string &filename)
{
    std::optional<std::size_t> holder;
    for (std::size_t i = 0; i < m_mounts.size(); ++i) {
        const auto &mountPoint = m_mounts[i].mountPoint;
        if (pathUnder(filename, mountPoint) &&
            (!holder || mountPoint.size() >= m_mounts[*holder].mountPoint.size()))
            holder = i;
    }
    Volume *volume = holder ? m_volumes.find(m_mountVolume[*holder]) : nullptr;
    if (volume)
        addMountPoint(*volume, filename + " [SWAP]");
    else
        m_skipped.push_back(skippedItem("swap", filename, "swap", {},
                                        holder ? "swap file on " + m_mounts[*holder].mountPoint +
                                                     ", which is not a local persistent filesystem"
                                               : "swap file outside any mount"));
}

void VolumeSurvey::addSwaps()
{
    const auto swapsText = m_fs.readFile("/proc/swaps");
    if (!swapsText.ok()) {
        addProblem("cannot read /proc/swaps: " + swapsText.errorText());
        return;
    }
    const auto swaps = parseSwaps(swapsText.data);
    m_swapsErrors = issueList(swaps.issues);
    if (!swaps.issues.empty())
        addProblem("/proc/swaps has lines that can't be read");
    for (const auto &swap : swaps.entries) {
        const auto filename = validUtf8(swap.filename);
        if (swap.type == "file") {
            addSwapFile(filename);
            continue;
        }
        const auto name = blockDeviceOfSwap(m_fs, filename);
        if (!name) {
            addUnmapped(filename, "swap", "[SWAP]",
                        "cannot resolve swap " + filename + " to a block device");
            continue;
        }
        if (const auto transient = transientDeviceReason(m_fs, *name)) {
            m_skipped.push_back(skippedItem("swap", filename, "swap", {}, *transient));
            continue;
        }
        addDevice(*name, "swap", "[SWAP]");
    }
}

void VolumeSurvey::checkRoot()
{
    if (!m_rootMount)
        addProblem("/proc/self/mountinfo has no root filesystem");
    else if (m_mountVolume[*m_rootMount].empty())
        addProblem("the root filesystem (" + m_mounts[*m_rootMount].fsType +
                   ") is not on a local block device, so its storage can't be checked");
}

// Fail for any required volume that is not encrypted, else unknown for any that can't be told
// or any problem noted, else pass. `details` gains the volumes and what was skipped.
CheckResult VolumeSurvey::verdict(nlohmann::json details)
{
    nlohmann::json volumeList = nlohmann::json::array();
    std::vector<std::string> unencrypted;
    std::vector<std::string> undetermined;
    std::vector<std::string> encrypted;
    for (const auto &volume : m_volumes.all()) {
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
    details["volumes"] = std::move(volumeList);
    details["skipped"] = std::move(m_skipped);
    details["virtual_mounts_skipped"] = m_virtualMounts;
    if (!m_swapsErrors.empty())
        details["swaps_errors"] = std::move(m_swapsErrors);

    if (!unencrypted.empty())
        return CheckResult::fail(
            std::string(checkId), "Not encrypted: " + joined(unencrypted, "; "),
            "Store these volumes on LUKS-encrypted devices: reinstall with full-disk encryption "
            "or move the data to an encrypted volume; encrypt swap with a random key through "
            "/etc/crypttab.",
            std::move(details));
    undetermined.insert(undetermined.end(), m_problems.begin(), m_problems.end());
    if (!undetermined.empty())
        return CheckResult::unknown(std::string(checkId),
                                    "Encryption could not be determined: " +
                                        joined(undetermined, "; "),
                                    std::move(details));
    return CheckResult::pass(std::string(checkId),
                             "All persistent volumes are encrypted: " + joined(encrypted, "; "),
                             std::move(details));
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
    auto mountInfoErrors = issueList(mountInfo.issues);
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

    VolumeSurvey survey(fs, mountInfo.entries);
    survey.addMounts();
    survey.addSwaps();
    survey.checkRoot();
    nlohmann::json details = nlohmann::json::object();
    if (!mountInfo.issues.empty()) {
        survey.addProblem("/proc/self/mountinfo has lines that can't be read");
        details["mountinfo_errors"] = std::move(mountInfoErrors);
    }
    return survey.verdict(std::move(details));
}

} // namespace vigil::posture
