#include "fixturehost.h"
#include "nftruleset.h"

#include <QTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace vigil::posture;
using nlohmann::json;

namespace {

std::string readFixture(const std::filesystem::path &relative)
{
    std::ifstream in(vigil::test::fixturesDir() / relative, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// A ruleset in nft's JSON shape: one table "t" of the given family, chains given as
// name -> rules (each an array of statements); "input" is the base chain.
json ruleset(const std::string &family, const std::string &policy,
             const std::vector<std::pair<std::string, std::vector<json>>> &chains)
{
    json items = json::array();
    items.push_back({{"metainfo", {{"json_schema_version", 1}}}});
    items.push_back({{"table", {{"family", family}, {"name", "t"}, {"handle", 1}}}});
    for (const auto &[name, rules] : chains) {
        json chain = {{"family", family}, {"table", "t"}, {"name", name}};
        if (name == "input")
            chain.update({{"type", "filter"}, {"hook", "input"}, {"prio", 0}, {"policy", policy}});
        items.push_back({{"chain", chain}});
    }
    for (const auto &[name, rules] : chains)
        for (const auto &expr : rules)
            items.push_back(
                {{"rule", {{"family", family}, {"table", "t"}, {"chain", name}, {"expr", expr}}}});
    return {{"nftables", items}};
}

const json tcp22 = {{"match",
                     {{"op", "=="},
                      {"left", {{"payload", {{"protocol", "tcp"}, {"field", "dport"}}}}},
                      {"right", 22}}}};
const json counter = {{"counter", {{"packets", 0}, {"bytes", 0}}}};
const json acceptV = {{"accept", nullptr}};
const json dropV = {{"drop", nullptr}};
const json returnV = {{"return", nullptr}};
json jump(const std::string &target)
{
    return {{"jump", {{"target", target}}}};
}
json goTo(const std::string &target)
{
    return {{"goto", {{"target", target}}}};
}

NftRuleset parsed(const json &document)
{
    const auto result = parseNftRuleset(document.dump());
    if (!result.ruleset)
        throw std::runtime_error(result.error);
    return *result.ruleset;
}

} // namespace

class TestNftRuleset : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void capturedRulesets_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("ipv4");
        QTest::addColumn<bool>("ipv6");
        QTest::addColumn<int>("inputChains");
        QTest::addColumn<int>("conditionalDrops");
        QTest::newRow("debian12 inet policy drop")
            << "hosts/debian12/commands/firewall/nft-ruleset.json" << true << true << 1 << 1;
        QTest::newRow("ubuntu2404 ufw on iptables-nft")
            << "hosts/ubuntu2404/commands/firewall/nft-ruleset.json" << true << true << 2 << 2;
        QTest::newRow("fedora41 firewalld final reject")
            << "hosts/fedora41/commands/firewall/nft-ruleset.json" << true << true << 1 << 2;
        QTest::newRow("ufw chains with INPUT policy accept")
            << "firewall/ufw-accept-nft.json" << false << false << 1 << 1;
        QTest::newRow("tailscale only")
            << "firewall/tailscale-nft.json" << false << false << 1 << 1;
        QTest::newRow("vmaps and a final drop") << "firewall/vmap.json" << true << true << 1 << 1;
    }
    void capturedRulesets()
    {
        QFETCH(QString, file);
        QFETCH(bool, ipv4);
        QFETCH(bool, ipv6);
        QFETCH(int, inputChains);
        QFETCH(int, conditionalDrops);
        const auto result = parseNftRuleset(readFixture(file.toStdString()));
        QVERIFY2(result.ruleset, result.error.c_str());
        QCOMPARE(result.ruleset->ipv4Filtered, ipv4);
        QCOMPARE(result.ruleset->ipv6Filtered, ipv6);
        QCOMPARE(int(result.ruleset->inputChains.size()), inputChains);
        int drops = 0;
        for (const auto &chain : result.ruleset->inputChains)
            drops += chain.conditionalDropRules;
        QCOMPARE(drops, conditionalDrops);
        QVERIFY(result.ruleset->notes.empty());
    }

