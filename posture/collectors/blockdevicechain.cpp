#include "posture/collectors/blockdevicechain.h"

#include "core/text.h"
#include "posture/parsers/luksheader.h"

#include <algorithm>

namespace vigil::posture {

namespace {

constexpr int maxChainDepth = 16;
constexpr int maxChainNodes = 256;

std::string baseName(std::string_view path)
{
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool validDeviceName(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

BlockDeviceChain combine(const std::vector<BlockDeviceChain> &children)
{
    BlockDeviceChain result;
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

} // namespace

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

BlockDeviceChain BlockDeviceChainResolver::walk(const std::string &name, int depth)
{
    BlockDeviceChain result;
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
    if (name.starts_with("zram")) {
        const auto backing = read(base + "/backing_dev");
        if (backing && backing->starts_with("/dev/"))
            slaveNames.push_back(baseName(m_fs.canonicalPath(*backing).value_or(*backing)));
    }
    std::vector<BlockDeviceChain> slaves;
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

std::optional<std::string> BlockDeviceChainResolver::read(const std::string &path) const
{
    const auto text = m_fs.readTrimmed(path);
    if (!text)
        return std::nullopt;
    return validUtf8(*text);
}

BlockDeviceChain
BlockDeviceChainResolver::describeBlockDevice(const std::string &name, const std::string &base,
                                              const std::vector<BlockDeviceChain> &slaves,
                                              std::string &label)
{
    if (m_fs.exists(base + "/partition")) {
        label = name + " (partition)";
    } else if (m_fs.isDirectory(base + "/md")) {
        const auto level = read(base + "/md/level");
        label = name + " (md " + level.value_or("raid") + ")";
    } else if (m_fs.isDirectory(base + "/loop")) {
        label = name + " (loop)";
    } else if (name.starts_with("zram")) {
        label = name + " (zram)";
    } else {
        label = name + " (disk)";
    }
    if (!slaves.empty())
        return combine(slaves);
    BlockDeviceChain result;
    result.protection = Protection::Unencrypted;
    result.reason = label + " is not encrypted";
    return result;
}

BlockDeviceChain BlockDeviceChainResolver::describeDeviceMapper(
    const std::string &name, const std::string &base, const std::vector<std::string> &slaveNames,
    const std::vector<BlockDeviceChain> &slaves, std::string &label,
    std::optional<nlohmann::json> &layer)
{
    const auto mapName = read(base + "/dm/name").value_or("");
    const auto uuid = read(base + "/dm/uuid");
    BlockDeviceChain result;
    // libcryptsetup names every mapping it makes CRYPT-<TYPE>-<uuid>-<name>, including
    // VERITY and INTEGRITY ones that protect integrity but encrypt nothing, and SUBDEV (the
    // integrity device under an authenticated LUKS2 mapping). Only these types encrypt.
    const auto cryptType = [&]() -> std::string {
        if (!uuid || !uuid->starts_with("CRYPT-"))
            return {};
        const auto rest = uuid->substr(6);
        const auto type = asciiLower(rest.substr(0, rest.find('-')));
        for (const char *encrypting : {"luks1", "luks2", "plain", "tcrypt", "bitlk"})
            if (type == encrypting)
                return type;
        return {};
    }();
    if (!cryptType.empty()) {
        const auto &type = cryptType;
        label = name + " (crypt " + type + ")";
        layer = describeCrypt(name, mapName, type, *uuid, slaveNames);
        result.protection = Protection::Encrypted;
        const auto cipher = layer->value("cipher", nlohmann::json());
        if (cipher.is_string() && cipher.get<std::string>().starts_with("cipher_null")) {
            result.protection = Protection::Unencrypted;
            result.reason = name + " uses cipher_null, which does not encrypt";
        }
        return result;
    }
    std::string kind = "dm";
    if (uuid && !uuid->empty()) {
        kind = asciiLower(uuid->substr(0, uuid->find('-')));
        if (kind.starts_with("part"))
            kind = "partition";
        else if (uuid->starts_with("CRYPT-SUBDEV-"))
            kind = "integrity";
        else if (uuid->starts_with("CRYPT-"))
            kind = asciiLower(uuid->substr(6, uuid->find('-', 6) - 6)); // verity, integrity
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

nlohmann::json BlockDeviceChainResolver::describeCrypt(const std::string &name,
                                                       const std::string &mapName,
                                                       const std::string &type,
                                                       const std::string &uuid,
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
    std::string headerUuid = asciiLower(header.uuid);
    headerUuid.erase(std::remove(headerUuid.begin(), headerUuid.end(), '-'), headerUuid.end());
    const auto prefixLength = std::string("CRYPT-LUKS1-").size();
    const auto mappedUuid = asciiLower(uuid.substr(prefixLength, headerUuid.size()));
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

std::optional<std::string> transientDeviceReason(const FileSystem &fs, const std::string &name)
{
    const std::string base = "/sys/class/block/" + name;
    if (name.starts_with("zram")) {
        const auto backing = fs.readTrimmed(base + "/backing_dev");
        if (!backing || *backing == "none" || backing->empty())
            return "compressed RAM device (zram): nothing reaches persistent storage";
        return std::nullopt;
    }
    if (name.starts_with("ram") && !fs.isDirectory(base + "/slaves"))
        return "RAM disk: nothing reaches persistent storage";
    if (name.starts_with("loop")) {
        const auto backing = fs.readTrimmed(base + "/loop/backing_file");
        return "loop device over the image file " + validUtf8(backing.value_or("(unknown)")) +
               ", which lives on another filesystem";
    }
    return std::nullopt;
}

MountDevice blockDeviceOfMount(const FileSystem &fs, const MountInfoEntry &mount)
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
    if (!resolved || !resolved->starts_with("/dev/"))
        return {std::nullopt, "cannot resolve " + validUtf8(mount.source) + " to a block device"};
    return {baseName(*resolved), {}};
}

std::optional<std::string> blockDeviceOfSwap(const FileSystem &fs, const std::string &filename)
{
    if (const auto resolved = fs.canonicalPath(filename);
        resolved && resolved->starts_with("/dev/"))
        return baseName(*resolved);
    // Device nodes need not exist under a test root; /proc/swaps names them /dev/<kernel name>.
    if (filename.starts_with("/dev/") && filename.find('/', 5) == std::string::npos &&
        filename.size() > 5)
        return filename.substr(5);
    return std::nullopt;
}

} // namespace vigil::posture
