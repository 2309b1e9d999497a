#include "fixturehost.h"
#include "posture/postureengine.h"
#include "posture/standardcollectors.h"
#include "server/policy/appraisal.h"
#include "testprinters.h"

#include <QTest>

using namespace vigil;
using namespace vigil::server;
using nlohmann::json;
using posture::CheckResult;
using posture::PostureSnapshot;

namespace {

// 2026-11-24T12:00:00Z, the fixture hosts' instant too.
TimePoint now()
{
    return test::fixtureNow();
}

const std::string aptUpgrade = "sudo apt-get update && sudo apt-get dist-upgrade";
const std::string agentRemediation =
    "Make sure the Vigil agent on this device is up to date and running, then report again.";
const std::string unknownRemediation =
    "Run `vigilctl posture` on the device to see why the check could not be determined, fix "
    "that, then report again.";

json patchDetails()
{
    return {{"package_manager", "apt"},
            {"pending_updates", 0},
            {"security_updates", 0},
            {"security_updates_unit", "packages"},
            {"last_refresh", "2026-11-23T08:00:00Z"},
            {"last_upgrade", "2026-11-20T09:30:00Z"},
            {"reboot_required", false},
            {"reboot_required_reasons", json::array()}};
}

PostureSnapshot compliantSnapshot()
{
    PostureSnapshot snapshot;
    snapshot.collectedAt = now();
    snapshot.checks = {
        CheckResult::pass("os", "Debian GNU/Linux 12 (bookworm)",
                          {{"id", "debian"}, {"version_id", "12"}, {"name", "Debian GNU/Linux"}}),
        CheckResult::pass("patch_level", "No updates pending, no reboot required", patchDetails()),
        CheckResult::pass("disk_encryption", "All 2 volumes are encrypted"),
        CheckResult::pass("firewall", "Inbound traffic is filtered (nftables)"),
        CheckResult::pass("screen_lock", "GNOME locks the screen after 300 s idle",
                          {{"desktop", "GNOME"}, {"lock_enabled", true}, {"seconds_to_lock", 300}}),
        CheckResult::pass("secure_boot", "Secure Boot is enabled and enforcing"),
    };
    return snapshot;
}

CheckResult &deviceCheck(PostureSnapshot &snapshot, const std::string &id)
{
    for (auto &check : snapshot.checks)
        if (check.id == id)
            return check;
    qFatal("no check %s", id.c_str());
}

void removeCheck(PostureSnapshot &snapshot, const std::string &id)
{
    std::erase_if(snapshot.checks, [&](const CheckResult &check) { return check.id == id; });
}

const PolicyCheck *find(const PolicyVerdict &verdict, const std::string &id)
{
    for (const auto &check : verdict.checks)
        if (check.id == id)
            return &check;
    return nullptr;
}

// The one check `id` of appraising `snapshot`; fails the test when it is missing.
PolicyCheck appraised(const PostureSnapshot &snapshot, const std::string &id,
                      const Policy &policy = {}, const protocol::PcrValues *pcrs = nullptr,
                      const std::string &assurance = "tpm")
{
    const auto verdict = appraise(policy, snapshot, pcrs, assurance, now());
    const auto *check = find(verdict, id);
    if (!check)
        return {id, true, "<missing>", "<missing>"};
    return *check;
}

std::vector<std::string> ids(const PolicyVerdict &verdict)
{
    std::vector<std::string> out;
    for (const auto &check : verdict.checks)
        out.push_back(check.id);
    return out;
}

Policy policyWith(const std::function<void(Policy &)> &change)
{
    Policy policy;
    change(policy);
    return policy;
}

vigil::Bytes digest(std::uint8_t fill)
{
    return vigil::Bytes(32, fill);
}

} // namespace

