#pragma once

// Verifier policies the client suites share, each named for the verdict it gives any machine.

namespace vigil::test {

// Every rule off: any machine is compliant (only the assurance check remains).
inline constexpr const char *lenientPolicy =
    R"({"version": 1, "accepted_assurance": ["tpm", "software"],
  "os": {"min_version": {}, "other_distributions": "allow"},
  "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                  "allow_reboot_required": true},
  "disk_encryption": {"required": false}, "firewall": {"required": false},
  "screen_lock": {"required": false}, "secure_boot": {"required": false}})";

// No machine is compliant: no distribution is new enough (os_version fails), others are denied.
inline constexpr const char *impossiblePolicy =
    R"({"version": 1, "accepted_assurance": ["tpm", "software"],
  "os": {"min_version": {"debian": "999", "ubuntu": "999", "fedora": "999", "rhel": "999"},
         "other_distributions": "deny"},
  "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                  "allow_reboot_required": true},
  "disk_encryption": {"required": false}, "firewall": {"required": false},
  "screen_lock": {"required": false}, "secure_boot": {"required": false}})";

// As lenient, but only TPM-bound device keys are accepted (the assurance check fails for others).
inline constexpr const char *tpmOnlyPolicy =
    R"({"version": 1, "accepted_assurance": ["tpm"],
  "os": {"min_version": {}, "other_distributions": "allow"},
  "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                  "allow_reboot_required": true},
  "disk_encryption": {"required": false}, "firewall": {"required": false},
  "screen_lock": {"required": false}, "secure_boot": {"required": false}})";

// As lenient, but the screen must lock within 15 minutes (screen_lock fails otherwise, and
// while it is unknown).
inline constexpr const char *screenLockPolicy =
    R"({"version": 1, "accepted_assurance": ["tpm", "software"],
  "os": {"min_version": {}, "other_distributions": "allow"},
  "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                  "allow_reboot_required": true},
  "disk_encryption": {"required": false}, "firewall": {"required": false},
  "screen_lock": {"required": true, "max_idle_seconds": 900}, "secure_boot": {"required": false}})";

} // namespace vigil::test
