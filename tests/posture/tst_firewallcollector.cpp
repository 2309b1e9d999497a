#include "fixturehost.h"
#include "posture/collectors/firewallcollector.h"

#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <sstream>

using namespace vigil::posture;
using nlohmann::json;
using vigil::test::FixtureHost;
using vigil::test::writeFile;

namespace {

CheckResult collectOn(const FixtureHost &fixture)
{
    FirewallCollector collector;
    const CollectContext context(*fixture.host,
                                 std::chrono::steady_clock::now() + std::chrono::seconds(30));
    return collector.collect(context);
}

const Command nftList{"/usr/sbin/nft", {"-j", "list", "ruleset"}, std::chrono::milliseconds(5000)};

CommandResult exited(int code, std::string out, std::string err = {})
{
    CommandResult result;
    result.outcome = CommandResult::Outcome::Exited;
    result.exitCode = code;
    result.standardOutput = std::move(out);
    result.standardError = std::move(err);
    return result;
}

// An nft ruleset with one input base chain per listed family, each with the given policy.
std::string inputPolicies(const std::vector<std::pair<std::string, std::string>> &chains)
{
    json items = json::array({{{"metainfo", {{"json_schema_version", 1}}}}});
    for (const auto &[family, policy] : chains) {
        items.push_back({{"table", {{"family", family}, {"name", "filter"}}}});
        items.push_back({{"chain",
                          {{"family", family},
                           {"table", "filter"},
                           {"name", "input"},
                           {"type", "filter"},
                           {"hook", "input"},
                           {"prio", 0},
                           {"policy", policy}}}});
        items.push_back({{"rule",
                          {{"family", family},
                           {"table", "filter"},
                           {"chain", "input"},
                           {"expr", json::array({{{"match",
                                                   {{"op", "=="},
                                                    {"left", {{"meta", {{"key", "iifname"}}}}},
                                                    {"right", "lo"}}}},
                                                 {{"accept", nullptr}}})}}}});
    }
    return json({{"nftables", items}}).dump();
}

std::string readFixture(const std::string &relative)
{
    std::ifstream in(vigil::test::fixturesDir() / relative, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// A machine with nft installed and IPv6 on (or off).
struct Machine
{
    QTemporaryDir dir;
    FixtureHost fixture;

    explicit Machine(bool ipv6 = true)
        : fixture(FixtureHost::fromRoot(dir.path().toStdString(), {}, 0))
    {
        writeFile(root(), "/usr/sbin/nft", "");
        writeFile(root(), "/proc/sys/net/ipv6/conf/all/disable_ipv6", ipv6 ? "0\n" : "1\n");
        if (ipv6)
            writeFile(root(), "/proc/net/if_inet6",
                      "00000000000000000000000000000001 01 80 10 80       lo\n");
    }
    std::filesystem::path root() const { return dir.path().toStdString(); }
};

} // namespace

class TestFirewallCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("summary");
        QTest::addColumn<bool>("ipv4");
        QTest::addColumn<bool>("ipv6");
        QTest::newRow("debian12") << "debian12" << CheckStatus::Pass
                                  << "Inbound traffic filtered by nftables" << true << true;
        QTest::newRow("ubuntu2404")
            << "ubuntu2404" << CheckStatus::Pass
            << "Inbound traffic filtered by nftables (ufw enabled)" << true << true;
        QTest::newRow("fedora41") << "fedora41" << CheckStatus::Pass
                                  << "Inbound traffic filtered by nftables (firewalld active)"
                                  << true << true;
        QTest::newRow("arch") << "arch" << CheckStatus::Fail
                              << "Inbound IPv4 and IPv6 traffic is not filtered" << false << false;
    }
    void hosts()
    {
        QFETCH(QString, host);
        QFETCH(CheckStatus, status);
        QFETCH(QString, summary);
        QFETCH(bool, ipv4);
        QFETCH(bool, ipv6);
        const auto result = collectOn(FixtureHost::load(host.toStdString()));
        QCOMPARE(result.id, std::string("firewall"));
        QCOMPARE(result.status, status);
        QCOMPARE(QString::fromStdString(result.summary), summary);
        QCOMPARE(result.details["ipv4_filtered"], json(ipv4));
        QCOMPARE(result.details["ipv6_filtered"], json(ipv6));
        QCOMPARE(result.details["ipv6_disabled"], json(false));
    }