class TestAppraisal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void compliantDevicePassesEveryDefaultRule()
    {
        const auto verdict = appraise(Policy{}, compliantSnapshot(), nullptr, "tpm", now());
        QCOMPARE(ids(verdict),
                 (std::vector<std::string>{"assurance", "os_version", "security_updates",
                                           "update_age", "reboot_required", "disk_encryption",
                                           "firewall", "screen_lock", "secure_boot"}));
        std::vector<std::string> summaries;
        for (const auto &check : verdict.checks) {
            QVERIFY2(check.pass, check.summary.c_str());
            QCOMPARE(check.remediation, std::string());
            summaries.push_back(check.summary);
        }
        QVERIFY(verdict.compliant);
        QCOMPARE(summaries, (std::vector<std::string>{
                                "Device key assurance \"tpm\" is accepted",
                                "debian 12 meets the minimum version 12",
                                "No security updates pending",
                                "Updates last installed 4 days ago",
                                "No reboot required",
                                "All 2 volumes are encrypted",
                                "Inbound traffic is filtered (nftables)",
                                "The screen locks after 300 s idle",
                                "Secure Boot is enabled and enforcing",
                            }));
    }

    void rulesTurnedOffProduceNoCheck()
    {
        const auto policy = parsePolicy(R"({"version": 1,
            "os": {"min_version": {}, "other_distributions": "allow"},
            "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                            "allow_reboot_required": true},
            "disk_encryption": {"required": false}, "firewall": {"required": false},
            "screen_lock": {"required": false}, "secure_boot": {"required": false}})");
        // Nothing but the assurance is asked of the device, so an empty snapshot complies.
        const auto verdict = appraise(policy, PostureSnapshot{}, nullptr, "tpm", now());
        QCOMPARE(ids(verdict), std::vector<std::string>{"assurance"});
        QVERIFY(verdict.compliant);
    }

    void oneFailingCheckMakesTheDeviceNonCompliant()
    {
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "firewall") =
            CheckResult::fail("firewall", "Inbound IPv6 traffic is not filtered", "Fix IPv6.");
        const auto verdict = appraise(Policy{}, snapshot, nullptr, "tpm", now());
        QVERIFY(!verdict.compliant);
        QCOMPARE(std::count_if(verdict.checks.begin(), verdict.checks.end(),
                               [](const PolicyCheck &c) { return !c.pass; }),
                 1);
    }

    void assurance()
    {
        const auto snapshot = compliantSnapshot();
        auto check = appraised(snapshot, "assurance", {}, nullptr, "software");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary,
                 std::string("Device key assurance \"software\" is not accepted (the policy "
                             "accepts tpm)"));
        QCOMPARE(check.remediation,
                 std::string("This device enrolled without a TPM: enable the TPM 2.0 in the "
                             "firmware settings (often called fTPM, PTT or Security Chip), then "
                             "enroll the device again."));

        const auto both = policyWith([](Policy &p) { p.acceptedAssurance = {"software", "tpm"}; });
        check = appraised(snapshot, "assurance", both, nullptr, "software");
        QVERIFY(check.pass);
        QCOMPARE(check.summary, std::string("Device key assurance \"software\" is accepted"));

        check = appraised(snapshot, "assurance", both, nullptr, "quantum");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary,
                 std::string("Device key assurance \"quantum\" is not accepted (the policy "
                             "accepts software, tpm)"));
        QCOMPARE(check.remediation, std::string("Enroll the device again."));
    }

    void osVersion_data()
    {
        QTest::addColumn<QByteArray>("policy");
        QTest::addColumn<QByteArray>("os");
        QTest::addColumn<bool>("pass");
        QTest::addColumn<QByteArray>("summary");
        QTest::addColumn<QByteArray>("remediation");
        const QByteArray defaults = R"({"version": 1})";
        const QByteArray deny = R"({"version": 1, "os": {"other_distributions": "deny"}})";
        const QByteArray upgrade = "Upgrade %1 to release %2 or later (a release upgrade: "
                                   "follow the distribution's upgrade guide).";
        QTest::newRow("debian 12")
            << defaults << QByteArray(R"({"id":"debian","version_id":"12"})") << true
            << QByteArray("debian 12 meets the minimum version 12") << QByteArray();
        QTest::newRow("debian 11")
            << defaults
            << QByteArray(R"({"id":"debian","version_id":"11","name":"Debian GNU/Linux"})") << false
            << QByteArray("debian 11 is older than the minimum version 12 for debian")
            << QByteArray(upgrade).replace("%1", "Debian GNU/Linux").replace("%2", "12");
        QTest::newRow("ubuntu 24.04")
            << defaults << QByteArray(R"({"id":"ubuntu","version_id":"24.04"})") << true
            << QByteArray("ubuntu 24.04 meets the minimum version 22.04") << QByteArray();
        QTest::newRow("ubuntu 20.04")
            << defaults << QByteArray(R"({"id":"ubuntu","version_id":"20.04"})") << false
            << QByteArray("ubuntu 20.04 is older than the minimum version 22.04 for ubuntu")
            << QByteArray(upgrade).replace("%1", "ubuntu").replace("%2", "22.04");
        // compareVersions order, not text order: 9.10 is after 9.9.
        QTest::newRow("rhel 9.10 against 9.9")
            << QByteArray(R"({"version": 1, "os": {"min_version": {"rhel": "9.9"}}})")
            << QByteArray(R"({"id":"rhel","version_id":"9.10"})") << true
            << QByteArray("rhel 9.10 meets the minimum version 9.9") << QByteArray();
        QTest::newRow("other allowed")
            << defaults << QByteArray(R"({"id":"linuxmint","version_id":"22"})") << true
            << QByteArray("linuxmint 22 (the policy sets no minimum version for linuxmint)")
            << QByteArray();
        QTest::newRow("other denied")
            << deny << QByteArray(R"({"id":"linuxmint","version_id":"22"})") << false
            << QByteArray("linuxmint is not an accepted distribution (accepted: debian, fedora, "
                          "rhel, ubuntu)")
            << QByteArray("Use a distribution the organisation accepts (debian, fedora, rhel, "
                          "ubuntu).");
        QTest::newRow("everything denied")
            << QByteArray(R"({"version":1,"os":{"min_version":{},"other_distributions":"deny"}})")
            << QByteArray(R"({"id":"debian","version_id":"12"})") << false
            << QByteArray("debian is not an accepted distribution (accepted: none)")
            << QByteArray("Use a distribution the organisation accepts (none).");
        QTest::newRow("id missing")
            << defaults << QByteArray(R"({"version_id":"12"})") << false
            << QByteArray("The device's os check has no valid id (expected the os-release ID as "
                          "a string)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("version_id null")
            << defaults << QByteArray(R"({"id":"debian","version_id":null})") << false
            << QByteArray("The device's os check has no valid version_id (expected the "
                          "os-release VERSION_ID as a string)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("version_id number")
            << defaults << QByteArray(R"({"id":"debian","version_id":12})") << false
            << QByteArray("The device's os check has no valid version_id (expected the "
                          "os-release VERSION_ID as a string)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("details an array")
            << defaults << QByteArray(R"(["debian","12"])") << false
            << QByteArray("The device's os check has no valid id (expected the os-release ID as "
                          "a string)")
            << QByteArray::fromStdString(agentRemediation);
    }

    void osVersion()
    {
        QFETCH(QByteArray, policy);
        QFETCH(QByteArray, os);
        QFETCH(bool, pass);
        QFETCH(QByteArray, summary);
        QFETCH(QByteArray, remediation);
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "os").details = json::parse(os.toStdString());
        const auto check = appraised(snapshot, "os_version", parsePolicy(policy.toStdString()));
        QCOMPARE(check.pass, pass);
        QCOMPARE(check.summary, summary.toStdString());
        QCOMPARE(check.remediation, remediation.toStdString());
    }

    void deviceUnknownFailsWithTheDevicesReason()
    {
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "os") = CheckResult::unknown(
            "os", "/etc/os-release names debian but no version", {{"id", "debian"}});
        deviceCheck(snapshot, "disk_encryption") =
            CheckResult::unknown("disk_encryption", "cannot read /proc/self/mountinfo");
        deviceCheck(snapshot, "firewall") =
            CheckResult::unknown("firewall", "nft is installed but cannot be run");
        deviceCheck(snapshot, "screen_lock") = CheckResult::unknown(
            "screen_lock", "runs in the user's desktop session; this process has none");
        deviceCheck(snapshot, "secure_boot") = CheckResult::unknown(
            "secure_boot", "UEFI variables are not exposed (efivarfs not mounted)");
        auto patch = CheckResult::unknown(
            "patch_level",
            "apt-get is still computing pending updates (started 3 s ago); the "
            "next collection will have them",
            patchDetails());
        patch.details["security_updates"] = nullptr;
        patch.details["pending_updates"] = nullptr;
        deviceCheck(snapshot, "patch_level") = patch;

        const auto verdict = appraise(Policy{}, snapshot, nullptr, "tpm", now());
        QVERIFY(!verdict.compliant);
        const std::map<std::string, std::string> expected{
            {"os_version", "The operating system version could not be determined on the device: "
                           "/etc/os-release names debian but no version"},
            {"security_updates", "Pending security updates could not be determined on the "
                                 "device: apt-get is still computing pending updates (started 3 "
                                 "s ago); the next collection will have them"},
            {"disk_encryption", "Disk encryption could not be determined on the device: cannot "
                                "read /proc/self/mountinfo"},
            {"firewall", "The firewall could not be determined on the device: nft is installed "
                         "but cannot be run"},
            {"screen_lock", "The screen lock could not be determined on the device: runs in the "
                            "user's desktop session; this process has none"},
            {"secure_boot", "Secure Boot could not be determined on the device: UEFI variables "
                            "are not exposed (efivarfs not mounted)"},
        };
        for (const auto &[id, summary] : expected) {
            const auto *check = find(verdict, id);
            QVERIFY2(check, id.c_str());
            QVERIFY2(!check->pass, id.c_str());
            QCOMPARE(check->summary, summary);
            QCOMPARE(check->remediation, unknownRemediation);
        }
        // What the device did determine still counts.
        QVERIFY(find(verdict, "update_age")->pass);
        QVERIFY(find(verdict, "reboot_required")->pass);
    }

    void deviceFailCarriesTheDevicesRemediation()
    {
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "disk_encryption") = CheckResult::fail(
            "disk_encryption", "Not encrypted: / (vda)",
            "Store these volumes on LUKS-encrypted devices: reinstall with full-disk "
            "encryption.");
        deviceCheck(snapshot, "secure_boot") = CheckResult::fail(
            "secure_boot", "Secure Boot is disabled", "Enable Secure Boot in the firmware.");
        deviceCheck(snapshot, "firewall") =
            CheckResult::fail("firewall", "Inbound IPv4 and IPv6 traffic is not filtered", "");
        const auto verdict = appraise(Policy{}, snapshot, nullptr, "tpm", now());
        auto check = *find(verdict, "disk_encryption");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, std::string("Not encrypted: / (vda)"));
        QCOMPARE(check.remediation,
                 std::string("Store these volumes on LUKS-encrypted devices: reinstall with "
                             "full-disk encryption."));
        check = *find(verdict, "secure_boot");
        QCOMPARE(check.summary, std::string("Secure Boot is disabled"));
        QCOMPARE(check.remediation, std::string("Enable Secure Boot in the firmware."));
        // No remediation from the device: the verifier's own.
        check = *find(verdict, "firewall");
        QCOMPARE(check.summary, std::string("Inbound IPv4 and IPv6 traffic is not filtered"));
        QCOMPARE(check.remediation,
                 std::string("Turn on a host firewall that drops unsolicited inbound traffic "
                             "(ufw, firewalld or nftables)."));
    }

    void missingDeviceCheckFails_data()
    {
        QTest::addColumn<QByteArray>("deviceId");
        QTest::addColumn<QByteArray>("policyId");
        QTest::newRow("os") << QByteArray("os") << QByteArray("os_version");
        QTest::newRow("security updates")
            << QByteArray("patch_level") << QByteArray("security_updates");
        QTest::newRow("update age") << QByteArray("patch_level") << QByteArray("update_age");
        QTest::newRow("reboot") << QByteArray("patch_level") << QByteArray("reboot_required");
        QTest::newRow("disk") << QByteArray("disk_encryption") << QByteArray("disk_encryption");
        QTest::newRow("firewall") << QByteArray("firewall") << QByteArray("firewall");
        QTest::newRow("screen lock") << QByteArray("screen_lock") << QByteArray("screen_lock");
        QTest::newRow("secure boot") << QByteArray("secure_boot") << QByteArray("secure_boot");
    }

    void missingDeviceCheckFails()
    {
        QFETCH(QByteArray, deviceId);
        QFETCH(QByteArray, policyId);
        auto snapshot = compliantSnapshot();
        removeCheck(snapshot, deviceId.toStdString());
        const auto check = appraised(snapshot, policyId.toStdString());
        QVERIFY(!check.pass);
        QCOMPARE(check.summary,
                 "The device did not report its " + deviceId.toStdString() + " check");
        QCOMPARE(check.remediation, agentRemediation);
    }

    void securityUpdates_data()
    {
        QTest::addColumn<QByteArray>("changes"); // merged into the patch_level details
        QTest::addColumn<int>("max");
        QTest::addColumn<bool>("pass");
        QTest::addColumn<QByteArray>("summary");
        QTest::addColumn<QByteArray>("remediation");
        const QByteArray refresh = "Refresh the package lists: sudo apt-get update";
        QTest::newRow("none") << QByteArray("{}") << 0 << true
                              << QByteArray("No security updates pending") << QByteArray();
        QTest::newRow("twelve")
            << QByteArray(R"({"security_updates":12,"pending_updates":30})") << 0 << false
            << QByteArray("12 security updates pending (the policy allows at most 0)")
            << QByteArray::fromStdString("Install the 12 pending security updates: " + aptUpgrade);
        QTest::newRow("one") << QByteArray(R"({"security_updates":1,"pending_updates":1})") << 0
                             << false
                             << QByteArray("1 security update pending (the policy allows at "
                                           "most 0)")
                             << QByteArray::fromStdString(
                                    "Install the 1 pending security update: " + aptUpgrade);
        QTest::newRow("within the limit")
            << QByteArray(R"({"security_updates":3,"pending_updates":9})") << 5 << true
            << QByteArray("3 security updates pending (the policy allows at most 5)")
            << QByteArray();
        QTest::newRow("at the limit")
            << QByteArray(R"({"security_updates":5,"pending_updates":9})") << 5 << true
            << QByteArray("5 security updates pending (the policy allows at most 5)")
            << QByteArray();
        QTest::newRow("dnf")
            << QByteArray(R"({"package_manager":"dnf","security_updates":2})") << 0 << false
            << QByteArray("2 security updates pending (the policy allows at most 0)")
            << QByteArray("Install the 2 pending security updates: sudo dnf upgrade --refresh");
        QTest::newRow("zypper patches")
            << QByteArray(R"({"package_manager":"zypper","security_updates":3,)"
                          R"("security_updates_unit":"patches"})")
            << 0 << false << QByteArray("3 security patches pending (the policy allows at most 0)")
            << QByteArray("Install the 3 pending security patches: sudo zypper refresh && sudo "
                          "zypper patch");
        // pacman does not classify updates: every one counts, which can only over-count.
        QTest::newRow("pacman, updates pending")
            << QByteArray(R"({"package_manager":"pacman","security_updates":null,)"
                          R"("pending_updates":4,"security_updates_unknown_reason":)"
                          R"("pacman does not classify security updates"})")
            << 0 << false
            << QByteArray("4 updates pending (the policy allows at most 0); the package manager "
                          "does not mark security updates, so every update counts")
            << QByteArray("Install the 4 pending updates: sudo pacman -Syu");
        QTest::newRow("pacman, nothing pending")
            << QByteArray(R"({"package_manager":"pacman","security_updates":null,)"
                          R"("pending_updates":0,"security_updates_unknown_reason":)"
                          R"("pacman does not classify security updates"})")
            << 0 << true << QByteArray("No updates pending") << QByteArray();
        QTest::newRow("package manager the verifier does not know")
            << QByteArray(R"j({"package_manager":"$(reboot)","security_updates":2})j") << 0 << false
            << QByteArray("2 security updates pending (the policy allows at most 0)")
            << QByteArray("Install the 2 pending security updates: your distribution's package "
                          "manager (for example `sudo apt-get update && sudo apt-get "
                          "dist-upgrade` or `sudo dnf upgrade --refresh`)");
        // Nothing pending according to old lists is no pass; pending from old lists stays a
        // fail.
        QTest::newRow("lists 15 days old")
            << QByteArray(R"({"last_refresh":"2026-11-09T11:59:59Z"})") << 0 << false
            << QByteArray("Package lists last refreshed 15 days ago; pending security updates "
                          "may be missing")
            << refresh;
        QTest::newRow("lists 14 days old")
            << QByteArray(R"({"last_refresh":"2026-11-10T11:00:00Z"})") << 0 << true
            << QByteArray("No security updates pending") << QByteArray();
        QTest::newRow("lists old, updates pending")
            << QByteArray(R"({"last_refresh":"2026-01-01T00:00:00Z","security_updates":2})") << 0
            << false << QByteArray("2 security updates pending (the policy allows at most 0)")
            << QByteArray::fromStdString("Install the 2 pending security updates: " + aptUpgrade);
        QTest::newRow("lists refreshed at an unknown time")
            << QByteArray(R"({"last_refresh":null})") << 0 << false
            << QByteArray("When the package lists were last refreshed is unknown on the device; "
                          "pending security updates may be missing")
            << refresh;
        QTest::newRow("last_refresh not a time")
            << QByteArray(R"({"last_refresh":"last week"})") << 0 << false
            << QByteArray("The device's patch_level check has no valid last_refresh (expected an "
                          "RFC 3339 UTC time or null)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("count as string")
            << QByteArray(R"({"security_updates":"0"})") << 0 << false
            << QByteArray("The device's patch_level check has no valid security_updates "
                          "(expected a count of pending updates)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("negative count")
            << QByteArray(R"({"security_updates":-1})") << 0 << false
            << QByteArray("The device's patch_level check has no valid security_updates "
                          "(expected a count of pending updates)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("null without a reason")
            << QByteArray(R"({"security_updates":null})") << 0 << false
            << QByteArray("The device's patch_level check has no valid security_updates "
                          "(expected a count of pending updates)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("huge count")
            << QByteArray(R"({"security_updates":18446744073709551615})") << 0 << false
            << QByteArray("The device's patch_level check has no valid security_updates "
                          "(expected a count of pending updates)")
            << QByteArray::fromStdString(agentRemediation);
    }

    void securityUpdates()
    {
        QFETCH(QByteArray, changes);
        QFETCH(int, max);
        QFETCH(bool, pass);
        QFETCH(QByteArray, summary);
        QFETCH(QByteArray, remediation);
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "patch_level").details.update(json::parse(changes.toStdString()));
        const auto check = appraised(snapshot, "security_updates",
                                     policyWith([&](Policy &p) { p.maxSecurityUpdates = max; }));
        QCOMPARE(check.pass, pass);
        QCOMPARE(check.summary, summary.toStdString());
        QCOMPARE(check.remediation, remediation.toStdString());
    }

    // The device's own verdict on patch_level mixes three rules; each is judged on its details.
    void patchLevelRulesAreJudgedApart()
    {
        auto snapshot = compliantSnapshot();
        auto details = patchDetails();
        details["reboot_required"] = nullptr;
        details["kernel_check_unknown_reason"] = "no installed kernel found under /usr/lib/modules";
        deviceCheck(snapshot, "patch_level") = CheckResult::unknown(
            "patch_level", "whether a reboot is required can't be told: no installed kernel",
            details);
        const auto verdict = appraise(Policy{}, snapshot, nullptr, "tpm", now());
        QVERIFY(find(verdict, "security_updates")->pass);
        QVERIFY(find(verdict, "update_age")->pass);
        const auto reboot = *find(verdict, "reboot_required");
        QVERIFY(!reboot.pass);
        QCOMPARE(reboot.summary,
                 std::string("Whether a reboot is required could not be determined on the "
                             "device: no installed kernel found under /usr/lib/modules"));
        QCOMPARE(reboot.remediation, unknownRemediation);
    }

    void updateAge_data()
    {
        QTest::addColumn<QByteArray>("changes");
        QTest::addColumn<int>("maxDays");
        QTest::addColumn<bool>("pass");
        QTest::addColumn<QByteArray>("summary");
        QTest::addColumn<QByteArray>("remediation");
        const QByteArray install =
            QByteArray::fromStdString("Install the available updates: " + aptUpgrade);
        QTest::newRow("45 days") << QByteArray(R"({"last_upgrade":"2026-10-10T12:00:00Z"})") << 30
                                 << false
                                 << QByteArray("Updates last installed 45 days ago (the policy "
                                               "allows at most 30 days)")
                                 << install;
        QTest::newRow("30 days") << QByteArray(R"({"last_upgrade":"2026-10-25T12:00:00Z"})") << 30
                                 << true << QByteArray("Updates last installed 30 days ago")
                                 << QByteArray();
        QTest::newRow("31 days less a second")
            << QByteArray(R"({"last_upgrade":"2026-10-24T12:00:01Z"})") << 30 << true
            << QByteArray("Updates last installed 30 days ago") << QByteArray();
        QTest::newRow("1 day, limit 0")
            << QByteArray(R"({"last_upgrade":"2026-11-23T12:00:00Z"})") << 0 << false
            << QByteArray("Updates last installed 1 day ago (the policy allows at most 0 days)")
            << install;
        QTest::newRow("today") << QByteArray(R"({"last_upgrade":"2026-11-24T11:00:00Z"})") << 0
                               << true << QByteArray("Updates last installed today")
                               << QByteArray();
        // Ahead of the verifier's clock (device clock skew): today, not negative days.
        QTest::newRow("in the future")
            << QByteArray(R"({"last_upgrade":"2027-01-01T00:00:00Z"})") << 0 << true
            << QByteArray("Updates last installed today") << QByteArray();
        QTest::newRow("unknown, with the device's note")
            << QByteArray(R"({"last_upgrade":null,"last_upgrade_note":)"
                          R"("/var/log/dpkg.log has no upgrade entries"})")
            << 30 << false
            << QByteArray("When updates were last installed is unknown on the device: "
                          "/var/log/dpkg.log has no upgrade entries")
            << install;
        QTest::newRow("unknown") << QByteArray(R"({"last_upgrade":null})") << 30 << false
                                 << QByteArray("When updates were last installed is unknown on "
                                               "the device")
                                 << install;
        QTest::newRow("date only") << QByteArray(R"({"last_upgrade":"2026-11-20"})") << 30 << false
                                   << QByteArray("The device's patch_level check has no valid "
                                                 "last_upgrade (expected an RFC 3339 UTC time or "
                                                 "null)")
                                   << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("30 February")
            << QByteArray(R"({"last_upgrade":"2026-02-30T00:00:00Z"})") << 30 << false
            << QByteArray("The device's patch_level check has no valid "
                          "last_upgrade (expected an RFC 3339 UTC time "
                          "or null)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("number") << QByteArray(R"({"last_upgrade":1795000000})") << 30 << false
                                << QByteArray("The device's patch_level check has no valid "
                                              "last_upgrade (expected an RFC 3339 UTC time or "
                                              "null)")
                                << QByteArray::fromStdString(agentRemediation);
    }

    void updateAge()
    {
        QFETCH(QByteArray, changes);
        QFETCH(int, maxDays);
        QFETCH(bool, pass);
        QFETCH(QByteArray, summary);
        QFETCH(QByteArray, remediation);
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "patch_level").details.update(json::parse(changes.toStdString()));
        const auto check = appraised(
            snapshot, "update_age", policyWith([&](Policy &p) { p.maxDaysSinceUpdate = maxDays; }));
        QCOMPARE(check.pass, pass);
        QCOMPARE(check.summary, summary.toStdString());
        QCOMPARE(check.remediation, remediation.toStdString());
    }

    void rebootRequired()
    {
        auto snapshot = compliantSnapshot();
        auto &patch = deviceCheck(snapshot, "patch_level");
        patch.details["reboot_required"] = true;
        patch.details["reboot_required_reasons"] = {"/run/reboot-required exists",
                                                    "running kernel 6.8.0-45-generic is older than "
                                                    "installed kernel 6.8.0-48-generic"};
        auto check = appraised(snapshot, "reboot_required");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary,
                 std::string("A reboot is required: /run/reboot-required exists; running kernel "
                             "6.8.0-45-generic is older than installed kernel 6.8.0-48-generic"));
        QCOMPARE(check.remediation, std::string("Restart the computer to run the updated "
                                                "software: sudo systemctl reboot"));

        patch.details["reboot_required_reasons"] = "not a list";
        check = appraised(snapshot, "reboot_required");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, std::string("A reboot is required"));

        const auto allowed = policyWith([](Policy &p) { p.allowRebootRequired = true; });
        QVERIFY(!find(appraise(allowed, snapshot, nullptr, "tpm", now()), "reboot_required"));

        patch.details["reboot_required"] = nullptr;
        check = appraised(snapshot, "reboot_required");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, std::string("Whether a reboot is required could not be "
                                            "determined on the device: no reason given"));

        patch.details["reboot_required"] = "no";
        check = appraised(snapshot, "reboot_required");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, std::string("The device's patch_level check has no valid "
                                            "reboot_required (expected true, false or null)"));
    }

    void screenLock_data()
    {
        QTest::addColumn<QByteArray>("device"); // CheckResult JSON
        QTest::addColumn<QByteArray>("policy");
        QTest::addColumn<bool>("pass");
        QTest::addColumn<QByteArray>("summary");
        QTest::addColumn<QByteArray>("remediation");
        const QByteArray defaults = R"({"version":1})";
        const QByteArray generic =
            "Turn on automatic screen locking after at most 15 minutes idle (GNOME: Settings → "
            "Privacy → Screen Lock; KDE: System Settings → Screen Locking; Xfce: Screensaver "
            "preferences).";
        const QByteArray gnomeFix = "Settings → Privacy → Screen Lock: turn on Automatic Screen "
                                    "Lock.";
        QTest::newRow("locks after 300 s")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":true,"seconds_to_lock":300}})")
            << defaults << true << QByteArray("The screen locks after 300 s idle") << QByteArray();
        QTest::newRow("locks after 1200 s, policy 900")
            << QByteArray(R"({"status":"fail","summary":"","duration_ms":0,)"
                          R"("remediation":"device text",)"
                          R"("details":{"lock_enabled":true,"seconds_to_lock":1200}})")
            << defaults << false
            << QByteArray("The screen locks after 1200 s idle (the policy allows at most 900 s)")
            << generic;
        QTest::newRow("policy in seconds")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":true,"seconds_to_lock":300}})")
            << QByteArray(R"({"version":1,"screen_lock":{"max_idle_seconds":90}})") << false
            << QByteArray("The screen locks after 300 s idle (the policy allows at most 90 s)")
            << QByteArray("Turn on automatic screen locking after at most 90 seconds idle "
                          "(GNOME: Settings → Privacy → Screen Lock; KDE: System Settings → "
                          "Screen Locking; Xfce: Screensaver preferences).");
        // The verifier's threshold, not the device's: a laxer policy passes what the device
        // failed against its own default.
        QTest::newRow("device failed, policy laxer")
            << QByteArray(R"({"status":"fail","summary":"","duration_ms":0,)"
                          R"("remediation":"device text",)"
                          R"("details":{"lock_enabled":true,"seconds_to_lock":1200}})")
            << QByteArray(R"({"version":1,"screen_lock":{"max_idle_seconds":3600}})") << true
            << QByteArray("The screen locks after 1200 s idle") << QByteArray();
        QTest::newRow("no idle limit")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":true,"seconds_to_lock":86400}})")
            << QByteArray(R"({"version":1,"screen_lock":{"max_idle_seconds":null}})") << true
            << QByteArray("The screen locks after 86400 s idle") << QByteArray();
        QTest::newRow("lock off")
            << QByteArray(R"({"status":"fail","summary":"","duration_ms":0,)"
                          R"("remediation":")" +
                          gnomeFix + R"(","details":{"lock_enabled":false,"seconds_to_lock":300}})")
            << defaults << false << QByteArray("The screen does not lock when the session is idle")
            << gnomeFix;
        QTest::newRow("lock off, device passed anyway")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":false,"seconds_to_lock":300}})")
            << defaults << false << QByteArray("The screen does not lock when the session is idle")
            << generic;
        QTest::newRow("never idle")
            << QByteArray(R"({"status":"fail","summary":"","duration_ms":0,)"
                          R"("remediation":")" +
                          gnomeFix + R"(","details":{"lock_enabled":true,"seconds_to_lock":0}})")
            << QByteArray(R"({"version":1,"screen_lock":{"max_idle_seconds":null}})") << false
            << QByteArray("The screen never locks: the session never goes idle") << gnomeFix;
        QTest::newRow("disabled by lockdown")
            << QByteArray(R"({"status":"fail","summary":"","duration_ms":0,)"
                          R"("remediation":"Allow screen locking.","details":{"lock_enabled":)"
                          R"(true,"seconds_to_lock":300,"lock_disabled_by_lockdown":true}})")
            << defaults << false << QByteArray("Screen locking is disabled by a lockdown setting")
            << QByteArray("Allow screen locking.");
        QTest::newRow("seconds_to_lock missing")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":true}})")
            << defaults << false
            << QByteArray("The device's screen_lock check has no valid seconds_to_lock "
                          "(expected a non-negative integer)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("seconds_to_lock negative")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":true,"seconds_to_lock":-5}})")
            << defaults << false
            << QByteArray("The device's screen_lock check has no valid seconds_to_lock "
                          "(expected a non-negative integer)")
            << QByteArray::fromStdString(agentRemediation);
        QTest::newRow("lock_enabled as string")
            << QByteArray(R"({"status":"pass","summary":"","duration_ms":0,)"
                          R"("details":{"lock_enabled":"true","seconds_to_lock":300}})")
            << defaults << false
            << QByteArray("The device's screen_lock check has no valid lock_enabled (expected "
                          "true or false)")
            << QByteArray::fromStdString(agentRemediation);
    }

    void screenLock()
    {
        QFETCH(QByteArray, device);
        QFETCH(QByteArray, policy);
        QFETCH(bool, pass);
        QFETCH(QByteArray, summary);
        QFETCH(QByteArray, remediation);
        auto snapshot = compliantSnapshot();
        auto result = CheckResult::fromJson(json::parse(device.toStdString()));
        result.id = "screen_lock";
        deviceCheck(snapshot, "screen_lock") = result;
        const auto check = appraised(snapshot, "screen_lock", parsePolicy(policy.toStdString()));
        QCOMPARE(check.pass, pass);
        QCOMPARE(check.summary, summary.toStdString());
        QCOMPARE(check.remediation, remediation.toStdString());
    }

    void pcrs()
    {
        const auto snapshot = compliantSnapshot();
        const auto policy = policyWith([](Policy &p) {
            p.pcrReferenceValues = {{0, {digest(0xa0)}}, {7, {digest(0x70), digest(0x71)}}};
        });
        const std::string remediation =
            "The firmware, boot loader, kernel or Secure Boot configuration differs from the "
            "approved one. If the change was intended (an update), an administrator adds the new "
            "PCR values to the policy; otherwise restore the approved boot components.";

        protocol::PcrValues values;
        for (unsigned i = 0; i < 8; ++i)
            values[i] = digest(std::uint8_t(i));
        values[0] = digest(0xa0);
        values[7] = digest(0x71);
        auto check = appraised(snapshot, "pcrs", policy, &values);
        QVERIFY(check.pass);
        QCOMPARE(check.summary, std::string("PCRs 0, 7 match reference values"));
        QCOMPARE(check.remediation, std::string());

        values[7] = digest(0x72);
        std::string hex72;
        for (int i = 0; i < 32; ++i)
            hex72 += "72";
        check = appraised(snapshot, "pcrs", policy, &values);
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, "Boot measurements differ from the policy's: PCR 7 is " + hex72 +
                                    ", not a reference value");
        QCOMPARE(check.remediation, remediation);

        values.erase(0);
        values[7] = vigil::Bytes(20, 0x70); // SHA-1 sized
        check = appraised(snapshot, "pcrs", policy, &values);
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, std::string("Boot measurements differ from the policy's: PCR 0 "
                                            "was not quoted; PCR 7 is not a SHA-256 value"));

        // A software device has no quote to prove anything with.
        check = appraised(snapshot, "pcrs", policy, nullptr, "software");
        QVERIFY(!check.pass);
        QCOMPARE(check.summary, std::string("No TPM quote: a device without TPM assurance cannot "
                                            "prove its boot measurements"));
        QCOMPARE(check.remediation, std::string("Enable the TPM 2.0 in the firmware settings, "
                                                "then enroll the device again."));

        const auto one = policyWith([](Policy &p) { p.pcrReferenceValues = {{7, {digest(7)}}}; });
        values[7] = digest(7);
        check = appraised(snapshot, "pcrs", one, &values);
        QVERIFY(check.pass);
        QCOMPARE(check.summary, std::string("PCR 7 matches reference values"));

        // No reference values: no check, whatever the PCRs.
        QVERIFY(!find(appraise(Policy{}, snapshot, &values, "tpm", now()), "pcrs"));
    }

    // Whatever a device puts in the details a rule reads, appraisal neither throws nor passes.
    void garbageDetailsNeverPass_data()
    {
        QTest::addColumn<QByteArray>("deviceId");
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<QByteArray>("policyId");
        QTest::addColumn<QByteArray>("values"); // a JSON array of replacements
        const QByteArray common = R"([null,-1,1.5,[],{},[1,2],{"a":1},1e308,-9223372036854775808)";
        const QByteArray notStrings = common + R"(,true,0,18446744073709551615])";
        const QByteArray notCounts = common + R"(,true,false,"12",""])";
        const QByteArray notBooleans = common + R"(,0,1,"true",""])";
        const QByteArray notTimes =
            common + R"(,true,0,"","2026-11-24","2026-11-24T12:00:00+00:00",)"
                     R"("2026-11-24t12:00:00z","2026-11-24T12:00:00.5Z","2026-13-01T00:00:00Z",)"
                     R"("0000-01-01T00:00:00Z","9999-99-99T99:99:99Z"])";
        QTest::newRow("os id") << QByteArray("os") << QByteArray("id") << QByteArray("os_version")
                               << notStrings;
        QTest::newRow("os version_id") << QByteArray("os") << QByteArray("version_id")
                                       << QByteArray("os_version") << notStrings;
        QTest::newRow("security_updates")
            << QByteArray("patch_level") << QByteArray("security_updates")
            << QByteArray("security_updates") << notCounts;
        QTest::newRow("last_refresh") << QByteArray("patch_level") << QByteArray("last_refresh")
                                      << QByteArray("security_updates") << notTimes;
        QTest::newRow("last_upgrade") << QByteArray("patch_level") << QByteArray("last_upgrade")
                                      << QByteArray("update_age") << notTimes;
        QTest::newRow("reboot_required")
            << QByteArray("patch_level") << QByteArray("reboot_required")
            << QByteArray("reboot_required") << notBooleans;
        QTest::newRow("lock_enabled") << QByteArray("screen_lock") << QByteArray("lock_enabled")
                                      << QByteArray("screen_lock") << notBooleans;
        QTest::newRow("seconds_to_lock")
            << QByteArray("screen_lock") << QByteArray("seconds_to_lock")
            << QByteArray("screen_lock") << notCounts;
    }

    void garbageDetailsNeverPass()
    {
        QFETCH(QByteArray, deviceId);
        QFETCH(QByteArray, key);
        QFETCH(QByteArray, policyId);
        QFETCH(QByteArray, values);
        for (const auto &value : json::parse(values.toStdString())) {
            auto snapshot = compliantSnapshot();
            deviceCheck(snapshot, deviceId.toStdString()).details[key.toStdString()] = value;
            const auto check = appraised(snapshot, policyId.toStdString());
            QVERIFY2(!check.pass, (value.dump() + ": " + check.summary).c_str());
            QVERIFY2(!check.remediation.empty(), value.dump().c_str());
        }
    }

    void nonObjectDetailsFailEveryRuleThatReadsThem()
    {
        auto snapshot = compliantSnapshot();
        for (auto &check : snapshot.checks)
            check.details = json::array({1, 2, 3});
        const auto verdict = appraise(Policy{}, snapshot, nullptr, "tpm", now());
        for (const auto *id :
             {"os_version", "security_updates", "update_age", "reboot_required", "screen_lock"})
            QVERIFY2(!find(verdict, id)->pass, id);
        // Rules on the device's own verdict do not read details.
        QVERIFY(find(verdict, "firewall")->pass);
    }

    void longDeviceTextIsCut()
    {
        auto snapshot = compliantSnapshot();
        deviceCheck(snapshot, "firewall") =
            CheckResult::unknown("firewall", std::string(299, 'x') + "é" + std::string(5000, 'y'));
        const auto check = appraised(snapshot, "firewall");
        QCOMPARE(check.summary, "The firewall could not be determined on the device: " +
                                    std::string(299, 'x') + "…");
    }

    // Snapshots the real collectors make of the fixture workstations (tests/fixtures/hosts),
    // appraised with the default policy at the fixtures' instant.
    void fixtureHosts_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<QByteArray>("failing"); // space-separated check ids
        QTest::newRow("debian12") << QByteArray("debian12") << QByteArray("security_updates");
        QTest::newRow("ubuntu2404") << QByteArray("ubuntu2404")
                                    << QByteArray("security_updates reboot_required screen_lock");
        QTest::newRow("fedora41") << QByteArray("fedora41")
                                  << QByteArray("security_updates reboot_required secure_boot");
        QTest::newRow("arch") << QByteArray("arch")
                              << QByteArray(
                                     "security_updates disk_encryption firewall secure_boot");
    }

    void fixtureHosts()
    {
        QFETCH(QByteArray, host);
        QFETCH(QByteArray, failing);
        auto fixture = test::FixtureHost::load(host.toStdString());
        posture::PostureEngine engine(fixture.host, posture::standardCollectors());
        const auto snapshot = engine.collect();
        // Through the wire form, as the verifier receives it.
        const auto received = PostureSnapshot::fromJson(json::parse(snapshot.toJson().dump()));
        const auto verdict = appraise(Policy{}, received, nullptr, "tpm", now());
        QStringList failed;
        std::string all; // shown only when the comparison fails
        for (const auto &check : verdict.checks) {
            if (!check.pass)
                failed << QString::fromStdString(check.id);
            all += "\n  " + std::string(check.pass ? "pass " : "FAIL ") + check.id + ": " +
                   check.summary + (check.remediation.empty() ? "" : " → " + check.remediation);
        }
        QVERIFY2(failed.join(QLatin1Char(' ')).toUtf8() == failing, all.c_str());
        QCOMPARE(verdict.compliant, failing.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestAppraisal)
#include "tst_appraisal.moc"
