#include "fixturehost.h"
#include "posture/collectors/diskencryptioncollector.h"

#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace vigil;
using posture::CheckResult;
using posture::CheckStatus;
using Json = nlohmann::json;

namespace {

// Expected details of the four fixture hosts (tests/fixtures/README.md).
const char *debianDetails = R"json({
  "volumes": [
    {
      "chain": ["dm-0 (crypt luks2)", "nvme0n1p3 (partition)"],
      "device": "/dev/dm-0",
      "encryption": [
        {
          "cipher": "aes-xts-plain64",
          "device": "dm-0",
          "hash": "sha256",
          "header_device": "/dev/nvme0n1p3",
          "key_bits": 512,
          "keyslot_kdfs": ["argon2id"],
          "luks_version": 2,
          "name": "nvme0n1p3_crypt",
          "type": "luks2",
          "uuid": "0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        }
      ],
      "fs_type": "ext4",
      "mount_points": ["/"],
      "required": true,
      "status": "encrypted"
    },
    {
      "chain": ["nvme0n1p2 (partition)"],
      "device": "/dev/nvme0n1p2",
      "encryption": [],
      "fs_type": "ext4",
      "mount_points": ["/boot"],
      "not_required_reason": "the firmware and boot loader must read it unencrypted",
      "reason": "nvme0n1p2 (partition) is not encrypted",
      "required": false,
      "status": "unencrypted"
    },
    {
      "chain": ["nvme0n1p1 (partition)"],
      "device": "/dev/nvme0n1p1",
      "encryption": [],
      "fs_type": "vfat",
      "mount_points": ["/boot/efi"],
      "not_required_reason": "the firmware and boot loader must read it unencrypted",
      "reason": "nvme0n1p1 (partition) is not encrypted",
      "required": false,
      "status": "unencrypted"
    },
    {
      "chain": ["dm-1 (crypt plain)", "nvme0n1p4 (partition)"],
      "device": "/dev/dm-1",
      "encryption": [
        {
          "cipher": null,
          "cipher_unknown_reason": "plain dm-crypt keeps no LUKS header; its cipher is only in the kernel\u0027s table (dmsetup table)",
          "device": "dm-1",
          "name": "nvme0n1p4_crypt",
          "type": "plain"
        }
      ],
      "fs_type": "swap",
      "mount_points": ["[SWAP]"],
      "required": true,
      "status": "encrypted"
    }
  ],
  "skipped": [
    {
      "fs_type": "fuse.portal",
      "mount_point": "/run/user/1000/doc",
      "reason": "FUSE filesystem: its storage is provided by a program",
      "source": "portal"
    }
  ],
  "virtual_mounts_skipped": 13
})json";

const char *ubuntuDetails = R"json({
  "volumes": [
    {
      "chain": [
        "dm-1 (lvm ubuntu--vg-ubuntu--lv)",
        "dm-0 (crypt luks2)",
        "sda3 (partition)"
      ],
      "device": "/dev/dm-1",
      "encryption": [
        {
          "cipher": "aes-xts-plain64",
          "device": "dm-0",
          "hash": "sha256",
          "header_device": "/dev/sda3",
          "key_bits": 512,
          "keyslot_kdfs": ["argon2id"],
          "luks_version": 2,
          "name": "dm_crypt-0",
          "type": "luks2",
          "uuid": "7b3f2a10-5c4e-4d2b-9a81-6f0e3d2c1b4a"
        }
      ],
      "fs_type": "ext4",
      "mount_points": ["/"],
      "required": true,
      "status": "encrypted"
    },
    {
      "chain": ["sda2 (partition)"],
      "device": "/dev/sda2",
      "encryption": [],
      "fs_type": "ext4",
      "mount_points": ["/boot"],
      "not_required_reason": "the firmware and boot loader must read it unencrypted",
      "reason": "sda2 (partition) is not encrypted",
      "required": false,
      "status": "unencrypted"
    },
    {
      "chain": ["sda1 (partition)"],
      "device": "/dev/sda1",
      "encryption": [],
      "fs_type": "vfat",
      "mount_points": ["/boot/efi"],
      "not_required_reason": "the firmware and boot loader must read it unencrypted",
      "reason": "sda1 (partition) is not encrypted",
      "required": false,
      "status": "unencrypted"
    },
    {
      "chain": ["dm-2 (lvm ubuntu--vg-swap)", "dm-0 (crypt luks2)", "sda3 (partition)"],
      "device": "/dev/dm-2",
      "encryption": [
        {
          "cipher": "aes-xts-plain64",
          "device": "dm-0",
          "hash": "sha256",
          "header_device": "/dev/sda3",
          "key_bits": 512,
          "keyslot_kdfs": ["argon2id"],
          "luks_version": 2,
          "name": "dm_crypt-0",
          "type": "luks2",
          "uuid": "7b3f2a10-5c4e-4d2b-9a81-6f0e3d2c1b4a"
        }
      ],
      "fs_type": "swap",
      "mount_points": ["[SWAP]"],
      "required": true,
      "status": "encrypted"
    }
  ],
  "skipped": [
    {
      "fs_type": "squashfs",
      "mount_point": "/snap/core22/1380",
      "reason": "read-only image",
      "source": "/dev/loop0"
    },
    {
      "fs_type": "squashfs",
      "mount_point": "/snap/firefox/4173",
      "reason": "read-only image",
      "source": "/dev/loop1"
    },
    {
      "fs_type": "fuse.gvfsd-fuse",
      "mount_point": "/run/user/1000/gvfs",
      "reason": "FUSE filesystem: its storage is provided by a program",
      "source": "gvfsd-fuse"
    }
  ],
  "virtual_mounts_skipped": 7
})json";

