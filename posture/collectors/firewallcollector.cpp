#include "posture/collectors/firewallcollector.h"

#include "core/text.h"
#include "posture/parsers/filtergraph.h"
#include "posture/parsers/iptablesrules.h"
#include "posture/parsers/nftruleset.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <vector>

namespace vigil::posture {

namespace {

using nlohmann::json;

// What one ruleset source says about one address family.
struct Source
{
    enum class State
    {
        Absent,
        Read,
        Unknown
    };
    State state = State::Absent;
    bool filtered = false;
    std::string reason; // for Unknown
    // Interface-wide accepts in otherwise denying chains, as reported in details.
    std::vector<json> broadAccepts;
};

json broadAcceptJson(const std::string &family, const std::string &source,
                     const FilterGraph::BroadAccept &accept, const std::string &table = {})
{
    json entry = {{"family", family}, {"source", source}};
    if (!table.empty())
        entry["table"] = table;
    entry["chain"] = accept.chain;
    entry["interface"] = accept.interface;
    if (!accept.via.empty())
        entry["via"] = accept.via;
    return entry;
}

bool deniedPermission(const CommandResult &result)
{
    const auto &text = result.standardError;
    return text.find("Operation not permitted") != std::string::npos ||
           text.find("Permission denied") != std::string::npos ||
           text.find("you must be root") != std::string::npos;
}

// Why a command's output can't be used, phrased for a reason text.
std::string commandProblem(const Command &command, const CommandResult &result,
                           std::string_view what)
{
    if (result.outcome == CommandResult::Outcome::Exited && deniedPermission(result))
        return "reading " + std::string(what) +
               " needs root (CAP_NET_ADMIN): " + result.describe(command);
    return result.describe(command);
}

std::string unquote(std::string value)
{
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
        return value.substr(1, value.size() - 2);
    return value;
}

// KEY=value files of ufw and firewalld; later assignments win, comments skipped.
std::map<std::string, std::string> parseAssignments(std::string_view text)
{
    std::map<std::string, std::string> values;
    while (!text.empty()) {
        const auto end = text.find('\n');
        auto line = std::string(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#')
            continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos)
            continue;
        auto key = line.substr(first, eq - first);
        auto value = line.substr(eq + 1);
        key.erase(key.find_last_not_of(" \t") + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r") + 1);
        values[key] = unquote(value);
    }
    return values;
}

json chainsJson(const NftRuleset &ruleset)
{
    json chains = json::array();
    for (const auto &chain : ruleset.inputChains)
        chains.push_back({{"family", chain.family},
                          {"table", chain.table},
                          {"chain", chain.chain},
                          {"policy", chain.policy},
                          {"filtered", chain.filtered},
                          {"conditional_drop_rules", chain.conditionalDropRules}});
    return chains;
}

struct NftResult
{
    Source ipv4;
    Source ipv6;
    std::optional<NftRuleset> ruleset;
    json details;
};

NftResult readNftables(const CollectContext &context)
{
    NftResult out;
    const auto program = context.host().findProgram("nft");
    if (!program) {
        out.details = {{"status", "not_installed"}};
        return out;
    }
    const Command command{*program, {"-j", "list", "ruleset"}, FirewallCollector::commandTimeout};
    const auto result = context.run(command);
    std::string problem;
    if (!result.succeeded()) {
        problem = commandProblem(command, result, "the nftables ruleset");
    } else {
        auto parsed = parseNftRuleset(result.standardOutput);
        if (!parsed.ruleset)
            problem = "unparsable output of " + command.toString() + ": " + parsed.error;
        else
            out.ruleset = std::move(parsed.ruleset);
    }
    if (!out.ruleset) {
        out.ipv4 = out.ipv6 = {Source::State::Unknown, false, problem, {}};
        out.details = {{"status", "unknown"}, {"reason", problem}};
        return out;
    }
    out.ipv4 = {Source::State::Read, out.ruleset->ipv4Filtered, {}, {}};
    out.ipv6 = {Source::State::Read, out.ruleset->ipv6Filtered, {}, {}};
    for (const auto &chain : out.ruleset->inputChains) {
        for (const auto &accept : chain.broadAccepts) {
            const auto table = chain.family + " " + chain.table;
            if (chain.family != "ip6")
                out.ipv4.broadAccepts.push_back(broadAcceptJson("ipv4", "nftables", accept, table));
            if (chain.family != "ip")
                out.ipv6.broadAccepts.push_back(broadAcceptJson("ipv6", "nftables", accept, table));
        }
    }
    out.details = {{"status", "read"},
                   {"tables", out.ruleset->tables},
                   {"input_chains", chainsJson(*out.ruleset)}};
    if (!out.ruleset->notes.empty())
        out.details["notes"] = out.ruleset->notes;
    return out;
}

// Legacy (x_tables) rules live beside nftables and are invisible to nft; the kernel lists
// the loaded legacy tables in /proc/net/ip_tables_names (root-only).
Source readLegacy(const CollectContext &context, bool ipv6, json &details)
{
    const std::string prefix = ipv6 ? "ip6" : "ip";
    const auto namesPath = "/proc/net/" + prefix + "_tables_names";
    const auto names = context.fs().readFile(namesPath, 64 * 1024);
    if (!names.ok()) {
        if (names.error == std::errc::no_such_file_or_directory) {
            details = {{"status", "no_tables"}};
            return {};
        }
        const auto reason = names.errorText() == "permission denied"
                                ? "reading " + namesPath + " needs root"
                                : "cannot read " + namesPath + ": " + names.errorText();
        details = {{"status", "unknown"}, {"reason", reason}};
        return {Source::State::Unknown, false, reason, {}};
    }
    bool hasFilter = false;
    for (std::size_t start = 0; start < names.data.size();) {
        auto end = names.data.find('\n', start);
        if (end == std::string::npos)
            end = names.data.size();
        if (names.data.compare(start, end - start, "filter") == 0)
            hasFilter = true;
        start = end + 1;
    }
    if (!hasFilter) {
        details = {{"status", "no_filter_table"}};
        return {};
    }
    auto program = context.host().findProgram(prefix + "tables-legacy-save");
    if (!program)
        program = context.host().findProgram(prefix + "tables-save");
    if (!program) {
        const auto reason = "a legacy " + prefix + "tables filter table is loaded but " + prefix +
                            "tables-legacy-save is not installed";
        details = {{"status", "unknown"}, {"reason", reason}};
        return {Source::State::Unknown, false, reason, {}};
    }
    const Command command{*program, {"-t", "filter"}, FirewallCollector::commandTimeout};
    const auto result = context.run(command);
    std::string reason;
    if (!result.succeeded()) {
        reason = commandProblem(command, result, "the legacy " + prefix + "tables rules");
    } else {
        const auto parsed = parseIptablesSave(result.standardOutput);
        if (parsed.rules) {
            details = {{"status", "read"},
                       {"program", *program},
                       {"input_policy", parsed.rules->inputPolicy},
                       {"filtered", parsed.rules->inputFiltered},
                       {"conditional_drop_rules", parsed.rules->conditionalDropRules}};
            if (!parsed.rules->notes.empty())
                details["notes"] = parsed.rules->notes;
            Source source{Source::State::Read, parsed.rules->inputFiltered, {}, {}};
            for (const auto &accept : parsed.rules->broadAccepts)
                source.broadAccepts.push_back(
                    broadAcceptJson(ipv6 ? "ipv6" : "ipv4", "legacy iptables", accept));
            return source;
        }
        reason = "unparsable output of " + command.toString() + ": " + parsed.error;
    }
    details = {{"status", "unknown"}, {"reason", reason}};
    return {Source::State::Unknown, false, reason, {}};
}

struct Family
{
    std::optional<bool> filtered; // nullopt: undetermined
    std::vector<std::string> by;  // sources that filter it
    std::vector<std::string> reasons;
};

// Any source that drops by default filters the family (a drop in one hook is final whatever
// the others accept); "open" needs every source read.
Family combine(const std::vector<std::pair<std::string, const Source *>> &sources)
{
    Family family;
    bool unknown = false;
    for (const auto &[name, source] : sources) {
        if (source->state == Source::State::Read && source->filtered)
            family.by.push_back(name);
        if (source->state == Source::State::Unknown) {
            unknown = true;
            family.reasons.push_back(source->reason);
        }
    }
    if (!family.by.empty())
        family.filtered = true;
    else if (!unknown)
        family.filtered = false;
    return family;
}

json optionalBool(const std::optional<bool> &value)
{
    return value ? json(*value) : json(nullptr);
}

// What the administrator asked for through ufw and firewalld, reported beside what the kernel
// runs: a frontend that is enabled but not loaded explains an open ruleset.
struct Frontends
{
    std::optional<bool> ufwEnabled;
    std::optional<bool> firewalldActive;
    bool firewalldEnabled = false;

    // " (ufw enabled, firewalld active)", or empty.
    std::string note() const
    {
        std::vector<std::string> frontends;
        if (ufwEnabled == true)
            frontends.push_back("ufw enabled");
        if (firewalldActive == true)
            frontends.push_back("firewalld active");
        return frontends.empty() ? "" : " (" + joined(frontends, ", ") + ")";
    }
};

json readUfw(const FileSystem &fs, Frontends &frontends)
{
    json ufw = {{"installed", fs.exists("/usr/sbin/ufw") || fs.exists("/etc/ufw/ufw.conf")}};
    if (const auto conf = fs.readFile("/etc/ufw/ufw.conf", 64 * 1024); conf.ok()) {
        const auto values = parseAssignments(conf.data);
        if (const auto it = values.find("ENABLED"); it != values.end())
            frontends.ufwEnabled = asciiLower(it->second) == "yes";
    }
    ufw["enabled"] = optionalBool(frontends.ufwEnabled);
    if (const auto defaults = fs.readFile("/etc/default/ufw", 64 * 1024); defaults.ok()) {
        const auto values = parseAssignments(defaults.data);
        if (const auto it = values.find("DEFAULT_INPUT_POLICY"); it != values.end())
            ufw["default_input_policy"] = it->second;
    }
    return ufw;
}

json readFirewalld(const FileSystem &fs, const std::optional<NftRuleset> &ruleset,
                   Frontends &frontends)
{
    if (ruleset)
        frontends.firewalldActive = ruleset->hasTable("inet", "firewalld");
    json firewalld = {{"installed", fs.exists("/usr/sbin/firewalld")},
                      {"active", optionalBool(frontends.firewalldActive)}};
    for (const auto &entry : fs.listDirectory("/etc/systemd/system/multi-user.target.wants"))
        frontends.firewalldEnabled = frontends.firewalldEnabled || entry == "firewalld.service";
    firewalld["enabled"] = frontends.firewalldEnabled;
    if (const auto conf = fs.readFile("/etc/firewalld/firewalld.conf", 64 * 1024); conf.ok()) {
        const auto values = parseAssignments(conf.data);
        if (const auto it = values.find("DefaultZone"); it != values.end())
            firewalld["default_zone"] = it->second;
    }
    return firewalld;
}

// Every ruleset source, per address family.
struct Rulesets
{
    NftResult nft;
    Source legacy4;
    Source legacy6;

    std::array<const Source *, 2> ipv4() const { return {&nft.ipv4, &legacy4}; }
    std::array<const Source *, 2> ipv6() const { return {&nft.ipv6, &legacy6}; }
};

void addUnique(std::vector<std::string> &list, const std::string &item)
{
    if (std::find(list.begin(), list.end(), item) == list.end())
        list.push_back(item);
}

// Interfaces accepted wholesale in the open families: the reason a denying ruleset is open.
struct WideOpen
{
    std::vector<std::string> interfaces;
    bool everyOpenFamily = true; // false when some open family has no such interface

    void addOpenFamily(const std::array<const Source *, 2> &sources)
    {
        bool any = false;
        for (const auto *source : sources)
            for (const auto &entry : source->broadAccepts) {
                any = true;
                addUnique(interfaces, entry["interface"].get<std::string>());
            }
        everyOpenFamily = everyOpenFamily && any;
    }
};

struct FailureText
{
    std::string summary;
    std::string remediation;
};

FailureText wideOpenFailure(const WideOpen &wideOpen, const std::string &families,
                            const Frontends &frontends)
{
    const auto interfaces = joined(wideOpen.interfaces, ", ");
    const auto example =
        wideOpen.interfaces.size() == 1 ? wideOpen.interfaces.front() : std::string("IFACE");
    FailureText text;
    text.summary = "Inbound " + families + " traffic is not filtered: everything arriving on " +
                   interfaces + " is accepted" + frontends.note();
    text.remediation =
        frontends.firewalldActive == true
            ? "Move " + interfaces +
                  " to a filtering zone (the trusted zone accepts everything): `sudo "
                  "firewall-cmd --permanent --zone=public --change-interface=" +
                  example +
                  " && sudo firewall-cmd --reload`, or remove the rule that accepts "
                  "all its traffic."
            : "Remove the rule that accepts all traffic arriving on " + interfaces +
                  " (e.g. `iifname \"" + example + "\" accept`, `-A INPUT -i " + example +
                  " -j ACCEPT`, `ufw allow in on " + example +
                  "`) and allow only the ports that must be reachable.";
    if (!wideOpen.everyOpenFamily)
        text.remediation += " Also turn on a host firewall that drops unsolicited inbound traffic "
                            "for the other address family.";
    return text;
}

// Why inbound traffic of `open` families is not filtered, and what to do about it: an
// interface accepted wholesale, a frontend enabled but not loaded, or no firewall at all.
FailureText openFailure(const std::vector<std::string> &open, const WideOpen &wideOpen,
                        const Family &ipv4, const Frontends &frontends)
{
    const auto families = joined(open, " and ");
    if (!wideOpen.interfaces.empty())
        return wideOpenFailure(wideOpen, families, frontends);
    if (frontends.ufwEnabled == true)
        return {"ufw is enabled in /etc/ufw/ufw.conf but the running ruleset does not filter "
                "inbound " +
                    families + " traffic",
                open.size() == 1 && open.front() == "IPv6"
                    ? "Set IPV6=yes in /etc/default/ufw and run `sudo ufw reload`."
                    : "Load ufw's rules: `sudo ufw reload`, and check `systemctl status "
                      "ufw` for errors."};
    if (frontends.firewalldEnabled && frontends.firewalldActive != true)
        return {"firewalld is enabled but its ruleset is not loaded; inbound " + families +
                    " traffic is not filtered",
                "Start firewalld (`sudo systemctl restart firewalld`) and check "
                "`journalctl -u firewalld` for errors."};
    return {"Inbound " + families + " traffic is not filtered" +
                (ipv4.filtered == true ? " (IPv4 filtered by " + joined(ipv4.by, " and ") + ")"
                                       : std::string()) +
                frontends.note(),
            "Turn on a host firewall that drops unsolicited inbound IPv4 and IPv6 "
            "traffic: `sudo ufw enable` (Debian, Ubuntu), `sudo systemctl enable --now "
            "firewalld` (Fedora, RHEL), or an nftables input chain with `policy drop` "
            "in /etc/nftables.conf and `sudo systemctl enable --now nftables`."};
}

} // namespace

CheckResult FirewallCollector::collect(const CollectContext &context)
{
    const auto &fs = context.fs();
    json details;

    Rulesets rulesets{readNftables(context), {}, {}};
    json legacy4Details, legacy6Details;
    rulesets.legacy4 = readLegacy(context, false, legacy4Details);
    rulesets.legacy6 = readLegacy(context, true, legacy6Details);
    const auto &nft = rulesets.nft;
    details["nftables"] = nft.details;
    details["iptables_legacy"] = {{"ipv4", legacy4Details}, {"ipv6", legacy6Details}};

    const bool ipv6Disabled = fs.readTrimmed("/proc/sys/net/ipv6/conf/all/disable_ipv6") == "1" ||
                              !fs.exists("/proc/net/if_inet6");
    details["ipv6_disabled"] = ipv6Disabled;

    Frontends frontends;
    details["ufw"] = readUfw(fs, frontends);
    details["firewalld"] = readFirewalld(fs, nft.ruleset, frontends);

    const auto ipv4 = combine({{"nftables", &nft.ipv4}, {"legacy iptables", &rulesets.legacy4}});
    const auto ipv6 = combine({{"nftables", &nft.ipv6}, {"legacy iptables", &rulesets.legacy6}});
    json broadAccepts = json::array();
    for (const auto *source : std::initializer_list<const Source *>{&nft.ipv4, &rulesets.legacy4,
                                                                    &nft.ipv6, &rulesets.legacy6})
        for (const auto &entry : source->broadAccepts)
            broadAccepts.push_back(entry);
    if (!broadAccepts.empty())
        details["broad_accepts"] = broadAccepts;
    details["ipv4_filtered"] = optionalBool(ipv4.filtered);
    details["ipv6_filtered"] = optionalBool(ipv6.filtered);

    if (nft.ipv4.state == Source::State::Absent &&
        rulesets.legacy4.state == Source::State::Absent &&
        rulesets.legacy6.state == Source::State::Absent)
        return CheckResult::unknown(std::string(checkId),
                                    "no firewall ruleset can be read: nft is not installed and "
                                    "no legacy iptables tables are loaded",
                                    details);

    const bool ipv6Ok = ipv6.filtered == true || ipv6Disabled;
    if (ipv4.filtered == true && ipv6Ok) {
        auto by = ipv4.by;
        if (!ipv6Disabled)
            for (const auto &name : ipv6.by)
                addUnique(by, name);
        auto summary = "Inbound traffic filtered by " + joined(by, " and ") + frontends.note();
        if (ipv6Disabled)
            summary += "; IPv6 disabled";
        return CheckResult::pass(std::string(checkId), summary, details);
    }

    std::vector<std::string> open;
    if (ipv4.filtered == false)
        open.push_back("IPv4");
    if (ipv6.filtered == false && !ipv6Disabled)
        open.push_back("IPv6");
    if (open.empty()) {
        auto reasons = ipv4.reasons;
        for (const auto &reason : ipv6Disabled ? std::vector<std::string>{} : ipv6.reasons)
            addUnique(reasons, reason);
        return CheckResult::unknown(std::string(checkId), joined(reasons, "; "), details);
    }

    WideOpen wideOpen;
    if (ipv4.filtered == false)
        wideOpen.addOpenFamily(rulesets.ipv4());
    if (ipv6.filtered == false && !ipv6Disabled)
        wideOpen.addOpenFamily(rulesets.ipv6());
    auto failure = openFailure(open, wideOpen, ipv4, frontends);
    return CheckResult::fail(std::string(checkId), std::move(failure.summary),
                             std::move(failure.remediation), details);
}

} // namespace vigil::posture