    void hostDetails()
    {
        const auto ubuntu = collectOn(FixtureHost::load("ubuntu2404"));
        QCOMPARE(ubuntu.details["ufw"],
                 json({{"installed", true}, {"enabled", true}, {"default_input_policy", "DROP"}}));
        QCOMPARE(ubuntu.details["nftables"]["input_chains"][0],
                 json({{"family", "ip"},
                       {"table", "filter"},
                       {"chain", "INPUT"},
                       {"policy", "drop"},
                       {"filtered", true},
                       {"conditional_drop_rules", 1}}));
        QCOMPARE(ubuntu.details["iptables_legacy"]["ipv4"], json({{"status", "no_tables"}}));

        const auto fedora = collectOn(FixtureHost::load("fedora41"));
        QCOMPARE(fedora.details["firewalld"], json({{"installed", true},
                                                    {"active", true},
                                                    {"enabled", true},
                                                    {"default_zone", "FedoraWorkstation"}}));

        const auto arch = collectOn(FixtureHost::load("arch"));
        QCOMPARE(arch.details["nftables"], json({{"status", "not_installed"}}));
        QCOMPARE(arch.details["iptables_legacy"]["ipv4"],
                 json({{"status", "read"},
                       {"program", "/usr/bin/iptables-save"},
                       {"input_policy", "ACCEPT"},
                       {"filtered", false},
                       {"conditional_drop_rules", 0}}));
        QCOMPARE(arch.details["iptables_legacy"]["ipv6"]["program"],
                 json("/usr/bin/ip6tables-save"));
        QVERIFY(arch.remediation.find("ufw enable") != std::string::npos);
        QVERIFY(arch.remediation.find("firewalld") != std::string::npos);
    }

