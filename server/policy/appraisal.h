#pragma once

// Appraisal: a device's posture snapshot (and, for TPM devices, its quoted PCR values) against
// the policy. The verifier applies the policy's thresholds to the snapshot's details itself
// rather than trusting the device's own pass/fail for them, since the device's thresholds are
// its own defaults, not the organisation's.

#include "posture/posturesnapshot.h"
#include "protocol/evidence.h"
#include "server/policy/policy.h"

#include <string>
#include <string_view>
#include <vector>

namespace vigil::server {

struct PolicyCheck
{
    std::string id; // one of the ids below
    bool pass = false;
    std::string summary;     // what was found, for the user and the audit log
    std::string remediation; // what the user does about it; empty when passing
};

struct PolicyVerdict
{
    bool compliant = false; // every check passes
    std::vector<PolicyCheck> checks;
};

// One check per rule the policy enables, in this order:
//   assurance        always: `assurance` is in accepted_assurance
//   os_version       min_version listed or other_distributions "deny": details id, version_id
//   security_updates max_security_updates set: details security_updates (pending_updates where
//                    the package manager does not classify security updates), and package
//                    lists no older than the device's max_list_age_days
//   update_age       max_days_since_update set: details last_upgrade against `now`
//   reboot_required  allow_reboot_required false: details reboot_required
//   disk_encryption, firewall, secure_boot   required: the device's own status
//   screen_lock      required: details lock_enabled, seconds_to_lock against max_idle_seconds
//   pcrs             pcr_reference_values not empty: every listed PCR quoted, and its value
//                    among the accepted ones; `pcrs` null (software assurance) fails
// A check the device could not determine (unknown) fails with the device's reason in the
// summary; a check the device reports but without the details a rule needs, or with mistyped
// ones, fails saying so. Never throws for anything in the snapshot.
PolicyVerdict appraise(const Policy &policy, const posture::PostureSnapshot &snapshot,
                       const protocol::PcrValues *pcrs, std::string_view assurance,
                       TimePoint now);

} // namespace vigil::server
