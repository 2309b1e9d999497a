#pragma once

#include "posture/parsers/filtergraph.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::posture {

// What `nft -j list ruleset` says about inbound filtering.
struct NftRuleset
{
    // A base chain on the input hook of family ip, ip6 or inet.
    struct InputChain
    {
        std::string family;
        std::string table;
        std::string chain;
        std::string policy; // "accept" or "drop"
        // Denies by default and accepts no whole non-loopback interface.
        bool filtered = false;
        int conditionalDropRules = 0;
        std::vector<FilterGraph::BroadAccept> broadAccepts;
    };

    std::vector<std::string> tables; // "inet firewalld", "ip filter"
    std::vector<InputChain> inputChains;
    std::vector<std::string> notes;
    // Some input chain of a family covering IPv4 (ip, inet) / IPv6 (ip6, inet) drops or
    // rejects by default.
    bool ipv4Filtered = false;
    bool ipv6Filtered = false;

    bool hasTable(std::string_view family, std::string_view name) const;
};

struct NftRulesetParse
{
    std::optional<NftRuleset> ruleset;
    std::string error; // set when ruleset is empty
};

// Parses the JSON of `nft -j list ruleset` (schema 1, nft ≥ 0.9). An input chain counts as
// filtered when its policy is drop or every packet no rule accepts meets an unconditional drop
// or reject, following jump, goto and verdict maps; a conditional drop alone does not count.
// An accept of everything arriving on one interface other than "lo" (`iifname "eth0" accept`,
// a goto to a chain ending in accept such as firewalld's trusted zone, or an iifname verdict map
// element) leaves the chain unfiltered: see FilterGraph::BroadAccept.
// Dormant tables are ignored. Any input is accepted; malformed input gives an error.
NftRulesetParse parseNftRuleset(std::string_view json);

} // namespace vigil::posture
