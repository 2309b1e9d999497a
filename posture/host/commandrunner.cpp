#include "posture/host/commandrunner.h"

#include "posture/posturelogging.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace vigil::posture {

std::string Command::toString() const
{
    std::string text = program;
    for (const auto &arg : arguments)
        text += " " + arg;
    return text;
}

std::string CommandResult::describe(const Command &command) const
{
    switch (outcome) {
    case Outcome::Exited: {
        std::string text = command.program + " exited with code " + std::to_string(exitCode);
        auto firstLine = standardError.substr(0, standardError.find('\n'));
        if (!firstLine.empty())
            text += ": " + firstLine.substr(0, 200);
        return text;
    }
    case Outcome::NotFound:
        return command.program + " is not installed";
    case Outcome::FailedToStart:
        return command.program + " could not be started: " + error;
    case Outcome::TimedOut:
        return command.program + " timed out after " + std::to_string(command.timeout.count()) +
               " ms";
    case Outcome::Crashed:
        return command.program + " crashed: " + error;
    case Outcome::Stopped:
        return command.program + " was stopped: " + error;
    }
    return command.program + ": " + error;
}

namespace {

struct Pipe
{
    int fds[2] = {-1, -1};
    ~Pipe()
    {
        for (int fd : fds)
            if (fd >= 0)
                ::close(fd);
    }
    void closeEnd(int i)
    {
        if (fds[i] >= 0)
            ::close(fds[i]);
        fds[i] = -1;
    }
};

// strerror is not thread-safe and collectors run in parallel; this is.
std::string errorText(int error)
{
    return std::system_category().message(error);
}

std::vector<std::string> childEnvironment()
{
    std::vector<std::string> env;
    for (char **e = environ; e && *e; ++e) {
        if (std::strncmp(*e, "LC_", 3) == 0 || std::strncmp(*e, "LANG=", 5) == 0 ||
            std::strncmp(*e, "LANGUAGE=", 9) == 0)
            continue;
        env.emplace_back(*e);
    }
    // Parsed output must not depend on the user's locale.
    env.emplace_back("LC_ALL=C");
    return env;
}

// posix_spawn of `command` in a process group of its own, stdin from /dev/null, stdout and
// stderr into the pipes' write ends. Returns posix_spawn's error, 0 once it runs.
int spawnInGroup(const Command &command, const Pipe &out, const Pipe &err, pid_t &pid)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaultSignals;
    sigemptyset(&defaultSignals);
    sigaddset(&defaultSignals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaultSignals);
    sigset_t noMask;
    sigemptyset(&noMask);
    posix_spawnattr_setsigmask(&attr, &noMask);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETSIGMASK);

    std::vector<char *> argv;
    argv.push_back(const_cast<char *>(command.program.c_str()));
    for (const auto &arg : command.arguments)
        argv.push_back(const_cast<char *>(arg.c_str()));
    argv.push_back(nullptr);
    auto envStrings = childEnvironment();
    std::vector<char *> envp;
    for (auto &e : envStrings)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    const int spawnError =
        ::posix_spawn(&pid, command.program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return spawnError;
}

// How waiting for a command ended, short of its exit status.
struct Ending
{
    bool timedOut = false;
    bool overflow = false;
    int pollError = 0;

    bool abnormal() const { return timedOut || overflow || pollError; }
};

// Reads stdout and stderr into the result until the command closes both, the deadline passes
// or the output exceeds the limit.
Ending readOutput(const Pipe &out, const Pipe &err, std::chrono::steady_clock::time_point deadline,
                  CommandResult &result)
{
    Ending ending;
    pollfd fds[2] = {{out.fds[0], POLLIN, 0}, {err.fds[0], POLLIN, 0}};
    std::string *sinks[2] = {&result.standardOutput, &result.standardError};
    int open = 2;
    while (open > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ending.timedOut = true;
            break;
        }
        const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            ending.pollError = errno;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buffer[65536];
            const auto got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got > 0) {
                if (sinks[i]->size() + static_cast<std::size_t>(got) > ProcessRunner::outputLimit) {
                    ending.overflow = true;
                    break;
                }
                sinks[i]->append(buffer, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open;
            }
        }
        if (ending.overflow)
            break;
    }
    return ending;
}

