#include "privatefile.h"

#include "devicekey.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::attestation {

namespace {

class FileDescriptor
{
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor()
    {
        if (m_fd >= 0)
            close(m_fd);
    }
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

[[noreturn]] void fail(const std::filesystem::path &path, const std::string &what, int error)
{
    throw KeyError(what + " " + path.string() + ": " + std::strerror(error));
}

std::string octalMode(mode_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

} // namespace

void writePrivateFile(const std::filesystem::path &path, std::span<const std::uint8_t> contents)
{
    const std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
    std::error_code error;
    if (!std::filesystem::exists(directory, error)) {
        std::filesystem::create_directories(directory, error);
        if (error)
            throw KeyError("cannot create " + directory.string() + ": " + error.message());
        std::filesystem::permissions(directory, std::filesystem::perms::owner_all, error);
    }

    const std::filesystem::path temporary =
        directory / ("." + path.filename().string() + ".tmp-" + std::to_string(getpid()));
    unlink(temporary.c_str());
    FileDescriptor fd(
        open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0)
        fail(temporary, "cannot create", errno);
    std::size_t written = 0;
    while (written < contents.size()) {
        const ssize_t n = write(fd.get(), contents.data() + written, contents.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int saved = errno;
            unlink(temporary.c_str());
            fail(temporary, "cannot write", saved);
        }
        written += static_cast<std::size_t>(n);
    }
    if (fsync(fd.get()) != 0 || rename(temporary.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        unlink(temporary.c_str());
        fail(path, "cannot store", saved);
    }
    // The rename itself is durable only once the directory entry is on disk.
    FileDescriptor dir(open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0)
        fsync(dir.get());
}

Bytes readPrivateFile(const std::filesystem::path &path, std::size_t maxSize)
{
    FileDescriptor fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ELOOP)
            throw KeyError("refusing " + path.string() + ": it is a symbolic link");
        fail(path, "cannot open", errno);
    }
    struct stat status
    {
    };
    if (fstat(fd.get(), &status) != 0)
        fail(path, "cannot stat", errno);
    if (!S_ISREG(status.st_mode))
        throw KeyError("refusing " + path.string() + ": not a regular file");
    if (status.st_uid != geteuid())
        throw KeyError("refusing " + path.string() + ": owned by uid " +
                       std::to_string(status.st_uid) + ", not by this user (uid " +
                       std::to_string(geteuid()) + "); chown it or remove it");
    if (status.st_mode & 077)
        throw KeyError("refusing " + path.string() + ": mode " + octalMode(status.st_mode) +
                       " lets others read or replace it; run chmod 600 " + path.string());
    if (static_cast<std::size_t>(status.st_size) > maxSize)
        throw KeyError("refusing " + path.string() + ": " + std::to_string(status.st_size) +
                       " bytes is more than a key file holds");

    Bytes contents(static_cast<std::size_t>(status.st_size));
    std::size_t got = 0;
    while (got < contents.size()) {
        const ssize_t n = read(fd.get(), contents.data() + got, contents.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(path, "cannot read", errno);
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    contents.resize(got);
    return contents;
}

} // namespace vigil::attestation
