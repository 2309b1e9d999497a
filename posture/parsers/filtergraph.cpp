#include "posture/parsers/filtergraph.h"

#include <optional>
#include <set>

namespace vigil::posture {

struct FilterGraph::Walk
{
    std::map<std::string, Outcome> done;
    std::set<std::string> active;
    Evaluation evaluation;
};

struct FilterGraph::Scan
{
    Walk outcomes; // its own memo; the notes repeat evaluate()'s and are dropped
    // Interfaces whose every packet already met a final verdict: later rules never see them.
    std::set<std::string> settled;
    std::set<std::string> active;
    std::vector<BroadAccept> found;
    // Chains jumped to from many places are rescanned per path; the budget bounds crafted input.
    long budget = 100000;
};

namespace {

// The packets one verdict of a rule applies to: "" for all of them, an interface name when the
// rule matches only on the input interface, nullopt when it matches more narrowly.
std::optional<std::string> interfaceCondition(const FilterGraph::Rule &rule,
                                              const FilterGraph::Verdict &verdict)
{
    if (rule.verdicts.size() == 1) {
        if (!rule.conditional)
            return std::string();
        if (!rule.inputInterface.empty())
            return rule.inputInterface;
    }
    if (!verdict.inputInterface.empty())
        return verdict.inputInterface;
    return std::nullopt;
}

} // namespace

void FilterGraph::addChain(const std::string &name)
{
    m_chains[name];
}

void FilterGraph::addRule(const std::string &chain, Rule rule)
{
    m_chains[chain].push_back(std::move(rule));
}

FilterGraph::Evaluation FilterGraph::evaluate(const std::string &baseChain, bool policyDrops) const
{
    Walk state;
    const auto outcome = walk(baseChain, 0, state);
    state.evaluation.denies =
        outcome == Outcome::Deny || (outcome == Outcome::FallThrough && policyDrops);
    if (state.evaluation.denies) {
        Scan broad;
        scan(baseChain, {}, 0, broad);
        state.evaluation.broadAccepts = std::move(broad.found);
        if (broad.budget < 0)
            state.evaluation.notes.push_back("too many jump paths; stopped looking for "
                                             "interface-wide accepts");
    }
    return std::move(state.evaluation);
}

// The outcome for packets that no conditional rule took: Deny only when every one of them is
// dropped. A conditional return (or goto to a chain that falls through) lets some packets back
// to the caller, so a later unconditional drop no longer covers all of them; a conditional
// drop alone (e.g. "ct state invalid drop") filters nothing by default.
FilterGraph::Outcome FilterGraph::walk(const std::string &chain, int depth, Walk &state) const
{
    if (auto it = state.done.find(chain); it != state.done.end())
        return it->second;
    const auto rules = m_chains.find(chain);
    if (rules == m_chains.end()) {
        state.evaluation.notes.push_back("jump to missing chain " + chain);
        return Outcome::FallThrough;
    }
    if (depth > maxDepth) {
        state.evaluation.notes.push_back("jumps nested deeper than " + std::to_string(maxDepth) +
                                         " at chain " + chain);
        return Outcome::FallThrough;
    }
    if (!state.active.insert(chain).second) {
        state.evaluation.notes.push_back("jump loop through chain " + chain);
        return Outcome::FallThrough;
    }

    bool someReturned = false;
    auto deny = [&] { return someReturned ? Outcome::FallThrough : Outcome::Deny; };
    std::optional<Outcome> result;
    for (const auto &rule : rules->second) {
        if (rule.conditional || rule.verdicts.size() != 1) {
            for (const auto &verdict : rule.verdicts) {
                switch (verdict.kind) {
                case Verdict::Kind::Drop:
                    ++state.evaluation.conditionalDropRules;
                    break;
                case Verdict::Kind::Return:
                    someReturned = true;
                    break;
                case Verdict::Kind::Jump:
                    walk(verdict.target, depth + 1, state);
                    break;
                case Verdict::Kind::Goto:
                    if (walk(verdict.target, depth + 1, state) == Outcome::FallThrough)
                        someReturned = true;
                    break;
                default:
                    break;
                }
            }
            continue;
        }
        const auto &verdict = rule.verdicts.front();
        switch (verdict.kind) {
        case Verdict::Kind::Continue:
            break;
        case Verdict::Kind::Accept:
        case Verdict::Kind::Terminal:
            result = Outcome::Accept;
            break;
        case Verdict::Kind::Drop:
            result = deny();
            break;
        case Verdict::Kind::Return:
            result = Outcome::FallThrough;
            break;
        case Verdict::Kind::Jump: {
            const auto inner = walk(verdict.target, depth + 1, state);
            if (inner == Outcome::Deny)
                result = deny();
            else if (inner == Outcome::Accept)
                result = Outcome::Accept;
            break;
        }
        case Verdict::Kind::Goto: {
            const auto inner = walk(verdict.target, depth + 1, state);
            result = inner == Outcome::Deny ? deny() : inner;
            break;
        }
        }
        if (result)
            break;
    }
    state.active.erase(chain);
    const auto outcome = result.value_or(Outcome::FallThrough);
    state.done[chain] = outcome;
    return outcome;
}

// Follows only the rules that apply to every packet of the context ("" for all packets, or one
// input interface), in order, recording accepts of a whole non-loopback interface. Returns true
// when every packet of the context meets a final verdict in the chain.
bool FilterGraph::scan(const std::string &chain, const std::string &context, int depth,
                       Scan &state) const
{
    const auto rules = m_chains.find(chain);
    if (rules == m_chains.end() || depth > maxDepth || !state.active.insert(chain).second)
        return false;
    enum class Effect
    {
        None,
        Accepted,
        Settled,
        Left
    };
    std::set<std::string> left; // interfaces whose packets returned from this chain
    std::optional<bool> end;
    for (const auto &rule : rules->second) {
        for (const auto &verdict : rule.verdicts) {
            if (--state.budget < 0) {
                end = false;
                break;
            }
            const auto condition = interfaceCondition(rule, verdict);
            if (!condition || (!context.empty() && !condition->empty() && *condition != context))
                continue;
            const auto interface = condition->empty() ? context : *condition;
            if (state.settled.count(interface) || left.count(interface))
                continue;
            auto effect = Effect::None;
            std::string via;
            switch (verdict.kind) {
            case Verdict::Kind::Continue:
                break;
            case Verdict::Kind::Accept:
                effect = Effect::Accepted;
                break;
            case Verdict::Kind::Drop:
            case Verdict::Kind::Terminal:
                effect = Effect::Settled;
                break;
            case Verdict::Kind::Return:
                effect = Effect::Left;
                break;
            case Verdict::Kind::Jump:
            case Verdict::Kind::Goto: {
                const auto outcome = walk(verdict.target, depth + 1, state.outcomes);
                if (outcome == Outcome::Accept) {
                    effect = Effect::Accepted;
                    via = verdict.target;
                } else if (outcome == Outcome::Deny ||
                           scan(verdict.target, interface, depth + 1, state)) {
                    effect = Effect::Settled;
                } else if (verdict.kind == Verdict::Kind::Goto) {
                    effect = Effect::Left;
                }
                break;
            }
            }
            if (effect == Effect::Accepted && !interface.empty() && interface != "lo")
                state.found.push_back({chain, interface, via});
            if (effect == Effect::None)
                continue;
            if (interface == context) {
                end = effect != Effect::Left;
                break;
            }
            (effect == Effect::Left ? left : state.settled).insert(interface);
        }
        if (end)
            break;
    }
    state.active.erase(chain);
    return end.value_or(false);
}

} // namespace vigil::posture