// Both pipes closed is not the end: a program can close its output and go on hanging. The
// deadline holds until it has exited, waited on through a pidfd (no polling). False when the
// deadline passed first.
bool exitedBefore(pid_t pid, std::chrono::steady_clock::time_point deadline)
{
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        // No pidfd (a kernel before 5.3, the descriptor limit, a seccomp filter): the deadline
        // must hold all the same, so look every 10 ms, in this rare case only.
        for (;;) {
            siginfo_t info{};
            if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
                if (errno == EINTR)
                    continue;
                return true; // ECHILD: nothing left to wait for
            }
            if (info.si_pid != 0)
                return true;
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    bool exited = true;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd exitFd{pidfd, POLLIN, 0};
        const int ready = left.count() > 0 ? ::poll(&exitFd, 1, static_cast<int>(left.count())) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        exited = ready != 0;
        break;
    }
    ::close(pidfd);
    return exited;
}

// Wait without reaping: while the leader is a zombie its group id cannot be reused, so the
// kill in reapGroup reaches only descendants that outlived it.
void waitWithoutReaping(pid_t pid)
{
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
}

// Kills what is left of the group, then reaps the leader; returns its wait status.
int reapGroup(pid_t pid)
{
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

void setOutcome(CommandResult &result, const Ending &ending, bool stopped, int status)
{
    if (ending.pollError) {
        result.outcome = CommandResult::Outcome::FailedToStart;
        result.error = "waiting for output failed: " + errorText(ending.pollError);
    } else if (stopped) {
        result.outcome = CommandResult::Outcome::Stopped;
        result.error = "stop requested";
    } else if (ending.timedOut) {
        result.outcome = CommandResult::Outcome::TimedOut;
        result.error = "timed out";
    } else if (ending.overflow) {
        result.outcome = CommandResult::Outcome::FailedToStart;
        result.error = "output exceeded " + std::to_string(ProcessRunner::outputLimit) + " bytes";
    } else if (WIFEXITED(status)) {
        result.outcome = CommandResult::Outcome::Exited;
        result.exitCode = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.outcome = CommandResult::Outcome::Crashed;
        const char *name = ::sigabbrev_np(WTERMSIG(status));
        result.error = "killed by signal " +
                       (name ? "SIG" + std::string(name) : std::to_string(WTERMSIG(status)));
    }
}

} // namespace

CommandResult ProcessRunner::run(const Command &command)
{
    CommandResult result;
    if (command.program.empty() || command.program.front() != '/') {
        result.error = "program path must be absolute";
        return result;
    }
    if (command.stop.stop_requested()) {
        result.outcome = CommandResult::Outcome::Stopped;
        result.error = "stop requested before it started";
        return result;
    }
    if (::access(command.program.c_str(), X_OK) != 0) {
        result.outcome = errno == ENOENT ? CommandResult::Outcome::NotFound
                                         : CommandResult::Outcome::FailedToStart;
        result.error = errorText(errno);
        return result;
    }

    Pipe out, err;
    if (::pipe2(out.fds, O_CLOEXEC) != 0 || ::pipe2(err.fds, O_CLOEXEC) != 0) {
        result.error = errorText(errno);
        return result;
    }
    pid_t pid = -1;
    if (const int spawnError = spawnInGroup(command, out, err, pid)) {
        result.outcome = spawnError == ENOENT ? CommandResult::Outcome::NotFound
                                              : CommandResult::Outcome::FailedToStart;
        result.error = errorText(spawnError);
        return result;
    }
    out.closeEnd(1);
    err.closeEnd(1);

    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + command.timeout;
    std::atomic<bool> stopped = false;
    Ending ending;
    {
        // Scoped so that no kill can run once the leader has been reaped below: its process
        // group id could then belong to someone else.
        const std::stop_callback onStop(command.stop, [&stopped, pid] {
            stopped = true;
            ::kill(-pid, SIGKILL);
        });
        ending = readOutput(out, err, deadline, result);
        if (!ending.abnormal())
            ending.timedOut = !exitedBefore(pid, deadline);
        if (ending.abnormal())
            ::kill(-pid, SIGKILL);
        waitWithoutReaping(pid);
    }
    setOutcome(result, ending, stopped, reapGroup(pid));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    qCDebug(lcPosture, "%s: %s after %lld ms", command.toString().c_str(),
            result.describe(command).c_str(), static_cast<long long>(took.count()));
    return result;
}

} // namespace vigil::posture
