#include "filtergraph.h"

#include <optional>
#include <set>

namespace vigil::posture {

struct FilterGraph::Walk
{
    std::map<std::string, Outcome> done;
    std::set<std::string> active;
    Evaluation evaluation;
};

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

} // namespace vigil::posture
