#pragma once

#include "posture/collector.h"

namespace vigil::posture {

// Distribution (os-release, then lsb-release and distribution-specific files), kernel release,
// architecture, hostname and uptime. Pass once the distribution and its version are known:
// whether that version is acceptable is the verifier's policy.
class OsCollector final : public Collector
{
public:
    std::string_view id() const override { return "os"; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
