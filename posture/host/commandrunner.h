#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

namespace vigil::posture {

// A program run without a shell: an absolute path, its arguments and a time limit.
struct Command
{
    std::string program;
    std::vector<std::string> arguments;
    std::chrono::milliseconds timeout{5000};
    // Ends the run early when stop is requested (whoever owns the work is shutting down).
    std::stop_token stop = {};

    std::string toString() const;
};

struct CommandResult
{
    enum class Outcome { Exited, NotFound, FailedToStart, TimedOut, Crashed, Stopped };

    Outcome outcome = Outcome::FailedToStart;
    int exitCode = -1;
    std::string standardOutput;
    std::string standardError;
    std::string error; // why it did not run to completion

    bool exitedWith(int code) const { return outcome == Outcome::Exited && exitCode == code; }
    bool succeeded() const { return exitedWith(0); }
    // One line for a reason text: "/usr/sbin/nft timed out after 5000 ms", "exit code 1: …".
    std::string describe(const Command &command) const;
};

// Injectable so collectors can be tested against captured outputs of real commands.
class CommandRunner
{
public:
    virtual ~CommandRunner() = default;
    virtual CommandResult run(const Command &command) = 0;
};

// Runs real processes: posix_spawn in a new process group with LC_ALL=C, stdin from
// /dev/null, output capped, and the whole group killed when the time limit passes or stop is
// requested.
class ProcessRunner final : public CommandRunner
{
public:
    static constexpr std::size_t outputLimit = 16 * 1024 * 1024;
    CommandResult run(const Command &command) override;
};

} // namespace vigil::posture
