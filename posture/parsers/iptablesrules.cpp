#include "posture/parsers/iptablesrules.h"

#include "posture/parsers/filtergraph.h"

#include <map>
#include <set>

namespace vigil::posture {

namespace {

std::vector<std::string_view> splitLines(std::string_view text)
{
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const auto end = text.find('\n');
        auto line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        lines.push_back(line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

FilterGraph::Verdict targetVerdict(const std::string &target, const std::set<std::string> &chains,
                                   bool isGoto)
{
    using Kind = FilterGraph::Verdict::Kind;
    if (target == "ACCEPT")
        return {Kind::Accept, {}, {}};
    if (target == "DROP" || target == "REJECT")
        return {Kind::Drop, {}, {}};
    if (target == "RETURN")
        return {Kind::Return, {}, {}};
    if (target == "QUEUE" || target == "NFQUEUE")
        return {Kind::Terminal, {}, {}};
    if (chains.count(target))
        return {isGoto ? Kind::Goto : Kind::Jump, target, {}};
    return {Kind::Continue, {}, {}}; // LOG, MARK, … and other non-terminal extensions
}

} // namespace

std::vector<std::string> splitIptablesWords(std::string_view line)
{
    std::vector<std::string> words;
    std::string word;
    bool inWord = false;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '\\' && i + 1 < line.size()) {
            word += line[++i];
            inWord = true;
        } else if (c == '"') {
            quoted = !quoted;
            inWord = true;
        } else if (!quoted && (c == ' ' || c == '\t')) {
            if (inWord)
                words.push_back(std::move(word));
            word.clear();
            inWord = false;
        } else {
            word += c;
            inWord = true;
        }
    }
    if (inWord)
        words.push_back(std::move(word));
    return words;
}

IptablesRulesParse parseIptablesSave(std::string_view text, bool legacyOnly)
{
    const auto lines = splitLines(text);
    bool inFilter = false;
    bool sawFilter = false;
    bool committed = false;
    std::map<std::string, std::string> policies;
    std::set<std::string> chains;
    std::vector<std::pair<std::string, std::vector<std::string>>> ruleLines;

    for (const auto line : lines) {
        if (line.empty())
            continue;
        if (line.front() == '#') {
            if (legacyOnly && line.find("(nf_tables)") != std::string_view::npos)
                return {std::nullopt, "this iptables-save lists the nf_tables ruleset, not the "
                                      "legacy tables"};
            continue;
        }
        if (line.front() == '*') {
            if (inFilter)
                return {std::nullopt, "table filter has no COMMIT"};
            inFilter = line == "*filter";
            sawFilter = sawFilter || inFilter;
            continue;
        }
        if (!inFilter)
            continue;
        if (line == "COMMIT") {
            inFilter = false;
            committed = true;
            continue;
        }
        if (line.front() == ':') {
            const auto words = splitIptablesWords(line.substr(1));
            if (words.size() < 2)
                return {std::nullopt,
                        "malformed chain line \"" + std::string(line.substr(0, 80)) + "\""};
            chains.insert(words[0]);
            policies[words[0]] = words[1];
            continue;
        }
        auto words = splitIptablesWords(line);
        // "-c packets bytes" / "[packets:bytes]" counters come first with iptables-save -c.
        if (!words.empty() && words[0].starts_with("["))
            words.erase(words.begin());
        if (words.size() < 2 || (words[0] != "-A" && words[0] != "--append"))
            return {std::nullopt, "unexpected line \"" + std::string(line.substr(0, 80)) + "\""};
        auto chain = words[1];
        words.erase(words.begin(), words.begin() + 2);
        ruleLines.emplace_back(std::move(chain), std::move(words));
    }
    if (!sawFilter)
        return {std::nullopt, "no filter table in the output"};
    if (inFilter || !committed)
        return {std::nullopt, "table filter has no COMMIT (truncated output?)"};
    if (!policies.count("INPUT"))
        return {std::nullopt, "no INPUT chain in table filter"};

    FilterGraph graph;
    for (const auto &chain : chains)
        graph.addChain(chain);
    int unknownChains = 0;
    for (const auto &[chain, words] : ruleLines) {
        if (!chains.count(chain)) {
            ++unknownChains;
            continue;
        }
        FilterGraph::Rule rule;
        std::optional<FilterGraph::Verdict> verdict;
        // Whether the rule's conditions are the input interface alone (see FilterGraph).
        std::set<std::string> interfaces;
        bool narrowed = false;
        for (std::size_t i = 0; i < words.size(); ++i) {
            const auto &word = words[i];
            if ((word == "-j" || word == "--jump" || word == "-g" || word == "--goto") &&
                i + 1 < words.size()) {
                verdict = targetVerdict(words[i + 1], chains, word == "-g" || word == "--goto");
                break; // what follows are the target's own options
            }
            // A comment is the one match that matches every packet.
            if (word == "-m" && i + 3 < words.size() && words[i + 1] == "comment" &&
                words[i + 2] == "--comment") {
                i += 3;
                continue;
            }
            rule.conditional = true;
            if ((word == "-i" || word == "--in-interface") && i + 1 < words.size()) {
                interfaces.insert(words[++i]);
                continue;
            }
            narrowed = true; // any other match, and "!" negating the next one
        }
        if (!narrowed && interfaces.size() == 1)
            rule.inputInterface = *interfaces.begin();
        if (verdict)
            rule.verdicts.push_back(*verdict);
        graph.addRule(chain, std::move(rule));
    }

    IptablesRules rules;
    rules.inputPolicy = policies["INPUT"];
    const auto evaluation = graph.evaluate("INPUT", rules.inputPolicy == "DROP");
    rules.inputFiltered = evaluation.denies && evaluation.broadAccepts.empty();
    rules.conditionalDropRules = evaluation.conditionalDropRules;
    rules.broadAccepts = evaluation.broadAccepts;
    rules.notes = evaluation.notes;
    if (unknownChains)
        rules.notes.push_back(std::to_string(unknownChains) + " rules in undeclared chains");
    return {std::move(rules), {}};
}

} // namespace vigil::posture
