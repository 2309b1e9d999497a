#pragma once

// The verifier's policy: what a device must show to be compliant, and the timings of the
// protocol. A JSON file, validated strictly at load so that a typo can never silently disable a
// rule: unknown members, wrong types, out-of-range values and duplicate members are errors that
// point at the entry (RFC 6901 JSON pointer).
//
// The file, with every member at its default (defaultPolicyText() returns exactly this):
//
// {
//   "version": 1,                                // required; no other version is read
//   "accepted_assurance": ["tpm"],               // non-empty subset of "tpm", "software"
//   "report_interval_seconds": 900,              // 60..86400: how often devices report
//   "grace_period_seconds": 300,                 // 0..86400: a report missed by more than
//                                                //   interval + grace makes the device
//                                                //   non-compliant
//   "token_ttl_seconds": 300,                    // 30..600 (the RFC 9068 TTL cap)
//   "nonce_ttl_seconds": 120,                    // 10..3600
//   "os": {
//     "min_version": {"debian": "12", "ubuntu": "22.04", "fedora": "41", "rhel": "9"},
//                                                // os-release ID -> lowest VERSION_ID accepted
//                                                //   (posture::compareVersions order)
//     "other_distributions": "allow"             // "allow" | "deny": IDs not listed above
//   },
//   "patch_level": {
//     "max_security_updates": 0,                 // null (rule off) or 0..100000
//     "max_days_since_update": 30,               // null (rule off) or 0..3650
//     "allow_reboot_required": false             // false: a pending reboot is non-compliant
//   },
//   "disk_encryption": {"required": true},
//   "firewall": {"required": true},
//   "screen_lock": {"required": true, "max_idle_seconds": 900},
//                                                // null (only "locks at all") or 1..86400,
//                                                //   compared with seconds_to_lock
//   "secure_boot": {"required": true},
//   "quote_pcrs": [0, 1, 2, 3, 4, 5, 6, 7],      // SHA-256 PCRs devices quote; 0..23, unique,
//                                                //   must include every index below
//   "pcr_reference_values": {},                  // "0".."23" -> non-empty list of accepted
//                                                //   64-hex SHA-256 values (any case)
//   "users": {                                   // users and MFA (docs/mfa.md)
//     "accepted_factors": ["pin", "otp"],        // non-empty subset of "pin" (the user key
//                                                //   and its PIN), "otp" (a TOTP code)
//     "accepted_key_assurance": ["tpm"],         // non-empty subset of "tpm", "software":
//                                                //   user keys that may enroll and sign in
//     "max_authentication_age_seconds": 28800,   // 300..604800: a sign-in's session lasts
//                                                //   this long
//     "reauthenticate_on": ["unlock", "resume"], // subset of "unlock", "resume": events on
//                                                //   which vigild drops the user's session
//     "warn_before_seconds": 300                 // 0..3600: the tray warns this long before
//                                                //   the session expires
//   }
// }
//
// Every member but "version" may be omitted and takes the default above; an omitted member
// inside "os", "patch_level", "screen_lock"... likewise. Rules that are off produce no check.

#include "core/bytes.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::server {

using TimePoint = std::chrono::system_clock::time_point;

// what(): "<pointer>: <problem>", or just the problem when it concerns the whole document
// (not JSON); loadPolicy puts "<file>: " in front.
class PolicyError : public std::runtime_error
{
public:
    PolicyError(std::string pointer, const std::string &problem, const std::string &file = {});

    // RFC 6901 pointer to the bad entry ("/screen_lock/max_idle_seconds"); "" for the whole
    // document.
    const std::string &pointer() const { return m_pointer; }
    // What is wrong there, without pointer or file.
    const std::string &problem() const { return m_problem; }

private:
    std::string m_pointer;
    std::string m_problem;
};

// The "users" object: which sign-ins count and for how long.
struct UserPolicy
{
    std::vector<std::string> acceptedFactors{"pin", "otp"}; // in this order, unique
    std::vector<std::string> acceptedKeyAssurance{"tpm"};   // "tpm" before "software"
    std::chrono::seconds maxAuthenticationAge{28800};
    std::vector<std::string> reauthenticateOn{"unlock", "resume"}; // in this order, unique
    std::chrono::seconds warnBefore{300};

    bool acceptsFactor(std::string_view factor) const;
    bool acceptsKeyAssurance(std::string_view assurance) const;

    bool operator==(const UserPolicy &) const = default;
};

struct Policy
{
    static constexpr int formatVersion = 1;

    std::vector<std::string> acceptedAssurance{"tpm"}; // sorted, unique
    std::chrono::seconds reportInterval{900};
    std::chrono::seconds gracePeriod{300};
    std::chrono::seconds tokenTtl{300};
    std::chrono::seconds nonceTtl{120};

    // os-release ID -> minimum VERSION_ID.
    std::map<std::string, std::string> minOsVersion{
        {"debian", "12"}, {"fedora", "41"}, {"rhel", "9"}, {"ubuntu", "22.04"}};
    bool allowOtherDistributions = true;

    std::optional<long long> maxSecurityUpdates{0};
    std::optional<long long> maxDaysSinceUpdate{30};
    bool allowRebootRequired = false;

    bool requireDiskEncryption = true;
    bool requireFirewall = true;
    bool requireScreenLock = true;
    std::optional<long long> maxScreenLockIdleSeconds{900};
    bool requireSecureBoot = true;

    std::vector<unsigned> quotePcrs{0, 1, 2, 3, 4, 5, 6, 7}; // ascending
    // PCR index -> accepted 32-byte values. Only indexes in quotePcrs.
    std::map<unsigned, std::vector<Bytes>> pcrReferenceValues;

    UserPolicy users;

    bool acceptsAssurance(std::string_view assurance) const;
    // Whether the os_version check exists: some minimum is listed or others are denied.
    bool checksOsVersion() const { return !minOsVersion.empty() || !allowOtherDistributions; }

    bool operator==(const Policy &) const = default;
};

// Throws PolicyError. Input above 1 MiB or nested deeper than 16 levels is rejected.
Policy parsePolicy(std::string_view jsonText);
// Reads and parses the file; an unreadable file is a PolicyError naming the path.
Policy loadPolicy(const std::filesystem::path &file);

// The policy file `vigil-verifier init` writes: pretty JSON with every member at its default,
// so parsePolicy(defaultPolicyText()) == Policy{}.
std::string defaultPolicyText();

} // namespace vigil::server
