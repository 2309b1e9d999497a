#include "fixturehost.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vigil::test {

std::filesystem::path fixturesDir()
{
    return VIGIL_FIXTURES_DIR;
}

std::chrono::system_clock::time_point fixtureNow()
{
    // 2026-11-24T12:00:00Z
    return std::chrono::system_clock::time_point(std::chrono::seconds(1795521600));
}

FixtureHost FixtureHost::fromRoot(const std::filesystem::path &root,
                                  std::map<std::string, std::string> environment, uid_t uid)
{
    FixtureHost f;
    f.commands = std::make_shared<FixtureCommandRunner>();
    f.clock = std::make_shared<ManualClock>(fixtureNow());
    f.host = std::make_shared<posture::Host>(std::make_shared<posture::FileSystem>(root),
                                             f.commands, f.clock, std::move(environment), uid);
    return f;
}

FixtureHost FixtureHost::load(const std::string &name)
{
    const auto dir = fixturesDir() / "hosts" / name;
    if (!std::filesystem::is_directory(dir / "root"))
        throw std::runtime_error("no fixture host " + dir.string());
    std::map<std::string, std::string> environment;
    uid_t uid = 0;
    std::ifstream in(dir / "host.json");
    if (in) {
        const auto json = nlohmann::json::parse(in);
        environment = json.value("environment", std::map<std::string, std::string>{});
        uid = json.value("uid", 0u);
    }
    FixtureHost f;
    f.commands = std::make_shared<FixtureCommandRunner>(dir / "commands");
    f.clock = std::make_shared<ManualClock>(fixtureNow());
    f.host = std::make_shared<posture::Host>(std::make_shared<posture::FileSystem>(dir / "root"),
                                             f.commands, f.clock, std::move(environment), uid);
    return f;
}

void writeFile(const std::filesystem::path &root, const std::string &path,
               const std::string &content, std::filesystem::perms mode)
{
    const auto target = root / std::filesystem::path(path).relative_path();
    std::filesystem::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    std::filesystem::permissions(target, mode);
}

} // namespace vigil::test

#include "posture/collector.h"

namespace vigil::test {

posture::CheckResult collect(posture::Collector &collector, const posture::Host &host)
{
    return collector.collect(
        posture::CollectContext(host, std::chrono::steady_clock::now() + std::chrono::seconds(5)));
}

} // namespace vigil::test