    void firewalldTableAndChain()
    {
        const auto result =
            parseNftRuleset(readFixture("hosts/fedora41/commands/firewall/nft-ruleset.json"));
        QVERIFY(result.ruleset);
        QVERIFY(result.ruleset->hasTable("inet", "firewalld"));
        QVERIFY(!result.ruleset->hasTable("ip", "firewalld"));
        const auto &chain = result.ruleset->inputChains.at(0);
        QCOMPARE(chain.family, std::string("inet"));
        QCOMPARE(chain.table, std::string("firewalld"));
        QCOMPARE(chain.chain, std::string("filter_INPUT"));
        QCOMPARE(chain.policy, std::string("accept"));
        QVERIFY(chain.filtered);
    }

    void ubuntuChainsPerFamily()
    {
        const auto result =
            parseNftRuleset(readFixture("hosts/ubuntu2404/commands/firewall/nft-ruleset.json"));
        QVERIFY(result.ruleset);
        QCOMPARE(result.ruleset->inputChains.at(0).family, std::string("ip"));
        QCOMPARE(result.ruleset->inputChains.at(0).chain, std::string("INPUT"));
        QCOMPARE(result.ruleset->inputChains.at(0).policy, std::string("drop"));
        QCOMPARE(result.ruleset->inputChains.at(1).family, std::string("ip6"));
    }

    void familyCoverage_data()
    {
        QTest::addColumn<QString>("family");
        QTest::addColumn<bool>("ipv4");
        QTest::addColumn<bool>("ipv6");
        QTest::newRow("ip") << "ip" << true << false;
        QTest::newRow("ip6") << "ip6" << false << true;
        QTest::newRow("inet") << "inet" << true << true;
        QTest::newRow("netdev is not the input hook") << "netdev" << false << false;
        QTest::newRow("bridge") << "bridge" << false << false;
    }
    void familyCoverage()
    {
        QFETCH(QString, family);
        QFETCH(bool, ipv4);
        QFETCH(bool, ipv6);
        const auto r = parsed(ruleset(family.toStdString(), "drop", {{"input", {}}}));
        QCOMPARE(r.ipv4Filtered, ipv4);
        QCOMPARE(r.ipv6Filtered, ipv6);
    }

