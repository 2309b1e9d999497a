#pragma once

// The data directory as a directory of files: creating it and its files with exact modes,
// removing them again when initialise() fails half-way, and checking the owner and mode of a
// directory before it is used. Every failure throws DataDirectoryError naming the path.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace vigil::server::datadir {

// What initialise() has created, removed again unless it completes: a failed init leaves the
// directory as it found it, so that it can simply be run again.
class Rollback
{
public:
    ~Rollback()
    {
        for (auto it = m_created.rbegin(); it != m_created.rend(); ++it) {
            std::error_code ignored;
            std::filesystem::remove(*it, ignored);
        }
    }
    void add(std::filesystem::path path) { m_created.push_back(std::move(path)); }
    void commit() { m_created.clear(); }

private:
    std::vector<std::filesystem::path> m_created;
};

// Writes a file that must not exist yet, with mode, and adds it to rollback.
void writeNewFile(const std::filesystem::path &path, std::span<const std::uint8_t> contents,
                  mode_t mode, std::string_view what, Rollback &rollback);

// mkdir with mode exactly, whatever the umask; added to rollback when one is given.
void makeDirectory(const std::filesystem::path &path, mode_t mode, Rollback *rollback);

// Creates dir, or checks that an existing dir is an empty directory of ours and makes it 0700.
void prepareDirectory(const std::filesystem::path &dir, Rollback &rollback);

// A directory owned by the effective user and not writable by group or others.
void checkDirectory(const std::filesystem::path &dir);

} // namespace vigil::server::datadir
