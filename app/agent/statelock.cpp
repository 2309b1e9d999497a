#include "app/agent/statelock.h"

#include "app/agent/pathsafety.h"
#include "core/text.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::agent {

namespace {

namespace fs = std::filesystem;

std::string errnoText(int error)
{
    return std::strerror(error);
}

struct flock wholeFile(short type)
{
    struct flock lock
    {
    };
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    return lock; // l_start 0, l_len 0: the whole file, however long
}

// The PID the holder wrote into the lock file, 0 when there is none (yet).
pid_t recordedPid(int fd)
{
    char text[16];
    const ssize_t got = ::pread(fd, text, sizeof text, 0);
    if (got <= 0)
        return 0;
    pid_t pid = 0;
    const auto [end, error] = std::from_chars(text, text + got, pid);
    if (error != std::errc() || pid <= 0 || end == text + got || *end != '\n')
        return 0;
    return pid;
}

// The holder of a lock that keeps fd from locking the whole file for writing, or nullopt.
std::optional<LockHolder> conflictingHolder(int fd, const fs::path &file)
{
    auto lock = wholeFile(F_WRLCK);
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0)
        throw StateLockError("cannot test the lock on " + quoted(file) + ": " + errnoText(errno));
    if (lock.l_type == F_UNLCK)
        return std::nullopt;
    // The kernel knows the process of a POSIX lock; an OFD lock (l_pid -1) has none, so its
    // holder's own record is read.
    return LockHolder{lock.l_pid > 0 ? lock.l_pid : recordedPid(fd)};
}

std::string pidText(const LockHolder &holder)
{
    return holder.pid > 0 ? " (pid " + std::to_string(holder.pid) + ")" : std::string();
}

// The state directory, created 0700 when missing and refused when another user could change
// it, and the lock file in it, opened; nothing is locked yet.
int openLockFile(const fs::path &directory)
{
    std::error_code error;
    if (fs::create_directories(directory, error) && ::chmod(directory.c_str(), 0700) != 0)
        throw StateLockError("cannot set mode 0700 on the new state directory " +
                             quoted(directory) + ": " + errnoText(errno));
    if (error)
        throw StateLockError("cannot create the state directory " + quoted(directory) + ": " +
                             error.message());
    if (!fs::is_directory(directory, error))
        throw StateLockError("the state directory " + quoted(directory) + " is not a directory");
    if (const auto problem = writeAccessProblem(directory, "state directory"); !problem.empty())
        throw StateLockError(problem);

    const fs::path file = StateLock::lockFile(directory);
    const int fd = ::open(file.c_str(),
                          O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0) {
        const int openError = errno;
        if (openError == ELOOP)
            throw StateLockError("the lock file " + quoted(file) +
                                 " is a symbolic link; refusing to follow it. Remove it.");
        throw StateLockError("cannot open the lock file " + quoted(file) + ": " +
                             errnoText(openError));
    }
    return fd;
}

} // namespace

StateLock::StateLock(fs::path stateDirectory)
    : m_stateDirectory(std::move(stateDirectory)), m_fd(openLockFile(m_stateDirectory))
{
    const fs::path file = lockFile(m_stateDirectory);
    struct stat st
    {
    };
    if (::fstat(m_fd.get(), &st) != 0)
        throw StateLockError("cannot stat the lock file " + quoted(file) + ": " + errnoText(errno));
    if (!S_ISREG(st.st_mode))
        throw StateLockError("the lock file " + quoted(file) + " is not a regular file; remove it");
    if (st.st_uid != ::geteuid())
        throw StateLockError("the lock file " + quoted(file) + " is owned by uid " +
                             std::to_string(st.st_uid) + ", not by this process's user (uid " +
                             std::to_string(::geteuid()) + "); remove it");
    if ((st.st_mode & 07777) != 0600 && ::fchmod(m_fd.get(), 0600) != 0)
        throw StateLockError("cannot set mode 0600 on the lock file " + quoted(file) + ": " +
                             errnoText(errno));

    auto lock = wholeFile(F_WRLCK);
    if (::fcntl(m_fd.get(), F_OFD_SETLK, &lock) != 0) {
        const int error = errno;
        if (error != EAGAIN && error != EACCES)
            throw StateLockError("cannot lock " + quoted(file) + ": " + errnoText(error));
        // Released in between: the holder is gone, but this attempt failed all the same.
        const auto holder = conflictingHolder(m_fd.get(), file).value_or(LockHolder{});
        throw StateLockError("another vigild" + pidText(holder) + " holds the state directory " +
                             quoted(m_stateDirectory) + " (its lock " + quoted(file) +
                             "); stop it first, or give this one another state_directory");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(m_fd.get(), 0) != 0 ||
        ::pwrite(m_fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        throw StateLockError("cannot write this process's PID into the lock file " + quoted(file) +
                             ": " + errnoText(errno));
}

std::optional<LockHolder> StateLock::isHeld(const fs::path &stateDirectory)
{
    const fs::path file = lockFile(stateDirectory);
    FileDescriptor fd(
        ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw StateLockError("cannot tell whether vigild holds the state directory " +
                             quoted(stateDirectory) + ": cannot open " + quoted(file) + ": " +
                             errnoText(errno));
    }
    return conflictingHolder(fd.get(), file);
}

std::string vigildOwnsStateMessage(const fs::path &stateDirectory, const LockHolder &holder)
{
    return "vigild is running" + pidText(holder) + " and owns " + quoted(stateDirectory) +
           "; use it: vigilctl status / report";
}

} // namespace vigil::agent