    void chainSemantics_data()
    {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<QByteArray>("chains"); // JSON: [[name, [rules…]], …]
        QTest::addColumn<bool>("filtered");
        QTest::addColumn<int>("conditionalDrops");
        const auto row = [](const char *name, const char *policy,
                            const std::vector<std::pair<std::string, std::vector<json>>> &chains,
                            bool filtered, int drops) {
            QTest::newRow(name) << QString::fromLatin1(policy)
                                << QByteArray::fromStdString(json(chains).dump()) << filtered
                                << drops;
        };
        row("policy drop, empty", "drop", {{"input", {}}}, true, 0);
        row("policy accept, empty", "accept", {{"input", {}}}, false, 0);
        row("accept policy, only accept rules", "accept",
            {{"input", {json::array({tcp22, acceptV}), json::array({counter, acceptV})}}}, false,
            0);
        row("unconditional accept before policy drop", "drop",
            {{"input", {json::array({counter, acceptV})}}}, false, 0);
        row("conditional drop only", "accept", {{"input", {json::array({tcp22, dropV})}}}, false,
            1);
        row("final unconditional drop", "accept",
            {{"input", {json::array({tcp22, acceptV}), json::array({counter, dropV})}}}, true, 0);
        row("final reject", "accept", {{"input", {json::array({{{"reject", nullptr}}})}}}, true, 0);
        row("jump to a denying chain", "accept",
            {{"input", {json::array({jump("deny")})}}, {"deny", {json::array({dropV})}}}, true, 0);
        row("goto a denying chain", "accept",
            {{"input", {json::array({goTo("deny")})}}, {"deny", {json::array({dropV})}}}, true, 0);
        row("conditional jump to a denying chain", "accept",
            {{"input", {json::array({tcp22, jump("deny")})}}, {"deny", {json::array({dropV})}}},
            false, 0);
        row("conditional return before the drop", "accept",
            {{"input", {json::array({jump("sub")})}},
             {"sub", {json::array({tcp22, returnV}), json::array({dropV})}}},
            false, 0);
        row("conditional return, then policy drop", "drop",
            {{"input", {json::array({jump("sub")})}},
             {"sub", {json::array({tcp22, returnV}), json::array({dropV})}}},
            true, 0);
        row("jump to an accepting chain", "drop",
            {{"input", {json::array({jump("open")})}}, {"open", {json::array({acceptV})}}}, false,
            0);
        row("jump falls through to a later drop", "accept",
            {{"input", {json::array({jump("sub")}), json::array({dropV})}},
             {"sub", {json::array({tcp22, dropV})}}},
            true, 1);
        row("comment match only", "accept",
            {{"input", {json::array({{{"xt", {{"type", "match"}, {"name", "comment"}}}}, dropV})}}},
            true, 0);
        row("xt REJECT target", "accept",
            {{"input",
              {json::array({counter, {{"xt", {{"type", "target"}, {"name", "REJECT"}}}}})}}},
            true, 0);
        row("limited drop is conditional", "accept",
            {{"input", {json::array({{{"limit", {{"rate", 3}, {"per", "minute"}}}}, dropV})}}},
            false, 1);
        row("queue to userspace ends evaluation", "drop",
            {{"input", {json::array({{{"queue", {{"num", 0}}}}})}}}, false, 0);
        row("inline vmap drop is conditional", "accept",
            {{"input",
              {json::array(
                  {{{"vmap",
                     {{"key", {{"meta", {{"key", "iifname"}}}}},
                      {"data", {{"set", json::array({json::array({"eth0", dropV})})}}}}}}})}}},
            false, 1);
        row("vmap goto a chain that returns", "accept",
            {{"input",
              {json::array(
                   {{{"vmap",
                      {{"key", {{"meta", {{"key", "iifname"}}}}},
                       {"data", {{"set", json::array({json::array({"eth0", goTo("z")})})}}}}}}}),
               json::array({dropV})}},
             {"z", {json::array({tcp22, dropV})}}},
            false, 1);
    }
    void chainSemantics()
    {
        QFETCH(QString, policy);
        QFETCH(QByteArray, chains);
        QFETCH(bool, filtered);
        QFETCH(int, conditionalDrops);
        const auto spec = json::parse(chains.toStdString())
                              .get<std::vector<std::pair<std::string, std::vector<json>>>>();
        const auto r = parsed(ruleset("inet", policy.toStdString(), spec));
        QCOMPARE(r.inputChains.size(), std::size_t(1));
        QCOMPARE(r.inputChains[0].filtered, filtered);
        QCOMPARE(r.ipv4Filtered, filtered);
        QCOMPARE(r.inputChains[0].conditionalDropRules, conditionalDrops);
    }

    void namedVerdictMapDefinedLater()
    {
        auto document = ruleset(
            "inet", "accept",
            {{"input",
              {json::array(
                  {{{"vmap", {{"key", {{"meta", {{"key", "iifname"}}}}}, {"data", "@zones"}}}}})}},
             {"z", {json::array({tcp22, dropV})}}});
        document["nftables"].push_back({{"map",
                                         {{"family", "inet"},
                                          {"table", "t"},
                                          {"name", "zones"},
                                          {"type", "ifname"},
                                          {"map", "verdict"},
                                          {"elem", json::array({json::array({"eth0", jump("z")}),
                                                                json::array({"eth1", dropV})})}}}});
        const auto r = parsed(document);
        QVERIFY(!r.ipv4Filtered);
        QCOMPARE(r.inputChains[0].conditionalDropRules, 2);
    }

    void jumpCycleTerminates()
    {
        const auto r = parsed(ruleset("inet", "accept",
                                      {{"input", {json::array({jump("a")})}},
                                       {"a", {json::array({jump("b")})}},
                                       {"b", {json::array({jump("a")}), json::array({dropV})}}}));
        // A loop is rejected by the kernel; here it only must not hang or count as filtering…
        QCOMPARE(r.notes.size(), std::size_t(1));
        QVERIFY(r.notes[0].find("jump loop through chain a") != std::string::npos);
        // …though b's own final drop is still seen.
        QVERIFY(r.ipv4Filtered);
        const auto r2 =
            parsed(ruleset("inet", "accept", {{"input", {json::array({goTo("input")})}}}));
        QVERIFY(!r2.ipv4Filtered);
        QCOMPARE(r2.notes.size(), std::size_t(1));
    }

