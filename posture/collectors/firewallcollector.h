#pragma once

#include "posture/collector.h"

#include <chrono>
#include <string>

namespace vigil::posture {

// "firewall": inbound traffic is filtered for IPv4 and IPv6 (unless IPv6 is off) by the
// ruleset the kernel actually runs — nftables (which includes iptables-nft, ufw and
// firewalld) and legacy iptables. ufw and firewalld configuration is reported, never trusted.
class FirewallCollector final : public Collector
{
public:
    static constexpr std::string_view checkId = "firewall";
    static constexpr std::chrono::milliseconds commandTimeout{5000};

    std::string_view id() const override { return checkId; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
