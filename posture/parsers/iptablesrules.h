#pragma once

#include "posture/parsers/filtergraph.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::posture {

// The filter table of `iptables-save -t filter` (or ip6tables-save) as far as inbound
// filtering goes.
struct IptablesRules
{
    std::string inputPolicy; // "ACCEPT", "DROP"
    // Policy DROP, or every packet no rule accepts meets an unconditional DROP/REJECT (following
    // jumps and gotos to user chains); a conditional DROP alone does not count. An ACCEPT of
    // everything on one interface other than lo (`-A INPUT -i eth0 -j ACCEPT`, or a jump to a
    // chain ending in ACCEPT) leaves INPUT unfiltered: see FilterGraph::BroadAccept.
    bool inputFiltered = false;
    int conditionalDropRules = 0;
    std::vector<FilterGraph::BroadAccept> broadAccepts;
    std::vector<std::string> notes;
};

struct IptablesRulesParse
{
    std::optional<IptablesRules> rules;
    std::string error; // set when rules is empty
};

// Parses iptables-save text. Output of the nf_tables variant ("(nf_tables)" in its header) is
// refused when legacyOnly is set: it shows the nftables ruleset, not the legacy tables.
IptablesRulesParse parseIptablesSave(std::string_view text, bool legacyOnly = true);

// Splits one iptables-save rule line into words the way iptables-restore does: double quotes
// group, backslash escapes the next character.
std::vector<std::string> splitIptablesWords(std::string_view line);

} // namespace vigil::posture
