#include "server/admin/datadirectoryfiles.h"

#include "core/privatefile.h"
#include "core/text.h"
#include "protocol/jose/devicekey.h"
#include "server/admin/datadirectory.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::server::datadir {

namespace fs = std::filesystem;

void writeNewFile(const fs::path &path, std::span<const std::uint8_t> contents, mode_t mode,
                  std::string_view what, Rollback &rollback)
{
    try {
        if (!writePrivateFile(path, contents, Replace::Forbidden, what))
            throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " appeared while the data directory was being initialised "
                                     "(is another `vigil-verifier init` running?); it was left "
                                     "alone. Remove the directory's contents and run init again.");
    } catch (const KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    rollback.add(path);
    // Written 0600 like every file privatefile writes; certificates are public.
    if (mode != 0600 && ::chmod(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot set mode " + octalMode(mode) + " on " + quoted(path) +
                                 ": " + std::strerror(errno));
}

void makeDirectory(const fs::path &path, mode_t mode, Rollback *rollback)
{
    if (::mkdir(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot create directory " + quoted(path) + ": " +
                                 std::strerror(errno));
    if (rollback)
        rollback->add(path);
    // mkdir's mode passes through the umask; these modes are exact whatever the umask.
    if (::chmod(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot set mode " + octalMode(mode) + " on " + quoted(path) +
                                 ": " + std::strerror(errno));
}

void prepareDirectory(const fs::path &dir, Rollback &rollback)
{
    struct stat st
    {
    };
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT)
            throw DataDirectoryError("cannot use data directory " + quoted(dir) + ": " +
                                     std::strerror(errno));
        const fs::path parent = dir.parent_path();
        if (!parent.empty()) {
            std::error_code error;
            fs::create_directories(parent, error);
            if (error)
                throw DataDirectoryError("cannot create " + quoted(parent) +
                                         " for the data "
                                         "directory: " +
                                         error.message());
        }
        makeDirectory(dir, 0700, &rollback);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        throw DataDirectoryError("data directory " + quoted(dir) +
                                 " exists and is not a directory; choose another path");
    std::error_code error;
    const bool empty = fs::is_empty(dir, error);
    if (error)
        throw DataDirectoryError("cannot read data directory " + quoted(dir) + ": " +
                                 error.message());
    if (!empty)
        throw DataDirectoryError(
            "data directory " + quoted(dir) +
            " is not empty; refusing to initialise over it, which would replace a CA that agents "
            "may already pin. Choose a new or empty directory (remove this one only if nothing "
            "uses its CA).");
    if (st.st_uid != ::geteuid())
        throw DataDirectoryError("data directory " + quoted(dir) + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", not by this process's user (uid " +
                                 std::to_string(::geteuid()) + "); fix: chown " +
                                 std::to_string(::geteuid()) + " " + quoted(dir));
    if (::chmod(dir.c_str(), 0700) != 0)
        throw DataDirectoryError("cannot set mode 0700 on " + quoted(dir) + ": " +
                                 std::strerror(errno));
}

void checkDirectory(const fs::path &dir)
{
    struct stat st
    {
    };
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw DataDirectoryError("data directory " + quoted(dir) +
                                     " does not exist; create it with `vigil-verifier init "
                                     "--data " +
                                     quoted(dir) + "`");
        throw DataDirectoryError("cannot use data directory " + quoted(dir) + ": " +
                                 std::strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        throw DataDirectoryError("data directory " + quoted(dir) + " is not a directory");
    if (st.st_uid != ::geteuid())
        throw DataDirectoryError("data directory " + quoted(dir) + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", not by this process's user (uid " +
                                 std::to_string(::geteuid()) +
                                 "); fix: run vigil-verifier as its owner, or chown -R " +
                                 std::to_string(::geteuid()) + " " + quoted(dir));
    if (st.st_mode & 022)
        throw DataDirectoryError(
            "data directory " + quoted(dir) + " has mode " + octalMode(st.st_mode) +
            ", which lets group or others replace its files; fix: chmod 700 " + quoted(dir));
}

} // namespace vigil::server::datadir
