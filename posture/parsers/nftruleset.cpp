#include "posture/parsers/nftruleset.h"

#include "posture/parsers/filtergraph.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace vigil::posture {

namespace {

using nlohmann::json;

// Never throws, unlike json::value() on a field of another type.
std::string stringField(const json &object, const char *name)
{
    if (!object.is_object())
        return {};
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Statements that neither match packets nor end evaluation: a rule made of these and a
// verdict applies to every packet reaching it.
bool isPassiveStatement(const std::string &key, const json &value)
{
    static const std::set<std::string> passive = {"counter", "log", "mangle", "notrack"};
    if (key == "xt") {
        // iptables-nft keeps "-m comment" and non-terminal targets (LOG, MARK) as xt blobs.
        const auto type = stringField(value, "type");
        const auto name = stringField(value, "name");
        return (type == "match" && name == "comment") || (type == "target" && name != "REJECT");
    }
    return passive.count(key) != 0;
}

std::optional<FilterGraph::Verdict> verdictOf(const std::string &key, const json &value)
{
    using Kind = FilterGraph::Verdict::Kind;
    if (key == "accept")
        return FilterGraph::Verdict{Kind::Accept, {}, {}};
    if (key == "drop" || key == "reject")
        return FilterGraph::Verdict{Kind::Drop, {}, {}};
    if (key == "return")
        return FilterGraph::Verdict{Kind::Return, {}, {}};
    if (key == "queue")
        return FilterGraph::Verdict{Kind::Terminal, {}, {}};
    if (key == "continue")
        return FilterGraph::Verdict{Kind::Continue, {}, {}};
    if (key == "xt" && stringField(value, "type") == "target" &&
        stringField(value, "name") == "REJECT")
        return FilterGraph::Verdict{Kind::Drop, {}, {}};
    if ((key == "jump" || key == "goto") && value.is_object()) {
        const auto target = value.find("target");
        if (target != value.end() && target->is_string())
            return FilterGraph::Verdict{
                key == "jump" ? Kind::Jump : Kind::Goto, target->get<std::string>(), {}};
    }
    return std::nullopt;
}

// {"accept": null} or {"jump": {"target": "x"}} as found in map elements.
std::optional<FilterGraph::Verdict> verdictOfObject(const json &value)
{
    if (!value.is_object() || value.size() != 1)
        return std::nullopt;
    return verdictOf(value.begin().key(), value.begin().value());
}

// Map elements are [key, verdict] pairs; keys with options are {"elem": {"val": …}}.
void collectMapVerdicts(const json &elements, std::vector<FilterGraph::Verdict> &out)
{
    if (!elements.is_array())
        return;
    for (const auto &element : elements) {
        if (element.is_array() && element.size() == 2) {
            if (auto verdict = verdictOfObject(element[1])) {
                // Kept only when the map is keyed on the input interface (see the rule).
                const auto *key = &element[0];
                if (key->is_object() && key->contains("elem") && (*key)["elem"].is_object() &&
                    (*key)["elem"].contains("val"))
                    key = &(*key)["elem"]["val"];
                if (key->is_string())
                    verdict->inputInterface = key->get<std::string>();
                out.push_back(*verdict);
            }
        }
    }
}

// {"meta": {"key": "iifname"}} or "iif": the input interface.
bool isInputInterface(const json &expression)
{
    if (!expression.is_object())
        return false;
    const auto meta = expression.find("meta");
    if (meta == expression.end() || !meta->is_object())
        return false;
    const auto key = stringField(*meta, "key");
    return key == "iifname" || key == "iif";
}

// `iifname "eth0"`: the interface name; nullopt for any other match (negations, sets too).
std::optional<std::string> inputInterfaceMatch(const json &match)
{
    if (stringField(match, "op") != "==")
        return std::nullopt;
    const auto left = match.find("left");
    const auto right = match.find("right");
    if (left == match.end() || right == match.end() || !isInputInterface(*left) ||
        !right->is_string() || right->get<std::string>().empty())
        return std::nullopt;
    return right->get<std::string>();
}

void clearInterfaces(std::vector<FilterGraph::Verdict> &verdicts, std::size_t from = 0)
{
    for (auto i = from; i < verdicts.size(); ++i)
        verdicts[i].inputInterface.clear();
}

struct TableKey
{
    std::string family;
    std::string name;
    auto operator<=>(const TableKey &) const = default;
};

bool isDormant(const json &table)
{
    const auto flags = table.find("flags");
    if (flags == table.end())
        return false;
    if (flags->is_string())
        return flags->get<std::string>() == "dormant";
    if (flags->is_array())
        for (const auto &flag : *flags)
            if (flag.is_string() && flag.get<std::string>() == "dormant")
                return true;
    return false;
}

// Rules may name maps that appear later in the array, so verdict maps are resolved after
// every object has been read.
struct PendingRule
{
    TableKey table;
    std::string chain;
    FilterGraph::Rule rule;
    std::vector<std::string> mapNames;
    // The rule's only condition is a verdict map keyed on the input interface.
    bool interfaceMap = false;
};

// A rule's statements, read one by one: its verdicts, and whether its conditions are the
// input interface alone (see FilterGraph).
class RuleStatements
{
public:
    explicit RuleStatements(PendingRule &pending) : m_pending(pending) {}

    void add(const std::string &key, const json &value)
    {
        if (key == "vmap") {
            addVerdictMap(value);
        } else if (auto verdict = verdictOf(key, value)) {
            m_verdicts.push_back(*verdict);
        } else if (!isPassiveStatement(key, value)) {
            m_pending.rule.conditional = true;
            const auto interface = key == "match" ? inputInterfaceMatch(value) : std::nullopt;
            if (interface)
                m_interfaces.insert(*interface);
            else
                m_narrowed = true;
        }
    }

    void finish()
    {
        if (!m_narrowed && !m_hasMap && m_interfaces.size() == 1)
            m_pending.rule.inputInterface = *m_interfaces.begin();
        m_pending.interfaceMap = m_hasMap && !m_narrowed && m_interfaces.empty();
        if (!m_pending.interfaceMap)
            clearInterfaces(m_verdicts);
        m_pending.rule.verdicts = std::move(m_verdicts);
    }

private:
    void addVerdictMap(const json &value)
    {
        m_pending.rule.conditional = true;
        const auto mapKey = value.is_object() ? value.find("key") : value.end();
        m_narrowed = m_narrowed || m_hasMap || mapKey == value.end() || !isInputInterface(*mapKey);
        m_hasMap = true;
        const auto data = value.is_object() ? value.find("data") : value.end();
        if (data == value.end())
            return;
        if (data->is_string() && data->get<std::string>().starts_with("@"))
            m_pending.mapNames.push_back(data->get<std::string>().substr(1));
        else if (data->is_object() && data->contains("set"))
            collectMapVerdicts((*data)["set"], m_verdicts);
    }

    PendingRule &m_pending;
    std::vector<FilterGraph::Verdict> m_verdicts;
    std::set<std::string> m_interfaces;
    bool m_narrowed = false;
    bool m_hasMap = false;
};

// Reads the "nftables" array object by object, then builds each table's chains and evaluates
// its input hooks.
class RulesetReader
{
public:
    // An error text, or nullopt once the object has been taken in (or ignored).
    std::optional<std::string> read(const std::string &kind, const json &body);
    NftRuleset finish();

private:
    struct BaseChain
    {
        TableKey table;
        std::string name;
        std::string policy;
    };

    std::optional<std::string> readChain(const TableKey &table, const json &body);
    void readMap(const TableKey &table, const json &body);
    std::optional<std::string> readRule(const TableKey &table, const json &body);
    void resolveVerdictMaps();
    void evaluateInputChains();

    std::map<TableKey, FilterGraph> m_graphs;
    std::map<TableKey, std::map<std::string, std::vector<FilterGraph::Verdict>>> m_namedMaps;
    std::set<TableKey> m_dormant;
    std::vector<BaseChain> m_inputChains;
    std::vector<PendingRule> m_rules;
    NftRuleset m_ruleset;
};

std::optional<std::string> RulesetReader::read(const std::string &kind, const json &body)
{
    if (kind == "metainfo")
        return std::nullopt;
    const TableKey table{stringField(body, "family"),
                         kind == "table" ? stringField(body, "name") : stringField(body, "table")};
    if (table.family.empty() || table.name.empty())
        return "\"" + kind + "\" without family or table";
    if (kind == "table") {
        m_ruleset.tables.push_back(table.family + " " + table.name);
        if (isDormant(body))
            m_dormant.insert(table);
    } else if (kind == "chain") {
        return readChain(table, body);
    } else if (kind == "map") {
        readMap(table, body);
    } else if (kind == "rule") {
        return readRule(table, body);
    }
    // set, element, counter, ct helper, flowtable, …: nothing to decide on.
    return std::nullopt;
}

std::optional<std::string> RulesetReader::readChain(const TableKey &table, const json &body)
{
    const auto name = stringField(body, "name");
    if (name.empty())
        return "chain without a name";
    m_graphs[table].addChain(name);
    if (stringField(body, "hook") == "input" &&
        (table.family == "ip" || table.family == "ip6" || table.family == "inet")) {
        auto policy = stringField(body, "policy");
        m_inputChains.push_back({table, name, policy.empty() ? "accept" : policy});
    }
    return std::nullopt;
}

void RulesetReader::readMap(const TableKey &table, const json &body)
{
    if (stringField(body, "map") != "verdict")
        return;
    auto &verdicts = m_namedMaps[table][stringField(body, "name")];
    if (const auto elements = body.find("elem"); elements != body.end())
        collectMapVerdicts(*elements, verdicts);
}

std::optional<std::string> RulesetReader::readRule(const TableKey &table, const json &body)
{
    const auto chain = stringField(body, "chain");
    const auto expr = body.find("expr");
    if (chain.empty() || expr == body.end() || !expr->is_array())
        return "rule without chain or expressions";
    PendingRule pending{table, chain, {}, {}, false};
    RuleStatements statements(pending);
    for (const auto &statement : *expr) {
        if (!statement.is_object() || statement.size() != 1)
            return "malformed statement in a rule of chain " + chain;
        statements.add(statement.begin().key(), statement.begin().value());
    }
    statements.finish();
    m_rules.push_back(std::move(pending));
    return std::nullopt;
}

void RulesetReader::resolveVerdictMaps()
{
    for (auto &pending : m_rules) {
        for (const auto &name : pending.mapNames) {
            const auto &maps = m_namedMaps[pending.table];
            if (const auto it = maps.find(name); it != maps.end()) {
                const auto from = pending.rule.verdicts.size();
                pending.rule.verdicts.insert(pending.rule.verdicts.end(), it->second.begin(),
                                             it->second.end());
                if (!pending.interfaceMap)
                    clearInterfaces(pending.rule.verdicts, from);
            }
        }
        m_graphs[pending.table].addRule(pending.chain, std::move(pending.rule));
    }
}

void RulesetReader::evaluateInputChains()
{
    for (const auto &base : m_inputChains) {
        if (m_dormant.count(base.table))
            continue;
        const auto evaluation = m_graphs[base.table].evaluate(base.name, base.policy == "drop");
        NftRuleset::InputChain chain{base.table.family,
                                     base.table.name,
                                     base.name,
                                     base.policy,
                                     evaluation.denies && evaluation.broadAccepts.empty(),
                                     evaluation.conditionalDropRules,
                                     evaluation.broadAccepts};
        for (const auto &note : evaluation.notes)
            m_ruleset.notes.push_back(base.table.family + " " + base.table.name + ": " + note);
        if (chain.filtered) {
            if (chain.family != "ip6")
                m_ruleset.ipv4Filtered = true;
            if (chain.family != "ip")
                m_ruleset.ipv6Filtered = true;
        }
        m_ruleset.inputChains.push_back(std::move(chain));
    }
}

NftRuleset RulesetReader::finish()
{
    resolveVerdictMaps();
    evaluateInputChains();
    return std::move(m_ruleset);
}

} // namespace

bool NftRuleset::hasTable(std::string_view family, std::string_view name) const
{
    const auto wanted = std::string(family) + " " + std::string(name);
    for (const auto &table : tables)
        if (table == wanted)
            return true;
    return false;
}

NftRulesetParse parseNftRuleset(std::string_view text)
{
    const auto document = json::parse(text.begin(), text.end(), nullptr, false);
    if (document.is_discarded())
        return {std::nullopt, "not valid JSON"};
    if (!document.is_object() || !document.contains("nftables") || !document["nftables"].is_array())
        return {std::nullopt, "no \"nftables\" array in the JSON"};
    if (document["nftables"].empty())
        return {std::nullopt, "empty \"nftables\" array"};

    RulesetReader reader;
    for (const auto &item : document["nftables"]) {
        if (!item.is_object() || item.size() != 1)
            return {std::nullopt, "unexpected element in the \"nftables\" array"};
        const auto &kind = item.begin().key();
        const auto &body = item.begin().value();
        if (!body.is_object())
            return {std::nullopt, "\"" + kind + "\" is not an object"};
        if (auto error = reader.read(kind, body))
            return {std::nullopt, std::move(*error)};
    }
    return {reader.finish(), {}};
}

} // namespace vigil::posture