    void ipv4OnlyFilteredWithIpv6On()
    {
        Machine machine(true);
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"ip", "drop"}})));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Inbound IPv6 traffic is not filtered (IPv4 "
                                             "filtered by nftables)"));
        QCOMPARE(result.details["ipv4_filtered"], json(true));
        QCOMPARE(result.details["ipv6_filtered"], json(false));
    }

    void ipv4OnlyFilteredWithIpv6Off()
    {
        Machine machine(false);
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"ip", "drop"}})));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary,
                 std::string("Inbound traffic filtered by nftables; IPv6 disabled"));
        QCOMPARE(result.details["ipv6_disabled"], json(true));
    }

    void ipv6OffByMissingIfInet6()
    {
        Machine machine(true);
        std::filesystem::remove(machine.root() / "proc/net/if_inet6");
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"ip", "drop"}})));
        QCOMPARE(collectOn(machine.fixture).status, CheckStatus::Pass);
    }

    void separateFamilyChains()
    {
        Machine machine;
        machine.fixture.commands->add(nftList,
                                      exited(0, inputPolicies({{"ip", "drop"}, {"ip6", "drop"}})));
        QCOMPARE(collectOn(machine.fixture).status, CheckStatus::Pass);
    }

    void acceptOnlyFails()
    {
        Machine machine;
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"inet", "accept"}})));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Inbound IPv4 and IPv6 traffic is not filtered"));
    }

    void interfaceWideAcceptFails_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("firewalld");
        QTest::addColumn<QByteArray>("entry"); // the ipv4 broad_accepts entry
        QTest::newRow("firewalld trusted zone")
            << "firewall/firewalld-trusted.json" << true
            << QByteArray(R"({"family":"ipv4","source":"nftables","table":"inet firewalld",
                "chain":"filter_INPUT_ZONES","interface":"eth0","via":"filter_IN_trusted"})");
        QTest::newRow("iifname accept")
            << "firewall/iifname-accept.json" << false
            << QByteArray(R"({"family":"ipv4","source":"nftables","table":"inet filter",
                "chain":"input","interface":"eth0"})");
    }
    void interfaceWideAcceptFails()
    {
        QFETCH(QString, file);
        QFETCH(bool, firewalld);
        QFETCH(QByteArray, entry);
        Machine machine;
        if (firewalld)
            writeFile(machine.root(), "/usr/sbin/firewalld", "");
        machine.fixture.commands->add(nftList, exited(0, readFixture(file.toStdString())));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary,
                 std::string("Inbound IPv4 and IPv6 traffic is not filtered: everything arriving "
                             "on eth0 is accepted") +
                     (firewalld ? " (firewalld active)" : ""));
        auto ipv6 = json::parse(entry.toStdString());
        ipv6["family"] = "ipv6";
        QCOMPARE(result.details["broad_accepts"],
                 json::array({json::parse(entry.toStdString()), ipv6}));
        QCOMPARE(result.details["ipv4_filtered"], json(false));
        QCOMPARE(result.details["nftables"]["input_chains"][0]["filtered"], json(false));
        QVERIFY(result.remediation.find(firewalld
                                            ? "--change-interface=eth0"
                                            : "iifname \"eth0\" accept") != std::string::npos);
    }

    void narrowAcceptsPass()
    {
        Machine machine;
        machine.fixture.commands->add(nftList,
                                      exited(0, readFixture("firewall/narrow-accepts.json")));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Pass);
        QVERIFY(!result.details.contains("broad_accepts"));
    }

    void legacyInterfaceAcceptFails()
    {
        Machine machine(false);
        std::filesystem::remove(machine.root() / "usr/sbin/nft");
        writeFile(machine.root(), "/proc/net/ip_tables_names", "filter\n");
        writeFile(machine.root(), "/usr/sbin/iptables-legacy-save", "");
        machine.fixture.commands->add(
            {"/usr/sbin/iptables-legacy-save", {"-t", "filter"}},
            exited(0, readFixture("firewall/iface-accept-legacy-iptables-save.txt")));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("Inbound IPv4 traffic is not filtered: everything "
                                             "arriving on eth0 is accepted"));
        QCOMPARE(result.details["broad_accepts"], json::array({{{"family", "ipv4"},
                                                                {"source", "legacy iptables"},
                                                                {"chain", "INPUT"},
                                                                {"interface", "eth0"}}}));
        QCOMPARE(result.details["iptables_legacy"]["ipv4"]["filtered"], json(false));
        QVERIFY(result.remediation.find("-A INPUT -i eth0 -j ACCEPT") != std::string::npos);
    }

    void emptyRulesetFails()
    {
        Machine machine;
        machine.fixture.commands->add(
            nftList, exited(0, R"({"nftables": [{"metainfo": {"json_schema_version": 1}}]})"));
        QCOMPARE(collectOn(machine.fixture).status, CheckStatus::Fail);
    }

    void ufwEnabledButOpen()
    {
        Machine machine;
        writeFile(machine.root(), "/etc/ufw/ufw.conf", "ENABLED=yes\n");
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"inet", "accept"}})));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("ufw is enabled in /etc/ufw/ufw.conf but the running "
                                             "ruleset does not filter inbound IPv4 and IPv6 "
                                             "traffic"));
        QVERIFY(result.remediation.find("ufw reload") != std::string::npos);
    }

    void firewalldEnabledButNotRunning()
    {
        Machine machine;
        writeFile(machine.root(), "/usr/sbin/firewalld", "");
        writeFile(machine.root(), "/etc/systemd/system/multi-user.target.wants/firewalld.service",
                  "");
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"inet", "accept"}})));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, std::string("firewalld is enabled but its ruleset is not loaded; "
                                             "inbound IPv4 and IPv6 traffic is not filtered"));
        QCOMPARE(result.details["firewalld"]["active"], json(false));
    }

    void unknownOutcomes_data()
    {
        QTest::addColumn<int>("outcome");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("output");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QString>("reason");
        QTest::newRow("permission denied")
            << int(CommandResult::Outcome::Exited) << 1 << ""
            << "Operation not permitted (you must be root)\nnetlink: Error: cache initialization "
               "failed: Operation not permitted\n"
            << "reading the nftables ruleset needs root (CAP_NET_ADMIN): /usr/sbin/nft exited "
               "with code 1: Operation not permitted (you must be root)";
        QTest::newRow("timeout") << int(CommandResult::Outcome::TimedOut) << -1 << ""
                                 << ""
                                 << "/usr/sbin/nft timed out after 5000 ms";
        QTest::newRow("other failure")
            << int(CommandResult::Outcome::Exited) << 1 << ""
            << "Error: Could not process rule: No such file or directory\n"
            << "/usr/sbin/nft exited with code 1: Error: Could not process rule: No such file or "
               "directory";
        QTest::newRow("garbage") << int(CommandResult::Outcome::Exited) << 0 << "table inet f {"
                                 << ""
                                 << "unparsable output of /usr/sbin/nft -j list ruleset: not "
                                    "valid JSON";
        QTest::newRow("truncated") << int(CommandResult::Outcome::Exited) << 0
                                   << R"({"nftables": [{"metainfo": {"version": "1.0.6")"
                                   << ""
                                   << "unparsable output of /usr/sbin/nft -j list ruleset: not "
                                      "valid JSON";
    }
    void unknownOutcomes()
    {
        QFETCH(int, outcome);
        QFETCH(int, exitCode);
        QFETCH(QString, output);
        QFETCH(QString, error);
        QFETCH(QString, reason);
        Machine machine;
        CommandResult result;
        result.outcome = CommandResult::Outcome(outcome);
        result.exitCode = exitCode;
        result.standardOutput = output.toStdString();
        result.standardError = error.toStdString();
        machine.fixture.commands->add(nftList, result);
        const auto check = collectOn(machine.fixture);
        QCOMPARE(check.status, CheckStatus::Unknown);
        QCOMPARE(QString::fromStdString(check.reason), reason);
        QCOMPARE(check.details["ipv4_filtered"], json(nullptr));
        QCOMPARE(check.details["nftables"]["status"], json("unknown"));
    }

    void nothingReadable()
    {
        QTemporaryDir dir;
        const auto fixture = FixtureHost::fromRoot(dir.path().toStdString());
        const auto result = collectOn(fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("no firewall ruleset can be read: nft is not installed "
                                            "and no legacy iptables tables are loaded"));
        QVERIFY(fixture.commands->history().empty());
    }

    void legacyFiltersWhereNftIsOpen()
    {
        Machine machine;
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"inet", "accept"}})));
        writeFile(machine.root(), "/proc/net/ip_tables_names", "nat\nfilter\n");
        writeFile(machine.root(), "/proc/net/ip6_tables_names", "filter\n");
        writeFile(machine.root(), "/usr/sbin/iptables-legacy-save", "");
        writeFile(machine.root(), "/usr/sbin/ip6tables-legacy-save", "");
        const std::string dropAll = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n";
        machine.fixture.commands->add({"/usr/sbin/iptables-legacy-save", {"-t", "filter"}},
                                      exited(0, dropAll));
        machine.fixture.commands->add({"/usr/sbin/ip6tables-legacy-save", {"-t", "filter"}},
                                      exited(0, dropAll));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary, std::string("Inbound traffic filtered by legacy iptables"));
    }

    void legacyUnreadableKeepsOpenNftUnknown()
    {
        Machine machine;
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"inet", "accept"}})));
        writeFile(machine.root(), "/proc/net/ip_tables_names", "filter\n");
        writeFile(machine.root(), "/proc/net/ip6_tables_names", "filter\n");
        writeFile(machine.root(), "/usr/sbin/iptables-legacy-save", "");
        writeFile(machine.root(), "/usr/sbin/ip6tables-legacy-save", "");
        for (const char *program :
             {"/usr/sbin/iptables-legacy-save", "/usr/sbin/ip6tables-legacy-save"})
            machine.fixture.commands->add(
                {program, {"-t", "filter"}},
                exited(1, "",
                       "iptables-save v1.8.9 (legacy): Cannot initialize: Permission "
                       "denied (you must be root)\n"));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason,
                 std::string("reading the legacy iptables rules needs root (CAP_NET_ADMIN): "
                             "/usr/sbin/iptables-legacy-save exited with code 1: iptables-save "
                             "v1.8.9 (legacy): Cannot initialize: Permission denied (you must be "
                             "root); reading the legacy ip6tables rules needs root "
                             "(CAP_NET_ADMIN): /usr/sbin/ip6tables-legacy-save exited with code 1: "
                             "iptables-save v1.8.9 (legacy): Cannot initialize: Permission denied "
                             "(you must be root)"));
    }

    void nfTablesIptablesSaveIsNotLegacy()
    {
        Machine machine;
        std::filesystem::remove(machine.root() / "usr/sbin/nft");
        writeFile(machine.root(), "/proc/net/ip_tables_names", "filter\n");
        writeFile(machine.root(), "/proc/net/ip6_tables_names", "filter\n");
        writeFile(machine.root(), "/usr/sbin/iptables-save", "");
        machine.fixture.commands->add(
            {"/usr/sbin/iptables-save", {"-t", "filter"}},
            exited(0, "# Generated by iptables-nft-save v1.8.9 (nf_tables) on Tue Nov 24\n"
                      "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"));
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.details["iptables_legacy"]["ipv4"]["status"], json("unknown"));
    }

    void legacyNamesNeedRoot()
    {
        Machine machine;
        machine.fixture.commands->add(nftList, exited(0, inputPolicies({{"inet", "drop"}})));
        writeFile(machine.root(), "/proc/net/ip_tables_names", "filter\n",
                  std::filesystem::perms::none);
        // An nftables drop already filters, whatever the legacy tables hold.
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Pass);
        if (::geteuid() != 0)
            QCOMPARE(result.details["iptables_legacy"]["ipv4"]["reason"],
                     json("reading /proc/net/ip_tables_names needs root"));
    }
};

QTEST_APPLESS_MAIN(TestFirewallCollector)
#include "tst_firewallcollector.moc"
