#include "server/policy/appraisal.h"

#include "core/text.h"
#include "posture/collectors/packagemanager.h"
#include "posture/parsers/versioncompare.h"
#include "protocol/rfc3339.h"

#include <algorithm>
#include <limits>

namespace vigil::server {

namespace {

using nlohmann::json;
using posture::CheckResult;
using posture::CheckStatus;

// Package lists older than this may miss published security updates (the agent's own limit).
constexpr long long maxPackageListAgeDays = 14;
// Device-provided text is quoted back in summaries; a report may be large, a summary not.
constexpr std::size_t maxQuotedLength = 300;

std::string clip(std::string_view text)
{
    if (text.size() <= maxQuotedLength)
        return std::string(text);
    std::size_t cut = maxQuotedLength;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
        --cut;
    return std::string(text.substr(0, cut)) + "…";
}

PolicyCheck passed(std::string id, std::string summary)
{
    return {std::move(id), true, std::move(summary), {}};
}

PolicyCheck failed(std::string id, std::string summary, std::string remediation)
{
    return {std::move(id), false, std::move(summary), std::move(remediation)};
}

std::string plural(long long n, const std::string &word, const std::string &pluralWord = {})
{
    return std::to_string(n) + " " + (n == 1 ? word : pluralWord.empty() ? word + "s" : pluralWord);
}

const std::string agentRemediation =
    "Make sure the Vigil agent on this device is up to date and running, then report again.";
const std::string unknownRemediation =
    "Run `vigilctl posture` on the device to see why the check could not be determined, fix "
    "that, then report again.";

// The device's check, or the failing PolicyCheck that says why it cannot be used.
struct DeviceCheck
{
    const CheckResult *result = nullptr;
    std::optional<PolicyCheck> failure;
};

DeviceCheck deviceCheck(const posture::PostureSnapshot &snapshot, const std::string &policyId,
                        std::string_view deviceId)
{
    const auto *result = snapshot.find(deviceId);
    if (!result)
        return {nullptr, failed(policyId,
                                "The device did not report its " + std::string(deviceId) + " check",
                                agentRemediation)};
    return {result, std::nullopt};
}

PolicyCheck unknownOnDevice(const std::string &id, const std::string &what,
                            const CheckResult &result)
{
    const auto &reason = !result.reason.empty() ? result.reason : result.summary;
    return failed(id,
                  what + " could not be determined on the device: " +
                      (reason.empty() ? std::string("no reason given") : clip(reason)),
                  unknownRemediation);
}

PolicyCheck malformedDetails(const std::string &id, const CheckResult &result,
                             const std::string &detail, const std::string &expected)
{
    return failed(id,
                  "The device's " + result.id + " check has no valid " + detail + " (expected " +
                      expected + ")",
                  agentRemediation);
}

const json *detail(const CheckResult &result, std::string_view name)
{
    if (!result.details.is_object())
        return nullptr;
    const auto it = result.details.find(name);
    return it == result.details.end() ? nullptr : &*it;
}

// A non-negative integer that fits in long long.
std::optional<long long> count(const json *value)
{
    if (!value)
        return std::nullopt;
    if (value->is_number_unsigned()) {
        const auto n = value->get<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(std::numeric_limits<long long>::max()))
            return std::nullopt;
        return static_cast<long long>(n);
    }
    if (value->is_number_integer() && value->get<std::int64_t>() >= 0)
        return value->get<std::int64_t>();
    return std::nullopt;
}

std::optional<std::string> text(const json *value)
{
    if (!value || !value->is_string())
        return std::nullopt;
    return value->get<std::string>();
}

long long daysSince(TimePoint then, TimePoint now)
{
    // In seconds: a difference of nanosecond time points near both ends of their range
    // overflows. A time ahead of the verifier's clock (device clock skew) counts as "today".
    const auto seconds = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch() -
                         std::chrono::floor<std::chrono::seconds>(then).time_since_epoch();
    return std::max<long long>(0, std::chrono::floor<std::chrono::days>(seconds).count());
}

// The package manager the device names, if it is one we know the commands of. Device text is
// never echoed as a command to run.
std::optional<posture::PackageManager> packageManager(const CheckResult &result)
{
    const auto name = text(detail(result, "package_manager"));
    if (!name)
        return std::nullopt;
    for (const auto manager : {posture::PackageManager::Apt, posture::PackageManager::Dnf,
                               posture::PackageManager::Zypper, posture::PackageManager::Pacman})
        if (posture::toString(manager) == *name)
            return manager;
    return std::nullopt;
}

std::string upgradeCommand(const CheckResult &result)
{
    if (const auto manager = packageManager(result))
        return posture::upgradeCommand(*manager);
    return "your distribution's package manager (for example `sudo apt-get update && sudo "
           "apt-get dist-upgrade` or `sudo dnf upgrade --refresh`)";
}

std::string refreshCommand(const CheckResult &result)
{
    if (const auto manager = packageManager(result))
        return posture::refreshCommand(*manager);
    return "your distribution's package manager (for example `sudo apt-get update` or `sudo dnf "
           "makecache --refresh`)";
}

PolicyCheck assuranceCheck(const Policy &policy, std::string_view assurance)
{
    const std::string id = "assurance";
    const auto level = clip(assurance);
    if (policy.acceptsAssurance(assurance))
        return passed(id, "Device key assurance \"" + level + "\" is accepted");
    return failed(id,
                  "Device key assurance \"" + level + "\" is not accepted (the policy accepts " +
                      joined(policy.acceptedAssurance, ", ") + ")",
                  assurance == "software"
                      ? "This device enrolled without a TPM: enable the TPM 2.0 in the firmware "
                        "settings (often called fTPM, PTT or Security Chip), then enroll the "
                        "device again."
                      : "Enroll the device again.");
}

PolicyCheck osVersionCheck(const Policy &policy, const posture::PostureSnapshot &snapshot)
{
    const std::string id = "os_version";
    const auto device = deviceCheck(snapshot, id, "os");
    if (device.failure)
        return *device.failure;
    const auto &os = *device.result;
    if (os.status == CheckStatus::Unknown)
        return unknownOnDevice(id, "The operating system version", os);
    const auto distribution = text(detail(os, "id"));
    if (!distribution)
        return malformedDetails(id, os, "id", "the os-release ID as a string");
    const auto version = text(detail(os, "version_id"));
    if (!version)
        return malformedDetails(id, os, "version_id", "the os-release VERSION_ID as a string");
    const auto name = text(detail(os, "name")).value_or(*distribution);
    const auto shown = clip(*distribution) + " " + clip(*version);

    const auto minimum = policy.minOsVersion.find(*distribution);
    if (minimum == policy.minOsVersion.end()) {
        if (policy.allowOtherDistributions)
            return passed(id, shown + " (the policy sets no minimum version for " +
                                  clip(*distribution) + ")");
        std::vector<std::string> accepted;
        for (const auto &[listed, min] : policy.minOsVersion)
            accepted.push_back(listed);
        const auto list = accepted.empty() ? std::string("none") : joined(accepted, ", ");
        return failed(
            id, clip(*distribution) + " is not an accepted distribution (accepted: " + list + ")",
            "Use a distribution the organisation accepts (" + list + ").");
    }
    if (posture::compareVersions(*version, minimum->second) < 0)
        return failed(id,
                      shown + " is older than the minimum version " + minimum->second + " for " +
                          minimum->first,
                      "Upgrade " + clip(name) + " to release " + minimum->second +
                          " or later (a release upgrade: follow the distribution's upgrade "
                          "guide).");
    return passed(id, shown + " meets the minimum version " + minimum->second);
}

PolicyCheck securityUpdatesCheck(const Policy &policy, const posture::PostureSnapshot &snapshot,
                                 TimePoint now)
{
    const std::string id = "security_updates";
    const auto device = deviceCheck(snapshot, id, "patch_level");
    if (device.failure)
        return *device.failure;
    const auto &patch = *device.result;
    const long long max = *policy.maxSecurityUpdates;

    auto pending = count(detail(patch, "security_updates"));
    bool classified = true;
    if (!pending && detail(patch, "security_updates") &&
        detail(patch, "security_updates")->is_null()) {
        // pacman does not tell security updates apart; every pending update then counts, which
        // can only over-count.
        if (const auto reason = text(detail(patch, "security_updates_unknown_reason"));
            reason && count(detail(patch, "pending_updates"))) {
            pending = count(detail(patch, "pending_updates"));
            classified = false;
        }
    }
    if (!pending) {
        if (patch.status == CheckStatus::Unknown)
            return unknownOnDevice(id, "Pending security updates", patch);
        return malformedDetails(id, patch, "security_updates", "a count of pending updates");
    }

    const bool patches = text(detail(patch, "security_updates_unit")) == "patches";
    const auto kind = !classified ? std::string("update")
                      : patches   ? std::string("security patch")
                                  : std::string("security update");
    const auto kinds = *pending == 1 ? kind : patches && classified ? kind + "es" : kind + "s";
    const std::string allowed = "the policy allows at most " + std::to_string(max);
    if (*pending > max) {
        std::string summary = std::to_string(*pending) + " " + kinds + " pending (" + allowed + ")";
        if (!classified)
            summary += "; the package manager does not mark security updates, so every update "
                       "counts";
        return failed(id, summary,
                      "Install the " + std::to_string(*pending) + " pending " + kinds + ": " +
                          upgradeCommand(patch));
    }

    // Nothing (or little enough) pending, according to lists that may be too old to show what
    // was published since.
    const auto *refresh = detail(patch, "last_refresh");
    if (!refresh || (!refresh->is_null() && !refresh->is_string()))
        return malformedDetails(id, patch, "last_refresh", "an RFC 3339 UTC time or null");
    if (refresh->is_null())
        return failed(id,
                      "When the package lists were last refreshed is unknown on the device; "
                      "pending security updates may be missing",
                      "Refresh the package lists: " + refreshCommand(patch));
    const auto refreshed = protocol::parseRfc3339(refresh->get<std::string>());
    if (!refreshed)
        return malformedDetails(id, patch, "last_refresh", "an RFC 3339 UTC time or null");
    const auto age = daysSince(*refreshed, now);
    if (age > maxPackageListAgeDays)
        return failed(id,
                      "Package lists last refreshed " + plural(age, "day") +
                          " ago; pending security updates may be missing",
                      "Refresh the package lists: " + refreshCommand(patch));
    if (*pending == 0)
        return passed(id, classified ? "No security updates pending" : "No updates pending");
    return passed(id, std::to_string(*pending) + " " + kinds + " pending (" + allowed + ")");
}

PolicyCheck updateAgeCheck(const Policy &policy, const posture::PostureSnapshot &snapshot,
                           TimePoint now)
{
    const std::string id = "update_age";
    const auto device = deviceCheck(snapshot, id, "patch_level");
    if (device.failure)
        return *device.failure;
    const auto &patch = *device.result;
    const auto *last = detail(patch, "last_upgrade");
    if (!last || (!last->is_null() && !last->is_string()))
        return malformedDetails(id, patch, "last_upgrade", "an RFC 3339 UTC time or null");
    if (last->is_null()) {
        std::string summary = "When updates were last installed is unknown on the device";
        if (const auto note = text(detail(patch, "last_upgrade_note")))
            summary += ": " + clip(*note);
        return failed(id, summary, "Install the available updates: " + upgradeCommand(patch));
    }
    const auto upgraded = protocol::parseRfc3339(last->get<std::string>());
    if (!upgraded)
        return malformedDetails(id, patch, "last_upgrade", "an RFC 3339 UTC time or null");
    const auto days = daysSince(*upgraded, now);
    const auto ago = days == 0 ? std::string("today") : plural(days, "day") + " ago";
    if (days > *policy.maxDaysSinceUpdate)
        return failed(id,
                      "Updates last installed " + ago + " (the policy allows at most " +
                          plural(*policy.maxDaysSinceUpdate, "day") + ")",
                      "Install the available updates: " + upgradeCommand(patch));
    return passed(id, "Updates last installed " + ago);
}

PolicyCheck rebootCheck(const posture::PostureSnapshot &snapshot)
{
    const std::string id = "reboot_required";
    const auto device = deviceCheck(snapshot, id, "patch_level");
    if (device.failure)
        return *device.failure;
    const auto &patch = *device.result;
    const auto *required = detail(patch, "reboot_required");
    if (!required || (!required->is_null() && !required->is_boolean()))
        return malformedDetails(id, patch, "reboot_required", "true, false or null");
    if (required->is_null()) {
        auto reason = text(detail(patch, "kernel_check_unknown_reason"));
        if (!reason && patch.status == CheckStatus::Unknown && !patch.reason.empty())
            reason = patch.reason;
        return failed(id,
                      "Whether a reboot is required could not be determined on the device: " +
                          (reason ? clip(*reason) : std::string("no reason given")),
                      unknownRemediation);
    }
    if (!required->get<bool>())
        return passed(id, "No reboot required");
    std::vector<std::string> reasons;
    if (const auto *list = detail(patch, "reboot_required_reasons"); list && list->is_array())
        for (const auto &reason : *list)
            if (reason.is_string() && reasons.size() < 5)
                reasons.push_back(clip(reason.get<std::string>()));
    return failed(id,
                  reasons.empty() ? std::string("A reboot is required")
                                  : "A reboot is required: " + joined(reasons, "; "),
                  "Restart the computer to run the updated software: sudo systemctl reboot");
}

// Rules whose only threshold is the device's own verdict.
PolicyCheck requiredCheck(const posture::PostureSnapshot &snapshot, const std::string &id,
                          const std::string &what, const std::string &fallbackRemediation)
{
    const auto device = deviceCheck(snapshot, id, id);
    if (device.failure)
        return *device.failure;
    const auto &result = *device.result;
    switch (result.status) {
    case CheckStatus::Pass:
        return passed(id, clip(result.summary));
    case CheckStatus::Fail:
        return failed(id, result.summary.empty() ? what + " failed" : clip(result.summary),
                      result.remediation.empty() ? fallbackRemediation : clip(result.remediation));
    case CheckStatus::Unknown:
        break;
    }
    return unknownOnDevice(id, what, result);
}

std::string duration(long long seconds)
{
    if (seconds % 60 == 0)
        return plural(seconds / 60, "minute");
    return plural(seconds, "second");
}

PolicyCheck screenLockCheck(const Policy &policy, const posture::PostureSnapshot &snapshot)
{
    const std::string id = "screen_lock";
    const auto device = deviceCheck(snapshot, id, id);
    if (device.failure)
        return *device.failure;
    const auto &lock = *device.result;
    if (lock.status == CheckStatus::Unknown)
        return unknownOnDevice(id, "The screen lock", lock);

    const auto limit = policy.maxScreenLockIdleSeconds;
    const std::string settings =
        "GNOME: Settings → Privacy → Screen Lock; KDE: System Settings → Screen Locking; Xfce: "
        "Screensaver preferences";
    const std::string generic =
        limit ? "Turn on automatic screen locking after at most " + duration(*limit) + " idle (" +
                    settings + ")."
              : "Turn on automatic screen locking when the session is idle (" + settings + ").";
    const auto deviceRemediation = [&] {
        return lock.status == CheckStatus::Fail && !lock.remediation.empty()
                   ? clip(lock.remediation)
                   : generic;
    };

    if (const auto *lockdown = detail(lock, "lock_disabled_by_lockdown");
        lockdown && lockdown->is_boolean() && lockdown->get<bool>())
        return failed(id, "Screen locking is disabled by a lockdown setting", deviceRemediation());
    const auto *enabled = detail(lock, "lock_enabled");
    if (!enabled || !enabled->is_boolean())
        return malformedDetails(id, lock, "lock_enabled", "true or false");
    const auto seconds = count(detail(lock, "seconds_to_lock"));
    if (!seconds)
        return malformedDetails(id, lock, "seconds_to_lock", "a non-negative integer");
    if (!enabled->get<bool>())
        return failed(id, "The screen does not lock when the session is idle", deviceRemediation());
    if (*seconds == 0)
        return failed(id, "The screen never locks: the session never goes idle",
                      deviceRemediation());
    const auto after = "The screen locks after " + std::to_string(*seconds) + " s idle";
    if (limit && *seconds > *limit)
        return failed(id, after + " (the policy allows at most " + std::to_string(*limit) + " s)",
                      generic);
    return passed(id, after);
}

PolicyCheck pcrCheck(const Policy &policy, const protocol::PcrValues *pcrs)
{
    const std::string id = "pcrs";
    if (!pcrs)
        return failed(id,
                      "No TPM quote: a device without TPM assurance cannot prove its boot "
                      "measurements",
                      "Enable the TPM 2.0 in the firmware settings, then enroll the device "
                      "again.");
    std::vector<std::string> problems;
    std::vector<std::string> matched;
    for (const auto &[index, accepted] : policy.pcrReferenceValues) {
        const auto pcr = "PCR " + std::to_string(index);
        const auto value = pcrs->find(index);
        if (value == pcrs->end())
            problems.push_back(pcr + " was not quoted");
        else if (value->second.size() != 32)
            problems.push_back(pcr + " is not a SHA-256 value");
        else if (std::find(accepted.begin(), accepted.end(), value->second) == accepted.end())
            problems.push_back(pcr + " is " + toHex(value->second) +
                               ", not a reference value");
        else
            matched.push_back(std::to_string(index));
    }
    if (!problems.empty())
        return failed(id, "Boot measurements differ from the policy's: " + joined(problems, "; "),
                      "The firmware, boot loader, kernel or Secure Boot configuration differs "
                      "from the approved one. If the change was intended (an update), an "
                      "administrator adds the new PCR values to the policy; otherwise restore "
                      "the approved boot components.");
    return passed(id, (matched.size() == 1 ? "PCR " : "PCRs ") + joined(matched, ", ") +
                          (matched.size() == 1 ? " matches" : " match") + " reference values");
}

} // namespace