    void depthBound()
    {
        std::vector<std::pair<std::string, std::vector<json>>> chains;
        chains.push_back({"input", {json::array({jump("c0")})}});
        for (int i = 0; i < 40; ++i)
            chains.push_back(
                {"c" + std::to_string(i), {json::array({jump("c" + std::to_string(i + 1))})}});
        chains.push_back({"c40", {json::array({dropV})}});
        const auto r = parsed(ruleset("inet", "accept", chains));
        QVERIFY(!r.ipv4Filtered);
        QCOMPARE(r.notes.size(), std::size_t(1));
        QVERIFY(r.notes[0].find("deeper than 16") != std::string::npos);
    }

    void missingJumpTarget()
    {
        const auto r =
            parsed(ruleset("inet", "accept", {{"input", {json::array({jump("gone")})}}}));
        QVERIFY(!r.ipv4Filtered);
        QCOMPARE(r.notes, std::vector<std::string>{"inet t: jump to missing chain gone"});
    }

    void dormantTableIgnored()
    {
        auto document = ruleset("inet", "drop", {{"input", {}}});
        document["nftables"][1]["table"]["flags"] = json::array({"dormant"});
        const auto r = parsed(document);
        QVERIFY(!r.ipv4Filtered);
        QVERIFY(r.inputChains.empty());
        QCOMPARE(r.tables, std::vector<std::string>{"inet t"});
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("error");
        QTest::newRow("empty") << QByteArray() << "not valid JSON";
        QTest::newRow("garbage") << QByteArray("\x01\xffnft>") << "not valid JSON";
        QTest::newRow("truncated")
            << QByteArray::fromStdString(
                   readFixture("hosts/debian12/commands/firewall/nft-ruleset.json").substr(0, 700))
            << "not valid JSON";
        QTest::newRow("array") << QByteArray("[]") << "no \"nftables\" array in the JSON";
        QTest::newRow("object") << QByteArray(R"({"nftables": {}})")
                                << "no \"nftables\" array in the JSON";
        QTest::newRow("empty array")
            << QByteArray(R"({"nftables": []})") << "empty \"nftables\" array";
        QTest::newRow("number element")
            << QByteArray(R"({"nftables": [1]})") << "unexpected element in the \"nftables\" array";
        QTest::newRow("rule without expr")
            << QByteArray(
                   R"({"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c"}}]})")
            << "rule without chain or expressions";
        QTest::newRow("chain without table")
            << QByteArray(R"({"nftables": [{"chain": {"family": "inet", "name": "c"}}]})")
            << "\"chain\" without family or table";
        QTest::newRow("statement not an object")
            << QByteArray(
                   R"({"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [1]}}]})")
            << "malformed statement in a rule of chain c";
    }
    void badInput()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, error);
        const auto result = parseNftRuleset(text.toStdString());
        QVERIFY(!result.ruleset);
        QCOMPARE(QString::fromStdString(result.error), error);
    }

    void everyPrefixIsSafe()
    {
        const auto text = readFixture("hosts/fedora41/commands/firewall/nft-ruleset.json");
        for (std::size_t length = 0; length < text.size(); length += 97) {
            const auto result = parseNftRuleset(std::string_view(text).substr(0, length));
            QVERIFY(!result.ruleset);
        }
        // Same structure, odd types everywhere: must not throw.
        for (
            const char *odd :
            {R"({"nftables": [{"chain": {"family": 1, "table": [], "name": {}}}]})",
             R"({"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"vmap": 3}, {"jump": "x"}, {"xt": 5}]}}]})",
             R"({"nftables": [{"map": {"family": "inet", "table": "t", "name": "m", "map": "verdict", "elem": [1, [2], [3, 4, 5], ["a", 7]]}}]})",
             R"({"nftables": [{"table": {"family": "inet", "name": "t", "flags": 9}}]})"}) {
            (void)parseNftRuleset(odd);
        }
    }
};

QTEST_APPLESS_MAIN(TestNftRuleset)
#include "tst_nftruleset.moc"
