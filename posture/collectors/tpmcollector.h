#pragma once

#include "posture/collector.h"

#include <system_error>

namespace vigil::posture {

// Why this process cannot use /dev/tpmrm0, with the fix, for a given open() error.
std::string describeTpmAccessError(std::error_code error);

// TPM presence and version from sysfs, and whether the kernel's resource manager device
// /dev/tpmrm0 can be opened by this process. Pass for a TPM 2.0; a TPM 1.2 or none fails.
class TpmCollector final : public Collector
{
public:
    std::string_view id() const override { return "tpm"; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