PolicyVerdict appraise(const Policy &policy, const posture::PostureSnapshot &snapshot,
                       const protocol::PcrValues *pcrs, std::string_view assurance,
                       TimePoint now)
{
    PolicyVerdict verdict;
    auto &checks = verdict.checks;
    checks.push_back(assuranceCheck(policy, assurance));
    if (policy.checksOsVersion())
        checks.push_back(osVersionCheck(policy, snapshot));
    if (policy.maxSecurityUpdates)
        checks.push_back(securityUpdatesCheck(policy, snapshot, now));
    if (policy.maxDaysSinceUpdate)
        checks.push_back(updateAgeCheck(policy, snapshot, now));
    if (!policy.allowRebootRequired)
        checks.push_back(rebootCheck(snapshot));
    if (policy.requireDiskEncryption)
        checks.push_back(requiredCheck(
            snapshot, "disk_encryption", "Disk encryption",
            "Store every local volume on a LUKS-encrypted device (full-disk encryption)."));
    if (policy.requireFirewall)
        checks.push_back(requiredCheck(
            snapshot, "firewall", "The firewall",
            "Turn on a host firewall that drops unsolicited inbound traffic (ufw, firewalld or "
            "nftables)."));
    if (policy.requireScreenLock)
        checks.push_back(screenLockCheck(policy, snapshot));
    if (policy.requireSecureBoot)
        checks.push_back(requiredCheck(snapshot, "secure_boot", "Secure Boot",
                                       "Enable Secure Boot in the firmware settings."));
    if (!policy.pcrReferenceValues.empty())
        checks.push_back(pcrCheck(policy, pcrs));
    verdict.compliant = std::all_of(checks.begin(), checks.end(),
                                    [](const PolicyCheck &check) { return check.pass; });
    return verdict;
}

} // namespace vigil::server
