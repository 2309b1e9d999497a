#include "fixturehost.h"
#include "posture/parsers/nftruleset.h"

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
const json ctEstablished = {{"match",
                             {{"op", "in"},
                              {"left", {{"ct", {{"key", "state"}}}}},
                              {"right", json::array({"established", "related"})}}}};
json iif(const std::string &name, const std::string &key = "iifname", const std::string &op = "==")
{
    return {{"match", {{"op", op}, {"left", {{"meta", {{"key", key}}}}}, {"right", name}}}};
}
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
        QTest::newRow("firewalld trusted zone on eth0")
            << "firewall/firewalld-trusted.json" << false << false << 1 << 1;
        QTest::newRow("iifname eth0 accept under policy drop")
            << "firewall/iifname-accept.json" << false << false << 1 << 1;
        QTest::newRow("ct state, lo and ssh accepts under policy drop")
            << "firewall/narrow-accepts.json" << true << true << 1 << 1;
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

    void capturedBroadAccepts_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("chain");
        QTest::addColumn<QString>("interface");
        QTest::addColumn<QString>("via");
        QTest::newRow("firewalld trusted zone") << "firewall/firewalld-trusted.json"
                                                << "filter_INPUT_ZONES"
                                                << "eth0"
                                                << "filter_IN_trusted";
        QTest::newRow("iifname accept") << "firewall/iifname-accept.json"
                                        << "input"
                                        << "eth0"
                                        << "";
    }
    void capturedBroadAccepts()
    {
        QFETCH(QString, file);
        QFETCH(QString, chain);
        QFETCH(QString, interface);
        QFETCH(QString, via);
        const auto result = parseNftRuleset(readFixture(file.toStdString()));
        QVERIFY2(result.ruleset, result.error.c_str());
        const auto &input = result.ruleset->inputChains.at(0);
        QVERIFY(!input.filtered);
        QCOMPARE(input.broadAccepts.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(input.broadAccepts[0].chain), chain);
        QCOMPARE(QString::fromStdString(input.broadAccepts[0].interface), interface);
        QCOMPARE(QString::fromStdString(input.broadAccepts[0].via), via);
    }

    void narrowAcceptsAreNotBroad()
    {
        for (const auto *file : {"firewall/narrow-accepts.json", "firewall/vmap.json",
                                 "hosts/debian12/commands/firewall/nft-ruleset.json",
                                 "hosts/ubuntu2404/commands/firewall/nft-ruleset.json",
                                 "hosts/fedora41/commands/firewall/nft-ruleset.json"}) {
            const auto result = parseNftRuleset(readFixture(file));
            QVERIFY2(result.ruleset, result.error.c_str());
            for (const auto &chain : result.ruleset->inputChains)
                QVERIFY2(chain.broadAccepts.empty(), file);
        }
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
    void interfaceAccepts_data()
    {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<QByteArray>("chains"); // JSON: [[name, [rules…]], …]
        QTest::addColumn<bool>("filtered");
        QTest::addColumn<QString>("broad"); // "chain interface via" of each broad accept, "|"
        const auto row = [](const char *name, const char *policy,
                            const std::vector<std::pair<std::string, std::vector<json>>> &chains,
                            bool filtered, const char *broad) {
            QTest::newRow(name) << QString::fromLatin1(policy)
                                << QByteArray::fromStdString(json(chains).dump()) << filtered
                                << QString::fromLatin1(broad);
        };
        row("iifname accept", "drop", {{"input", {json::array({iif("eth0"), acceptV})}}}, false,
            "input eth0 ");
        row("iif accept with a counter", "drop",
            {{"input", {json::array({iif("eth0", "iif"), counter, acceptV})}}}, false,
            "input eth0 ");
        row("wildcard interface", "drop", {{"input", {json::array({iif("eth*"), acceptV})}}}, false,
            "input eth* ");
        row("loopback accept", "drop", {{"input", {json::array({iif("lo"), acceptV})}}}, true, "");
        row("interface and port", "drop", {{"input", {json::array({iif("eth0"), tcp22, acceptV})}}},
            true, "");
        row("ct state established", "drop", {{"input", {json::array({ctEstablished, acceptV})}}},
            true, "");
        row("negated interface", "drop",
            {{"input", {json::array({iif("eth0", "iifname", "!="), acceptV})}}}, true, "");
        row("two different interfaces", "drop",
            {{"input", {json::array({iif("eth0"), iif("eth1"), acceptV})}}}, true, "");
        row("interface set", "drop",
            {{"input",
              {json::array({{{"match",
                              {{"op", "=="},
                               {"left", {{"meta", {{"key", "iifname"}}}}},
                               {"right", {{"set", json::array({"eth0", "eth1"})}}}}}},
                            acceptV})}}},
            true, "");
        row("goto a chain ending in accept", "accept",
            {{"input", {json::array({iif("eth0"), goTo("trusted")}), json::array({dropV})}},
             {"trusted", {json::array({jump("allow")}), json::array({acceptV})}},
             {"allow", {json::array({tcp22, acceptV})}}},
            false, "input eth0 trusted");
        row("goto a chain ending in a conditional accept", "drop",
            {{"input", {json::array({iif("eth0"), goTo("public")}), json::array({dropV})}},
             {"public", {json::array({tcp22, acceptV})}}},
            true, "");
        row("accept inside a chain jumped to for one interface", "drop",
            {{"input", {json::array({iif("eth0"), jump("zone")})}},
             {"zone", {json::array({tcp22, dropV}), json::array({counter, acceptV})}}},
            false, "input eth0 zone");
        row("interface accept inside an unconditionally jumped chain", "drop",
            {{"input", {json::array({jump("zones")})}},
             {"zones", {json::array({iif("wlan0"), acceptV})}}},
            false, "zones wlan0 ");
        row("interface accept inside a port-specific jump", "drop",
            {{"input", {json::array({tcp22, jump("zones")})}},
             {"zones", {json::array({iif("wlan0"), acceptV})}}},
            true, "");
        row("other interface inside an interface jump", "drop",
            {{"input", {json::array({iif("eth0"), jump("zones")})}},
             {"zones", {json::array({iif("wlan0"), acceptV})}}},
            true, "");
        row("interface dropped first", "drop",
            {{"input", {json::array({iif("eth0"), dropV}), json::array({iif("eth0"), acceptV})}}},
            true, "");
        row("after an unconditional drop", "accept",
            {{"input", {json::array({dropV}), json::array({iif("eth0"), acceptV})}}}, true, "");
        row("vmap element accept", "drop",
            {{"input",
              {json::array(
                  {{{"vmap",
                     {{"key", {{"meta", {{"key", "iifname"}}}}},
                      {"data",
                       {{"set", json::array({json::array({"lo", acceptV}),
                                             json::array({"eth0", goTo("trusted")}),
                                             json::array({"wlan0", goTo("public")})})}}}}}}})}},
             {"trusted", {json::array({acceptV})}},
             {"public", {json::array({tcp22, acceptV})}}},
            false, "input eth0 trusted");
        row("vmap keyed on a port", "drop",
            {{"input",
              {json::array(
                  {{{"vmap",
                     {{"key", {{"payload", {{"protocol", "tcp"}, {"field", "dport"}}}}},
                      {"data", {{"set", json::array({json::array({22, acceptV})})}}}}}}})}}},
            true, "");
        row("vmap beside another match", "drop",
            {{"input",
              {json::array(
                  {tcp22,
                   {{"vmap",
                     {{"key", {{"meta", {{"key", "iifname"}}}}},
                      {"data", {{"set", json::array({json::array({"eth0", acceptV})})}}}}}}})}}},
            true, "");
        row("open chain reports nothing", "accept",
            {{"input", {json::array({iif("eth0"), acceptV})}}}, false, "");
    }
    void interfaceAccepts()
    {
        QFETCH(QString, policy);
        QFETCH(QByteArray, chains);
        QFETCH(bool, filtered);
        QFETCH(QString, broad);
        const auto spec = json::parse(chains.toStdString())
                              .get<std::vector<std::pair<std::string, std::vector<json>>>>();
        const auto r = parsed(ruleset("inet", policy.toStdString(), spec));
        QCOMPARE(r.inputChains.at(0).filtered, filtered);
        QCOMPARE(r.ipv6Filtered, filtered);
        QStringList found;
        for (const auto &accept : r.inputChains[0].broadAccepts)
            found << QString::fromStdString(accept.chain + " " + accept.interface + " " +
                                            accept.via);
        QCOMPARE(found.join(QLatin1Char('|')), broad);
        QVERIFY(r.notes.empty());
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
