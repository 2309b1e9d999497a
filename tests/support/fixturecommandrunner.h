#pragma once

#include "posture/host/commandrunner.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vigil::test {

// Replays captured outputs of real commands. Each capture is a JSON file in a directory:
//   {"program": "/usr/sbin/nft", "arguments": ["-j", "list", "ruleset"],
//    "exit_code": 0, "stdout_file": "nft.json" | "stdout": "…", "stderr": "…",
//    "outcome": "exited" | "timed_out" | "crashed" | "failed_to_start"}
// A command with no capture behaves as a program that is not installed. This stands in for
// the real runner only where the real command can't run here (another distribution's
// package manager, a ruleset that needs root); ProcessRunner has its own tests.
class FixtureCommandRunner final : public posture::CommandRunner
{
public:
    FixtureCommandRunner() = default;
    explicit FixtureCommandRunner(const std::filesystem::path &directory);

    void add(const posture::Command &command, posture::CommandResult result);
    posture::CommandResult run(const posture::Command &command) override;
    // Command lines run so far, for tests that check what was (not) run.
    std::vector<std::string> history() const;

private:
    static std::string key(const std::string &program, const std::vector<std::string> &args);

    std::map<std::string, posture::CommandResult> m_results;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_history;
};

} // namespace vigil::test