const char *fedoraDetails = R"json({
  "volumes": [
    {
      "chain": ["dm-0 (crypt luks2)", "nvme0n1p3 (partition)"],
      "device": "/dev/dm-0",
      "encryption": [
        {
          "cipher": "aes-xts-plain64",
          "device": "dm-0",
          "hash": "sha256",
          "header_device": "/dev/nvme0n1p3",
          "key_bits": 512,
          "keyslot_kdfs": ["argon2id", "pbkdf2"],
          "luks_version": 2,
          "name": "luks-3e1d5c7a-9b2f-4e6d-8a0c-1f2e3d4c5b6a",
          "type": "luks2",
          "uuid": "3e1d5c7a-9b2f-4e6d-8a0c-1f2e3d4c5b6a"
        }
      ],
      "fs_type": "btrfs",
      "mount_points": ["/", "/home"],
      "required": true,
      "status": "encrypted"
    },
    {
      "chain": ["nvme0n1p2 (partition)"],
      "device": "/dev/nvme0n1p2",
      "encryption": [],
      "fs_type": "ext4",
      "mount_points": ["/boot"],
      "not_required_reason": "the firmware and boot loader must read it unencrypted",
      "reason": "nvme0n1p2 (partition) is not encrypted",
      "required": false,
      "status": "unencrypted"
    },
    {
      "chain": ["nvme0n1p1 (partition)"],
      "device": "/dev/nvme0n1p1",
      "encryption": [],
      "fs_type": "vfat",
      "mount_points": ["/boot/efi"],
      "not_required_reason": "the firmware and boot loader must read it unencrypted",
      "reason": "nvme0n1p1 (partition) is not encrypted",
      "required": false,
      "status": "unencrypted"
    }
  ],
  "skipped": [
    {
      "fs_type": "swap",
      "reason": "compressed RAM device (zram): nothing reaches persistent storage",
      "swap": "/dev/zram0"
    }
  ],
  "virtual_mounts_skipped": 8
})json";

const char *archDetails = R"json({
  "volumes": [
    {
      "chain": ["sda2 (partition)"],
      "device": "/dev/sda2",
      "encryption": [],
      "fs_type": "ext4",
      "mount_points": ["/"],
      "reason": "sda2 (partition) is not encrypted",
      "required": true,
      "status": "unencrypted"
    },
    {
      "chain": ["dm-0 (crypt luks1)", "sdb1 (partition)"],
      "device": "/dev/dm-0",
      "encryption": [
        {
          "cipher": "aes-xts-plain64",
          "device": "dm-0",
          "hash": "sha256",
          "header_device": "/dev/sdb1",
          "key_bits": 512,
          "keyslot_kdfs": ["pbkdf2"],
          "luks_version": 1,
          "name": "data",
          "type": "luks1",
          "uuid": "a1b2c3d4-e5f6-4789-9abc-def012345678"
        }
      ],
      "fs_type": "ext4",
      "mount_points": ["/data"],
      "required": true,
      "status": "encrypted"
    }
  ],
  "skipped": [
    {
      "fs_type": "nfs4",
      "mount_point": "/mnt/nas",
      "reason": "network filesystem: its data is stored on a server",
      "source": "nas.lan:/export/media"
    }
  ],
  "virtual_mounts_skipped": 6
})json";

const std::string debianUuid = "0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const std::string debianUuidHex = "0d1c2b3a4e5f4a6b8c7d9e0f1a2b3c4d";
const char *swapsHeader = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
const char *notRequired = "the firmware and boot loader must read it unencrypted";

