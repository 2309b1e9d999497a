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
        // For an element of a verdict map keyed on the input interface alone (and nothing
        // else in the rule): the element's interface.
        std::string inputInterface;
    };

    struct Rule
    {
        // True when the rule matches only some packets (any match, limit, or a verdict map).
        bool conditional = false;
        // Set on a conditional rule whose one condition is `iifname`/`iif`/`-i` equal to this
        // name (as written, wildcards included); any other match leaves it empty.
        std::string inputInterface;
        // One verdict, or one per element of a verdict map.
        std::vector<Verdict> verdicts;
    };

    // A rule on the input path whose only condition is the input interface and whose verdict
    // is accept, directly or by a jump/goto into a chain that accepts whatever no earlier rule
    // of it took (firewalld's trusted zone, `iifname "eth0" accept`, `-i eth0 -j ACCEPT`).
    // Such an interface is not filtered even when the chain drops everything else.
    // Conservative: a rule narrowed by anything else (port, protocol, address, ct state, mark,
    // set, negation, another interface) never counts, nor does the loopback "lo"; the
    // interface condition of an enclosing jump carries into the chain it jumps to. Earlier
    // rules that take only some packets are not weighed; an earlier interface-wide drop or
    // unconditional verdict is (the accept is then unreachable).
    struct BroadAccept
    {
        std::string chain;     // chain holding the rule with the interface condition
        std::string interface; // "eth0", or a wildcard as written ("eth*", "eth+")
        std::string via;       // accepting chain reached by jump/goto, empty for a direct accept
    };

    struct Evaluation
    {
        // Every packet that no rule explicitly accepts ends in drop or reject.
        bool denies = false;
        // Drop/reject rules that apply to some packets only (reached from the base chain).
        int conditionalDropRules = 0;
        // Filled only when denies: accepts that let every packet of one interface through.
        std::vector<BroadAccept> broadAccepts;
        std::vector<std::string> notes; // missing chains, loops, depth limit
    };

    // nftables allows 16 nested jumps; anything deeper is treated as not filtering.
    static constexpr int maxDepth = 16;

    void addChain(const std::string &name);
    // Adds to the chain, creating it if needed.
    void addRule(const std::string &chain, Rule rule);
    bool hasChain(const std::string &name) const { return m_chains.count(name) != 0; }

    // Follows the base chain and everything it jumps to. A base chain whose traffic falls
    // through to the end gets its policy. When it denies by default, also looks for broad
    // accepts (see BroadAccept).
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
    struct Scan;
    bool scan(const std::string &chain, const std::string &context, int depth, Scan &state) const;

    std::map<std::string, std::vector<Rule>> m_chains;
};

} // namespace vigil::posture
