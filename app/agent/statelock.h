#pragma once

// One vigild per state directory. Two would enroll twice, interleave reports under one nonce
// and overwrite each other's files, so vigild holds an exclusive lock on <state>/vigild.lock
// for as long as it runs, and the in-process vigilctl commands that write state ask isHeld()
// first and refuse while it does.
//
// The lock is an open file description lock (fcntl F_OFD_SETLK): the kernel drops it when the
// holder goes away however it ends, so a crash never leaves a stale lock, and unlike a
// process-owned POSIX lock a second open in the same process conflicts too. OFD and POSIX locks
// conflict with each other, so lockf(3) or Python's fcntl.lockf see it (flock(1) does not: its
// locks are of another kind). The holder writes its PID into the file, for the messages only.

#include "core/filedescriptor.h"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace vigil::agent {

class StateLockError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct LockHolder
{
    pid_t pid = 0; // 0 when it cannot be told
};

class StateLock
{
public:
    // Creates stateDirectory (mode 0700) when it is missing, refuses it when someone other than
    // root or this process's user could change it (pathsafety.h), then takes the lock on
    // <stateDirectory>/vigild.lock (created 0600, never through a symbolic link) without
    // waiting. Throws StateLockError naming the directory, and the holder's PID when the lock is
    // taken.
    explicit StateLock(std::filesystem::path stateDirectory);
    StateLock(const StateLock &) = delete;
    StateLock &operator=(const StateLock &) = delete;

    const std::filesystem::path &stateDirectory() const { return m_stateDirectory; }

    // Who holds the lock on stateDirectory, or nullopt when nobody does (no lock file counts as
    // nobody). Takes no lock itself, so it never makes a starting vigild fail. Throws
    // StateLockError when it cannot tell (say, the lock file is not readable by this user).
    static std::optional<LockHolder> isHeld(const std::filesystem::path &stateDirectory);

    static std::filesystem::path lockFile(const std::filesystem::path &stateDirectory)
    {
        return stateDirectory / "vigild.lock";
    }

private:
    std::filesystem::path m_stateDirectory;
    FileDescriptor m_fd;
};

// What an in-process command that would write state says while vigild holds it:
// "vigild is running (pid N) and owns 'STATE'; use it: vigilctl status / report".
std::string vigildOwnsStateMessage(const std::filesystem::path &stateDirectory,
                                   const LockHolder &holder);

} // namespace vigil::agent