std::string readFixture(const std::string &host, const std::string &path)
{
    std::ifstream in(test::fixturesDir() / "hosts" / host / "root" / path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A machine built on the fly, shaped like real sysfs: /sys/class/block/<name> and
// /sys/dev/block/MAJ:MIN are relative links to the device's directory under /sys/devices.
class Machine
{
public:
    Machine() : m_root(m_dir.path().toStdString()) {}

    void file(const std::string &path, const std::string &content)
    {
        test::writeFile(m_root, path, content);
    }
    void link(const std::string &path, const std::string &target)
    {
        const auto at = m_root / path.substr(1);
        std::filesystem::create_directories(at.parent_path());
        const auto relative = std::filesystem::path(target).lexically_relative(
            std::filesystem::path(path).parent_path());
        std::filesystem::create_symlink(relative, at);
    }
    std::string deviceDir(const std::string &name) const
    {
        if (startsWithDm(name))
            return "/sys/devices/virtual/block/" + name;
        return "/sys/devices/pci0000:00/block/" + name;
    }
    void partition(const std::string &name, const std::string &majorMinor)
    {
        file(deviceDir(name) + "/partition", "1\n");
        registerDevice(name, majorMinor);
    }
    void disk(const std::string &name, const std::string &majorMinor)
    {
        file(deviceDir(name) + "/size", "1000\n");
        registerDevice(name, majorMinor);
    }
    void dm(const std::string &name, const std::string &majorMinor, const std::string &mapName,
            const std::optional<std::string> &uuid, const std::vector<std::string> &slaves)
    {
        file(deviceDir(name) + "/dm/name", mapName + "\n");
        if (uuid)
            file(deviceDir(name) + "/dm/uuid", *uuid + "\n");
        addSlaves(name, slaves);
        registerDevice(name, majorMinor);
    }
    void addSlaves(const std::string &name, const std::vector<std::string> &slaves)
    {
        for (const auto &slave : slaves)
            link(deviceDir(name) + "/slaves/" + slave, deviceDir(slave));
    }
    // The root encrypted with the debian12 LUKS2 header on sda3.
    void luksRoot(const std::string &mapName = "root")
    {
        partition("sda3", "8:3");
        dm("dm-0", "254:0", mapName, "CRYPT-LUKS2-" + debianUuidHex + "-" + mapName, {"sda3"});
        file("/dev/sda3", readFixture("debian12", "dev/nvme0n1p3"));
    }
    void mountinfo(const std::string &text) { file("/proc/self/mountinfo", text); }
    void swaps(const std::string &lines = {}) { file("/proc/swaps", swapsHeader + lines); }

    CheckResult collect() const
    {
        auto fixture = test::FixtureHost::fromRoot(m_root);
        return runCollector(*fixture.host);
    }
    const std::filesystem::path &root() const { return m_root; }

    static CheckResult runCollector(const posture::Host &host)
    {
        posture::DiskEncryptionCollector collector;
        const posture::CollectContext context(host, std::chrono::steady_clock::now() +
                                                        std::chrono::seconds(10));
        auto result = collector.collect(context);
        // Whatever the input, the result must serialise (valid UTF-8 throughout).
        [[maybe_unused]] const auto text = result.toJson().dump();
        return result;
    }

private:
    static bool startsWithDm(const std::string &name) { return name.rfind("dm-", 0) == 0; }
    void registerDevice(const std::string &name, const std::string &majorMinor)
    {
        link("/sys/class/block/" + name, deviceDir(name));
        link("/sys/dev/block/" + majorMinor, deviceDir(name));
    }

    QTemporaryDir m_dir;
    std::filesystem::path m_root;
};

std::string mount(int id, const std::string &device, const std::string &mountPoint,
                  const std::string &type, const std::string &source, const std::string &root = "/")
{
    return std::to_string(id) + " 1 " + device + " " + root + " " + mountPoint +
           " rw,relatime shared:1 - " + type + " " + source + " rw\n";
}

const std::string procMount = "2 1 0:21 / /proc rw - proc proc rw\n";

Json skip(const char *mountPoint, const char *type, const char *source, const char *reason)
{
    return {{"mount_point", mountPoint}, {"fs_type", type}, {"source", source}, {"reason", reason}};
}

Json volume(const Json &details, std::size_t index)
{
    return details.at("volumes").at(index);
}

Json luksLayer(const std::string &mapName = "root")
{
    return {{"device", "dm-0"},
            {"name", mapName},
            {"type", "luks2"},
            {"luks_version", 2},
            {"header_device", "/dev/sda3"},
            {"uuid", debianUuid},
            {"cipher", "aes-xts-plain64"},
            {"key_bits", 512},
            {"hash", "sha256"},
            {"keyslot_kdfs", {"argon2id"}}};
}

} // namespace

class TestDiskEncryptionCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fixtureHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("status");
        QTest::addColumn<QString>("summary");
        QTest::addColumn<QString>("details");
        QTest::newRow("debian12 LUKS2 root, plain dm-crypt swap")
            << "debian12"
            << "pass"
            << "All persistent volumes are encrypted: / (dm-0); [SWAP] (dm-1)" << debianDetails;
        QTest::newRow("ubuntu2404 LVM on LUKS2")
            << "ubuntu2404"
            << "pass"
            << "All persistent volumes are encrypted: / (dm-1); [SWAP] (dm-2)" << ubuntuDetails;
        QTest::newRow("fedora41 btrfs subvolumes on LUKS2, zram swap")
            << "fedora41"
            << "pass"
            << "All persistent volumes are encrypted: /, /home (dm-0)" << fedoraDetails;
        QTest::newRow("arch unencrypted root, LUKS1 data")
            << "arch"
            << "fail"
            << "Not encrypted: / (sda2)" << archDetails;
    }

    void fixtureHosts()
    {
        QFETCH(QString, host);
        QFETCH(QString, status);
        QFETCH(QString, summary);
        QFETCH(QString, details);
        auto fixture = test::FixtureHost::load(host.toStdString());
        const auto result = Machine::runCollector(*fixture.host);
        QCOMPARE(result.id, std::string("disk_encryption"));
        QCOMPARE(QString::fromUtf8(posture::statusName(result.status)), status);
        QCOMPARE(QString::fromStdString(result.summary), summary);
        QCOMPARE(result.details, Json::parse(details.toStdString()));
        if (result.status == CheckStatus::Fail)
            QCOMPARE(result.remediation,
                     std::string("Store these volumes on LUKS-encrypted devices: reinstall with "
                                 "full-disk encryption or move the data to an encrypted volume; "
                                 "encrypt swap with a random key through /etc/crypttab."));
        // No command is needed: everything comes from /proc, /sys and the headers.
        QVERIFY(fixture.commands->history().empty());
    }

    void missingMountInfo()
    {
        Machine machine;
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("cannot read /proc/self/mountinfo: not found"));
        QCOMPARE(result.details, Json::object());
    }

    void garbageMountInfo_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QStringList>("errors");
        QTest::newRow("empty") << QByteArray() << QStringList();
        QTest::newRow("binary") << QByteArray("\x7f"
                                              "ELF\x02\x01\x01\x00\xff\n\xfe\xfd",
                                              12)
                                << QStringList{QStringLiteral("line 1: too few fields"),
                                               QStringLiteral("line 2: too few fields")};
        QTest::newRow("fstab instead") << QByteArray("UUID=1234 / ext4 defaults 0 1\n")
                                       << QStringList{QStringLiteral("line 1: too few fields")};
    }

    void garbageMountInfo()
    {
        QFETCH(QByteArray, content);
        QFETCH(QStringList, errors);
        Machine machine;
        machine.mountinfo(content.toStdString());
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("/proc/self/mountinfo has no readable mount entries"));
        Json expected = Json::array();
        for (const auto &error : errors)
            expected.push_back(error.toStdString());
        QCOMPARE(result.details, (Json{{"mountinfo_errors", expected}}));
    }

    void garbageLineAmongGoodOnes()
    {
        Machine machine;
        machine.luksRoot();
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root") + "garbage\n");
        machine.swaps();
        auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: "
                                            "/proc/self/mountinfo has lines that can't be read"));
        QCOMPARE(result.details.at("mountinfo_errors"), Json{"line 2: too few fields"});
        QCOMPARE(volume(result.details, 0).at("status"), "encrypted");

        // An unencrypted volume that is known fails whatever else could not be read.
        machine.partition("sdb1", "8:17");
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root") + "garbage\n" +
                          mount(3, "8:17", "/home", "ext4", "/dev/sdb1"));
        result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: /home (sdb1)"));
    }

    void missingSwaps()
    {
        Machine machine;
        machine.luksRoot();
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: cannot read "
                                            "/proc/swaps: not found"));
    }

    void garbageSwaps()
    {
        Machine machine;
        machine.luksRoot();
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.file("/proc/swaps", std::string(swapsHeader) + "/dev/sda4 partition\n");
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: /proc/swaps "
                                            "has lines that can't be read"));
        QCOMPARE(result.details.at("swaps_errors"), Json{"line 2: expected 5 fields"});
    }

    void missingSysDevBlock()
    {
        Machine machine;
        machine.mountinfo(procMount + mount(1, "8:2", "/", "ext4", "/dev/sda2"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: / (sda2): no "
                                            "sysfs entry /sys/dev/block/8:2"));
        QCOMPARE(volume(result.details, 0),
                 (Json{{"device", "/dev/sda2"},
                       {"mount_points", {"/"}},
                       {"fs_type", "ext4"},
                       {"required", true},
                       {"status", "unknown"},
                       {"chain", Json::array()},
                       {"encryption", Json::array()},
                       {"reason", "no sysfs entry /sys/dev/block/8:2"}}));
        QCOMPARE(result.details.at("virtual_mounts_skipped"), 1);
    }

    void missingSlaveEntry()
    {
        Machine machine;
        machine.dm("dm-0", "254:0", "vg-root", "LVM-abc", {"sda3"}); // sda3 itself is missing
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/vg-root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: / (dm-0): no "
                                            "sysfs entry /sys/class/block/sda3"));
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{"dm-0 (lvm vg-root)", "sda3 (unknown)"}));
    }

    void deviceMapperWithoutUuid()
    {
        Machine machine;
        machine.partition("sda2", "8:2");
        machine.dm("dm-0", "254:0", "manual", std::nullopt, {"sda2"});
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/manual"));
        machine.swaps();
        auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: / (dm-0): "
                                            "cannot read /sys/class/block/dm-0/dm/uuid"));

        machine.file(machine.deviceDir("dm-0") + "/dm/uuid", "\n");
        result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason,
                 std::string("Encryption could not be determined: / (dm-0): device-mapper "
                             "device dm-0 has no uuid, so its target type is unknown"));
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{"dm-0 (dm manual)", "sda2 (partition)"}));
    }

    void deviceMapperWithoutUuidOverEncryption()
    {
        Machine machine;
        machine.luksRoot();
        machine.dm("dm-1", "254:1", "manual", "", {"dm-0"});
        machine.mountinfo(mount(1, "254:1", "/", "ext4", "/dev/mapper/manual"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{"dm-1 (dm manual)", "dm-0 (crypt luks2)", "sda3 (partition)"}));
    }

    void headerNotReadable()
    {
        Machine machine;
        machine.luksRoot();
        std::filesystem::remove(machine.root() / "dev/sda3");
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(volume(result.details, 0).at("status"), "encrypted");
        QCOMPARE(volume(result.details, 0).at("encryption"),
                 (Json{{{"device", "dm-0"},
                        {"name", "root"},
                        {"type", "luks2"},
                        {"luks_version", 2},
                        {"header_device", "/dev/sda3"},
                        {"cipher", nullptr},
                        {"cipher_unknown_reason", "header not readable: not found"}}}));
    }

    void headerPermissionDenied()
    {
        if (::geteuid() == 0)
            QSKIP("root reads files whatever their mode");
        Machine machine;
        machine.luksRoot();
        std::filesystem::permissions(machine.root() / "dev/sda3", std::filesystem::perms::none);
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        const auto layer = volume(result.details, 0).at("encryption").at(0);
        QCOMPARE(layer.at("cipher"), nullptr);
        QCOMPARE(layer.at("cipher_unknown_reason"),
                 "header not readable: permission denied (needs root)");
    }

    void headerUnusable_data()
    {
        QTest::addColumn<QString>("dmUuid");
        QTest::addColumn<QByteArray>("device");
        QTest::addColumn<QString>("reason");
        const auto real = readFixture("debian12", "dev/nvme0n1p3");
        const QByteArray header(real.data(), qsizetype(real.size()));
        const auto luks2 = QString::fromStdString("CRYPT-LUKS2-" + debianUuidHex + "-root");
        QTest::newRow("no LUKS magic")
            << luks2 << QByteArray(4096, '\0') << "header on /dev/sda3 not usable: no LUKS magic";
        QTest::newRow("short device") << luks2 << header.left(1000)
                                      << "header on /dev/sda3 not usable: truncated LUKS2 binary "
                                         "header";
        QTest::newRow("detached header: another volume's uuid")
            << "CRYPT-LUKS2-11112222333344445555666677778888-root" << header
            << "header on /dev/sda3 has uuid 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d, which is "
               "not the mapping's (detached header?)";
        QTest::newRow("version differs")
            << QString::fromStdString("CRYPT-LUKS1-" + debianUuidHex + "-root") << header
            << "header on /dev/sda3 is LUKS2, the mapping LUKS1 (detached header?)";
    }

    void headerUnusable()
    {
        QFETCH(QString, dmUuid);
        QFETCH(QByteArray, device);
        QFETCH(QString, reason);
        Machine machine;
        machine.partition("sda3", "8:3");
        machine.dm("dm-0", "254:0", "root", dmUuid.toStdString(), {"sda3"});
        machine.file("/dev/sda3", device.toStdString());
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        const auto layer = volume(result.details, 0).at("encryption").at(0);
        QCOMPARE(layer.at("cipher"), nullptr);
        QCOMPARE(QString::fromStdString(layer.at("cipher_unknown_reason").get<std::string>()),
                 reason);
    }

    void cipherNullIsNotEncryption()
    {
        Machine machine;
        machine.luksRoot();
        auto header = readFixture("debian12", "dev/nvme0n1p3").substr(0, 16384);
        const std::string from = "\"encryption\":\"aes-xts-plain64\",\"sector_size\"";
        const std::string to = "\"encryption\":\"cipher_null-ecb\",\"sector_size\"";
        const auto pos = header.find(from);
        QVERIFY(pos != std::string::npos);
        header.replace(pos, from.size(), to + std::string(from.size() - to.size(), ' '));
        std::fill(header.begin() + 448, header.begin() + 512, '\0');
        QCryptographicHash hash(QCryptographicHash::Sha256);
        hash.addData(QByteArrayView(header.data(), qsizetype(header.size())));
        const auto digest = hash.result();
        std::copy(digest.begin(), digest.end(), header.begin() + 448);
        machine.file("/dev/sda3", header);
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: / (dm-0)"));
        QCOMPARE(volume(result.details, 0).at("reason"),
                 "dm-0 uses cipher_null, which does not encrypt");
        QCOMPARE(volume(result.details, 0).at("encryption").at(0).at("cipher"), "cipher_null-ecb");
    }

    void chainLoop()
    {
        Machine machine;
        machine.dm("dm-0", "254:0", "vg-root", "LVM-aaa", {"dm-1"});
        machine.dm("dm-1", "254:1", "vg-other", "LVM-bbb", {"dm-0"});
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/vg-root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: / (dm-0): "
                                            "device chain loops back to dm-0"));
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{"dm-0 (lvm vg-root)", "dm-1 (lvm vg-other)", "dm-0 (loop)"}));
    }

    void selfReference()
    {
        Machine machine;
        machine.dm("dm-0", "254:0", "vg-root", "LVM-aaa", {});
        machine.link(machine.deviceDir("dm-0") + "/slaves/dm-0", machine.deviceDir("dm-0"));
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/vg-root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{"dm-0 (lvm vg-root)", "dm-0 (loop)"}));
        QCOMPARE(volume(result.details, 0).at("reason"), "device chain loops back to dm-0");
    }

    void veryDeepChain()
    {
        Machine machine;
        for (int i = 0; i < 40; ++i)
            machine.dm("dm-" + std::to_string(i), "254:" + std::to_string(i),
                       "stack" + std::to_string(i), "LVM-" + std::to_string(i),
                       {"dm-" + std::to_string(i + 1)});
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/stack0"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(volume(result.details, 0).at("reason"), "device chain below dm-17 is too deep");
        QCOMPARE(volume(result.details, 0).at("chain").size(), std::size_t(18));
    }

    void rootOnNonLuksDeviceMapper_data()
    {
        QTest::addColumn<QString>("uuid");
        QTest::addColumn<QString>("label");
        QTest::newRow("lvm") << "LVM-Xq3e1Lk9Rk2bT0pQ"
                             << "dm-0 (lvm vg-root)";
        QTest::newRow("multipath") << "mpath-3600508b400105e21"
                                   << "dm-0 (mpath vg-root)";
        QTest::newRow("kpartx partition") << "part1-mpath-3600508b4"
                                          << "dm-0 (partition vg-root)";
        QTest::newRow("integrity subdevice of LUKS2")
            << "CRYPT-SUBDEV-0d1c2b3a4e5f4a6b8c7d9e0f1a2b3c4d-vg-root"
            << "dm-0 (integrity vg-root)";
        // integritysetup and veritysetup mappings carry CRYPT- uuids but encrypt nothing.
        QTest::newRow("dm-integrity (integritysetup)")
            << "CRYPT-INTEGRITY-0d1c2b3a4e5f4a6b8c7d9e0f1a2b3c4d-vg-root"
            << "dm-0 (integrity vg-root)";
        QTest::newRow("dm-verity (veritysetup)")
            << "CRYPT-VERITY-0d1c2b3a4e5f4a6b8c7d9e0f1a2b3c4d-vg-root"
            << "dm-0 (verity vg-root)";
    }

    void rootOnNonLuksDeviceMapper()
    {
        QFETCH(QString, uuid);
        QFETCH(QString, label);
        Machine machine;
        machine.partition("sda2", "8:2");
        machine.dm("dm-0", "254:0", "vg-root", uuid.toStdString(), {"sda2"});
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/vg-root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: / (dm-0)"));
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{label.toStdString(), "sda2 (partition)"}));
        QCOMPARE(volume(result.details, 0).at("reason"), "sda2 (partition) is not encrypted");
    }

    void otherCryptTypes_data()
    {
        QTest::addColumn<QString>("type");
        QTest::newRow("BitLocker") << "BITLK";
        QTest::newRow("TrueCrypt") << "TCRYPT";
        QTest::newRow("plain") << "PLAIN";
    }

    void otherCryptTypes()
    {
        QFETCH(QString, type);
        Machine machine;
        machine.partition("sda2", "8:2");
        machine.dm("dm-0", "254:0", "root", "CRYPT-" + type.toStdString() + "-root", {"sda2"});
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        const auto lower = type.toLower().toStdString();
        QCOMPARE(volume(result.details, 0).at("encryption"),
                 (Json{{{"device", "dm-0"},
                        {"name", "root"},
                        {"type", lower},
                        {"cipher", nullptr},
                        {"cipher_unknown_reason",
                         lower + " dm-crypt keeps no LUKS header; its cipher is only in the "
                                 "kernel's table (dmsetup table)"}}}));
    }

    void lvmOverSeveralVolumes()
    {
        Machine machine;
        machine.luksRoot();
        machine.partition("sdb1", "8:17");
        machine.dm("dm-1", "254:1", "vg-root", "LVM-vgroot", {"dm-0", "sdb1"});
        machine.mountinfo(mount(1, "254:1", "/", "ext4", "/dev/mapper/vg-root"));
        machine.swaps();
        auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: / (dm-1)"));
        QCOMPARE(volume(result.details, 0),
                 (Json{{"device", "/dev/dm-1"},
                       {"mount_points", {"/"}},
                       {"fs_type", "ext4"},
                       {"required", true},
                       {"status", "unencrypted"},
                       {"chain",
                        {"dm-1 (lvm vg-root)", "dm-0 (crypt luks2)", "sda3 (partition)",
                         "sdb1 (partition)"}},
                       {"encryption", {luksLayer()}},
                       {"reason", "sdb1 (partition) is not encrypted"}}));

        // Once the second physical volume is encrypted too, the logical volume is.
        std::filesystem::remove_all(machine.root() / "sys/devices/virtual/block/dm-1/slaves");
        machine.dm("dm-2", "254:2", "pv2", "CRYPT-PLAIN-pv2", {"sdb1"});
        machine.addSlaves("dm-1", {"dm-0", "dm-2"});
        result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(volume(result.details, 0).at("chain"),
                 (Json{"dm-1 (lvm vg-root)", "dm-0 (crypt luks2)", "sda3 (partition)",
                       "dm-2 (crypt plain)", "sdb1 (partition)"}));
        QCOMPARE(volume(result.details, 0).at("encryption").size(), std::size_t(2));
    }

    void luksOnMdRaid()
    {
        Machine machine;
        machine.partition("sda1", "8:1");
        machine.partition("sdb1", "8:17");
        machine.disk("md0", "9:0");
        machine.file(machine.deviceDir("md0") + "/md/level", "raid1\n");
        machine.addSlaves("md0", {"sda1", "sdb1"});
        machine.dm("dm-0", "254:0", "root", "CRYPT-LUKS2-" + debianUuidHex + "-root", {"md0"});
        machine.file("/dev/md0", readFixture("debian12", "dev/nvme0n1p3"));
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(
            volume(result.details, 0).at("chain"),
            (Json{"dm-0 (crypt luks2)", "md0 (md raid1)", "sda1 (partition)", "sdb1 (partition)"}));
        QCOMPARE(volume(result.details, 0).at("encryption").at(0).at("header_device"), "/dev/md0");
        QCOMPARE(volume(result.details, 0).at("encryption").at(0).at("cipher"), "aes-xts-plain64");
    }

    void unencryptedMdRaid()
    {
        Machine machine;
        machine.luksRoot();
        machine.partition("sdb1", "8:17");
        machine.disk("md0", "9:0");
        machine.file(machine.deviceDir("md0") + "/md/level", "raid1\n");
        machine.addSlaves("md0", {"dm-0", "sdb1"});
        machine.mountinfo(mount(1, "9:0", "/", "ext4", "/dev/md0"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: / (md0)"));
    }

    void zfsIsUnknown()
    {
        Machine machine;
        machine.mountinfo(procMount + mount(1, "0:40", "/", "zfs", "rpool/ROOT/ubuntu_x1"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason,
                 std::string("Encryption could not be determined: / (rpool/ROOT/ubuntu_x1): ZFS "
                             "native encryption is not visible through sysfs (zfs get "
                             "encryption)"));
        QCOMPARE(volume(result.details, 0).at("device"), "rpool/ROOT/ubuntu_x1");
        QCOMPARE(volume(result.details, 0).at("status"), "unknown");
    }

    void rootNotOnABlockDevice_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("reason");
        QTest::newRow("overlay (container)")
            << QString::fromStdString(mount(1, "0:50", "/", "overlay", "overlay"))
            << "Encryption could not be determined: the root filesystem (overlay) is not on a "
               "local block device, so its storage can't be checked";
        QTest::newRow("nfs root")
            << QString::fromStdString(mount(1, "0:51", "/", "nfs4", "server:/export/root"))
            << "Encryption could not be determined: the root filesystem (nfs4) is not on a "
               "local block device, so its storage can't be checked";
        QTest::newRow("no root at all")
            << QString::fromStdString(procMount)
            << "Encryption could not be determined: /proc/self/mountinfo has no root "
               "filesystem";
    }

    void rootNotOnABlockDevice()
    {
        QFETCH(QString, line);
        QFETCH(QString, reason);
        Machine machine;
        machine.mountinfo(line.toStdString());
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(QString::fromStdString(result.reason), reason);
    }

    void skippedMounts()
    {
        Machine machine;
        machine.luksRoot();
        machine.disk("loop3", "7:3");
        machine.file(machine.deviceDir("loop3") + "/loop/backing_file", "/home/u/disk.img\n");
        machine.mountinfo(
            mount(1, "254:0", "/", "ext4", "/dev/mapper/root") + procMount +
            mount(3, "7:3", "/mnt/image", "ext4", "/dev/loop3") +
            mount(4, "0:60", "/srv/share", "cifs", "//nas/share") +
            mount(5, "0:61", "/home/u/remote", "fuse.sshfs", "u@host:") +
            mount(6, "0:62", "/var/lib/docker/overlay2/x/merged", "overlay", "overlay") +
            mount(7, "0:63", "/mnt/odd", "weirdfs", "none") +
            mount(8, "11:0", "/media/cdrom", "iso9660", "/dev/sr0"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details.at("volumes").size(), std::size_t(1));
        QCOMPARE(result.details.at("virtual_mounts_skipped"), 1);
        QCOMPARE(result.details.at("skipped"),
                 Json::array({
                     skip("/mnt/image", "ext4", "/dev/loop3",
                          "loop device over the image file /home/u/disk.img, which lives on "
                          "another filesystem"),
                     skip("/srv/share", "cifs", "//nas/share",
                          "network filesystem: its data is stored on a server"),
                     skip("/home/u/remote", "fuse.sshfs",
                          "u@host:", "network filesystem: its data is stored on a server"),
                     skip("/var/lib/docker/overlay2/x/merged", "overlay", "overlay",
                          "overlay of directories on other filesystems"),
                     skip("/mnt/odd", "weirdfs", "none", "not backed by a block device"),
                     skip("/media/cdrom", "iso9660", "/dev/sr0", "read-only image"),
                 }));
    }

    void swapVariants()
    {
        Machine machine;
        machine.luksRoot();
        machine.partition("sda4", "8:4");
        machine.disk("zram0", "252:0");
        machine.file(machine.deviceDir("zram0") + "/backing_dev", "none\n");
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps("/swap\\040file file 4194300 0 -2\n"
                      "/dev/zram0 partition 8388604 0 100\n"
                      "/dev/sda4 partition 999420 0 -3\n");
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: [SWAP] (sda4)"));
        QCOMPARE(volume(result.details, 0).at("mount_points"), (Json{"/", "/swap file [SWAP]"}));
        QCOMPARE(volume(result.details, 1).at("mount_points"), Json{"[SWAP]"});
        QCOMPARE(volume(result.details, 1).at("fs_type"), "swap");
        QCOMPARE(result.details.at("skipped"),
                 (Json{{{"swap", "/dev/zram0"},
                        {"fs_type", "swap"},
                        {"reason",
                         "compressed RAM device (zram): nothing reaches persistent storage"}}}));
    }

    void zramWritingBackToDisk()
    {
        Machine machine;
        machine.luksRoot();
        machine.partition("sda4", "8:4");
        machine.disk("zram0", "252:0");
        machine.file(machine.deviceDir("zram0") + "/backing_dev", "/dev/sda4\n");
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root"));
        machine.swaps("/dev/zram0 partition 8388604 0 100\n");
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(volume(result.details, 1).at("chain"), (Json{"zram0 (zram)", "sda4 (partition)"}));
    }

    void bootOnTheRootDeviceIsRequired()
    {
        Machine machine;
        machine.partition("sda2", "8:2");
        machine.mountinfo(mount(1, "8:2", "/", "ext4", "/dev/sda2") +
                          mount(2, "8:2", "/boot", "ext4", "/dev/sda2", "/boot"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: /, /boot (sda2)"));
        QCOMPARE(volume(result.details, 0).at("required"), true);
        QVERIFY(!volume(result.details, 0).contains("not_required_reason"));
    }

    void bootVolumesNeverFail()
    {
        Machine machine;
        machine.luksRoot();
        machine.partition("sda1", "8:1");
        machine.partition("sda2", "8:2");
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root") +
                          mount(2, "8:2", "/boot", "ext4", "/dev/sda2") +
                          mount(3, "8:1", "/efi", "vfat", "/dev/sda1") +
                          mount(4, "0:70", "/boot/efi", "vfat", "/dev/missing"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary, std::string("All persistent volumes are encrypted: / (dm-0)"));
        for (std::size_t i = 1; i < 4; ++i) {
            QCOMPARE(volume(result.details, i).at("required"), false);
            QCOMPARE(volume(result.details, i).at("not_required_reason"), notRequired);
        }
        QCOMPARE(volume(result.details, 3).at("status"), "unknown");
    }

    void btrfsSourceNotResolvable()
    {
        Machine machine;
        machine.mountinfo(mount(1, "0:35", "/", "btrfs", "/dev/mapper/gone", "/root"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("Encryption could not be determined: / (gone): "
                                            "cannot resolve /dev/mapper/gone to a block device"));
    }

    void oddMountPoints()
    {
        Machine machine;
        machine.luksRoot();
        machine.partition("sdc1", "8:33");
        machine.mountinfo(mount(1, "254:0", "/", "ext4", "/dev/mapper/root") +
                          mount(2, "8:33", "/media/u/My\\040Stick\\377", "fuseblk", "/dev/sdc1"));
        machine.swaps();
        const auto result = machine.collect();
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Not encrypted: /media/u/My Stick? (sdc1)"));
        QCOMPARE(volume(result.details, 1).at("fs_type"), "fuseblk");
    }
};

QTEST_APPLESS_MAIN(TestDiskEncryptionCollector)
#include "tst_diskencryptioncollector.moc"
