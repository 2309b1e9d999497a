#include "core/privatefile.h"

#include "core/filedescriptor.h"
#include "core/opensslptr.h"
#include "core/text.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil {

namespace {

namespace fs = std::filesystem;

std::string errnoText(int error)
{
    return std::strerror(error);
}

// The temporary file of an atomic write, removed unless it was moved into place.
class TemporaryFile
{
public:
    explicit TemporaryFile(fs::path path) : m_path(std::move(path)) {}
    ~TemporaryFile()
    {
        if (!m_path.empty())
            ::unlink(m_path.c_str());
    }
    TemporaryFile(const TemporaryFile &) = delete;
    TemporaryFile &operator=(const TemporaryFile &) = delete;
    const fs::path &path() const { return m_path; }
    void release() { m_path.clear(); }

private:
    fs::path m_path;
};

// Wipes bytes of a file that is being refused, so they do not linger in freed memory.
class WipeUnlessReleased
{
public:
    explicit WipeUnlessReleased(std::span<std::uint8_t> bytes) : m_bytes(bytes) {}
    ~WipeUnlessReleased()
    {
        if (!m_bytes.empty())
            OPENSSL_cleanse(m_bytes.data(), m_bytes.size());
    }
    WipeUnlessReleased(const WipeUnlessReleased &) = delete;
    WipeUnlessReleased &operator=(const WipeUnlessReleased &) = delete;
    void release() { m_bytes = {}; }

private:
    std::span<std::uint8_t> m_bytes;
};

// Creates dir and any missing ancestors with mode 0700; directories that exist are left as they
// are (they may be shared system directories).
void makeDirectory(const fs::path &dir, std::string_view what)
{
    struct stat st
    {
    };
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            throw KeyError("cannot create the " + std::string(what) + " in " + quoted(dir) +
                           ": it is not a directory");
        return;
    }
    if (errno != ENOENT)
        throw KeyError("cannot create the " + std::string(what) + " in " + quoted(dir) + ": " +
                       errnoText(errno));
    const fs::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir)
        makeDirectory(parent, what);
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (errno == EEXIST)
            return makeDirectory(dir, what); // created concurrently: check it is a directory
        throw KeyError("cannot create directory " + quoted(dir) + " for the " + std::string(what) +
                       ": " + errnoText(errno));
    }
    // mkdir's mode is filtered by the umask; the key's directory is exactly 0700 regardless.
    if (::chmod(dir.c_str(), 0700) != 0)
        throw KeyError("cannot set mode 0700 on " + quoted(dir) + ": " + errnoText(errno));
}

void writeAll(int fd, const std::uint8_t *data, std::size_t size, const fs::path &path)
{
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            throw KeyError("cannot write " + quoted(path) + ": " + errnoText(errno));
        }
        data += written;
        size -= std::size_t(written);
    }
}

// Unpredictable, so another user cannot plant a file or link at the temporary name beforehand.
std::string randomSuffix()
{
    std::uint8_t bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw KeyError("cannot draw random bytes: " + openSslError());
    return toHex(bytes);
}

[[noreturn]] void failToMove(const fs::path &to, std::string_view what, int error)
{
    throw KeyError("cannot move the new " + std::string(what) + " into place at " + quoted(to) +
                   ": " + errnoText(error));
}

// Moves from to to unless to exists. false if it does.
bool renameNoReplace(const fs::path &from, const fs::path &to, std::string_view what)
{
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
        return true;
    if (errno == EEXIST)
        return false;
    if (errno != EINVAL && errno != ENOSYS)
        failToMove(to, what, errno);
    // Filesystems without RENAME_NOREPLACE: link(2) is just as atomic about existing names.
    if (::link(from.c_str(), to.c_str()) != 0) {
        if (errno == EEXIST)
            return false;
        failToMove(to, what, errno);
    }
    ::unlink(from.c_str());
    return true;
}

fs::path parentOf(const fs::path &path)
{
    const fs::path parent = path.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

} // namespace

