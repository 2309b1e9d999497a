#pragma once

#include "posture/collector.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vigil::posture {

// Whether a reboot is needed to run what is installed: a reboot-required flag file (Debian,
// Ubuntu), or an installed kernel newer than the running one of the same flavour, or the
// running kernel's modules gone.

struct RebootRequirement
{
    std::optional<bool> required; // nullopt: could not be told
    std::vector<std::string> reasons;
    std::string unknownReason;
};

// Also records what it found in `details` (reboot_required, reboot_required_reasons,
// reboot_required_packages, running_kernel, installed_kernels, newest_installed_kernel,
// kernel_check_unknown_reason).
RebootRequirement rebootRequirement(const CollectContext &context, nlohmann::json &details);

} // namespace vigil::posture
