#pragma once

#include "fixturecommandrunner.h"
#include "manualclock.h"
#include "posture/host/host.h"
#include "testprinters.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace vigil::test {

// Where tests/fixtures lives (compiled in).
std::filesystem::path fixturesDir();

// The instant every fixture host's clock starts at: 2026-11-24T12:00:00Z.
std::chrono::system_clock::time_point fixtureNow();

// A Host over tests/fixtures/hosts/<name>: files from root/, command outputs from commands/,
// environment and uid from host.json ({"uid": 1000, "environment": {"HOME": …}}).
struct FixtureHost
{
    std::shared_ptr<FixtureCommandRunner> commands;
    std::shared_ptr<ManualClock> clock;
    std::shared_ptr<posture::Host> host;

    static FixtureHost load(const std::string &name);
    // A host over any directory shaped like "/" (for tests that build a tree on the fly).
    static FixtureHost fromRoot(const std::filesystem::path &root,
                                std::map<std::string, std::string> environment = {}, uid_t uid = 0);
};

// Creates a file (and its parent directories) below root with the given content and mode.
void writeFile(const std::filesystem::path &root, const std::string &path,
               const std::string &content,
               std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write |
                                             std::filesystem::perms::group_read |
                                             std::filesystem::perms::others_read);

} // namespace vigil::test

namespace vigil::posture {
class Collector;
struct CheckResult;
} // namespace vigil::posture

namespace vigil::test {

// Runs one collector against a host with a 5 s deadline, as the engine would.
posture::CheckResult collect(posture::Collector &collector, const posture::Host &host);

} // namespace vigil::test