bool writePrivateFile(const fs::path &path, std::span<const std::uint8_t> contents, Replace replace,
                      std::string_view what)
{
    if (!path.has_filename())
        throw KeyError(std::string(what) + " path " + quoted(path) + " does not name a file");
    const fs::path dir = parentOf(path);
    makeDirectory(dir, what);

    // Same directory as the target so that the move is atomic; a crash leaves at worst a stray
    // dot-file, never a half-written file under the real name.
    TemporaryFile temporary(dir / ("." + path.filename().string() + ".tmp-" + randomSuffix()));
    FileDescriptor fd(::open(temporary.path().c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        const int error = errno;
        temporary.release(); // not ours to remove
        throw KeyError("cannot create " + quoted(temporary.path()) + ": " + errnoText(error));
    }
    // The umask may have taken the owner's bits away; readPrivateFile needs exactly these.
    if (::fchmod(fd.get(), 0600) != 0)
        throw KeyError("cannot set mode 0600 on " + quoted(temporary.path()) + ": " +
                       errnoText(errno));
    writeAll(fd.get(), contents.data(), contents.size(), temporary.path());
    if (::fsync(fd.get()) != 0)
        throw KeyError("cannot flush " + quoted(temporary.path()) + ": " + errnoText(errno));
    if (fd.close() != 0)
        throw KeyError("cannot write " + quoted(temporary.path()) + ": " + errnoText(errno));

    if (replace == Replace::Forbidden) {
        if (!renameNoReplace(temporary.path(), path, what))
            return false;
    } else if (::rename(temporary.path().c_str(), path.c_str()) != 0) {
        failToMove(path, what, errno);
    }
    temporary.release();

    // The move itself is durable only once the directory is.
    FileDescriptor dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirFd.get() < 0 || ::fsync(dirFd.get()) != 0)
        throw KeyError("cannot flush directory " + quoted(dir) + ": " + errnoText(errno));
    return true;
}

std::size_t readPrivateFile(const fs::path &path, std::span<std::uint8_t> buffer,
                            std::string_view what)
{
    const std::string file = std::string(what) + " file " + quoted(path);
    // O_NONBLOCK: opening a FIFO planted at the path must not hang; fstat then refuses it.
    FileDescriptor fd(
        ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        const int error = errno;
        struct stat st
        {
        };
        if (error == ELOOP && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
            throw KeyError(file + " is a symbolic link; refusing to follow it. Replace the link "
                                  "with the key file itself.");
        throw KeyError("cannot open " + file + ": " + errnoText(error));
    }
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
        throw KeyError("cannot stat " + file + ": " + errnoText(errno));
    if (!S_ISREG(st.st_mode))
        throw KeyError(file + " is not a regular file");
    if (st.st_uid != ::geteuid())
        throw KeyError(file + " is owned by uid " + std::to_string(st.st_uid) +
                       ", not by this process's user (uid " + std::to_string(::geteuid()) +
                       "); fix: chown " + std::to_string(::geteuid()) + " " + quoted(path) +
                       " (or remove it)");
    if (st.st_mode & 077)
        throw KeyError(file + " has mode " + octalMode(st.st_mode) +
                       ", which lets group or others access it; fix: chmod 600 " + quoted(path));
    if (st.st_size > off_t(buffer.size()))
        throw KeyError(file + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                       std::to_string(buffer.size()) + " a key file can be");

    WipeUnlessReleased wipe(buffer);
    std::size_t size = 0;
    // One byte past the buffer tells a file that grew past the cap after fstat.
    std::uint8_t extra = 0;
    for (;;) {
        const bool full = size == buffer.size();
        const ssize_t got = full ? ::read(fd.get(), &extra, 1)
                                 : ::read(fd.get(), buffer.data() + size, buffer.size() - size);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw KeyError("cannot read " + file + ": " + errnoText(errno));
        }
        if (got == 0)
            break;
        if (full) {
            OPENSSL_cleanse(&extra, sizeof extra);
            throw KeyError(file + " is more than " + std::to_string(buffer.size()) + " bytes");
        }
        size += std::size_t(got);
    }
    wipe.release();
    return size;
}

Bytes readPrivateFile(const fs::path &path, std::size_t maxSize, std::string_view what)
{
    // Read into a buffer of the cap, hand back an exact copy and wipe the buffer, so no copy of
    // the contents is left behind in freed memory (the read wipes it itself when it throws).
    Bytes buffer(maxSize);
    const std::size_t size = readPrivateFile(path, std::span<std::uint8_t>(buffer), what);
    Bytes contents(buffer.begin(), buffer.begin() + std::ptrdiff_t(size));
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return contents;
}

} // namespace vigil
