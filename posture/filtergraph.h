#pragma once

#include <map>
#include <string>
#include <vector>

namespace vigil::posture {

// The chains of one packet-filter table reduced to what decides whether inbound traffic is
// filtered by default: which rules match every packet and where their verdicts lead. Shared by
// the nftables and iptables-save parsers so both judge a ruleset the same way.
class FilterGraph
{
public:
    struct Verdict
    {
        // Continue: a non-terminal statement (log, counter, mark). Terminal: the packet leaves
        // the ruleset with a verdict decided elsewhere (queue to userspace).
        enum class Kind
        {
            Continue,
            Accept,
            Drop,
            Return,
            Jump,
            Goto,
            Terminal
        };
        Kind kind = Kind::Continue;
        std::string target; // chain name for Jump and Goto
    };

    struct Rule
    {
        // True when the rule matches only some packets (any match, limit, or a verdict map).
        bool conditional = false;
        // One verdict, or one per element of a verdict map.
        std::vector<Verdict> verdicts;
    };

    struct Evaluation
    {
        // Every packet that no rule explicitly accepts ends in drop or reject.
        bool denies = false;
        // Drop/reject rules that apply to some packets only (reached from the base chain).
        int conditionalDropRules = 0;
        std::vector<std::string> notes; // missing chains, loops, depth limit
    };

    // nftables allows 16 nested jumps; anything deeper is treated as not filtering.
    static constexpr int maxDepth = 16;

    void addChain(const std::string &name);
    // Adds to the chain, creating it if needed.
    void addRule(const std::string &chain, Rule rule);
    bool hasChain(const std::string &name) const { return m_chains.count(name) != 0; }

    // Follows the base chain and everything it jumps to. A base chain whose traffic falls
    // through to the end gets its policy.
    Evaluation evaluate(const std::string &baseChain, bool policyDrops) const;

private:
    enum class Outcome
    {
        Deny,
        Accept,
        FallThrough
    };
    struct Walk;
    Outcome walk(const std::string &chain, int depth, Walk &state) const;

    std::map<std::string, std::vector<Rule>> m_chains;
};

} // namespace vigil::posture
