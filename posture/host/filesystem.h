#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace vigil::posture {

// The machine's files as collectors see them: every path is absolute as on the target
// ("/etc/os-release") and is read below a root directory, so tests run against fixture trees
// shaped like "/". Symbolic links are resolved inside the root, never out of it.
class FileSystem
{
public:
    explicit FileSystem(std::filesystem::path root = "/");

    struct ReadResult
    {
        std::string data;
        std::error_code error;
        bool truncated = false;

        bool ok() const { return !error; }
        // "not found", "permission denied", … — phrased for a reason text.
        std::string errorText() const;
    };

    static constexpr std::size_t defaultReadLimit = 4 * 1024 * 1024;

    // Reads at most maxBytes. Never blocks on FIFOs or device nodes that have no data.
    ReadResult readFile(std::string_view path, std::size_t maxBytes = defaultReadLimit) const;
    // readFile with surrounding whitespace removed; nullopt when the file can't be read.
    std::optional<std::string> readTrimmed(std::string_view path) const;

    bool exists(std::string_view path) const;
    bool isDirectory(std::string_view path) const;
    bool isRegularFile(std::string_view path) const;
    // Entry names (not paths), sorted; empty with error set when the directory can't be read.
    std::vector<std::string> listDirectory(std::string_view path, std::error_code &error) const;
    std::vector<std::string> listDirectory(std::string_view path) const;
    std::optional<std::chrono::system_clock::time_point>
    modificationTime(std::string_view path) const;
    // Opens and closes the file (read-write when asked), to learn whether this process may use
    // it: for device nodes whose permissions depend on groups and ACLs, not on mode bits alone.
    std::error_code tryOpen(std::string_view path, bool readWrite) const;

    // The path with every symbolic link resolved inside the root, as a target path
    // ("/dev/mapper/root" -> "/dev/dm-0"); nullopt when a component is missing or links loop.
    std::optional<std::string> canonicalPath(std::string_view path) const;

    // Where a target path lives on this machine ("/etc/x" -> "<root>/etc/x").
    std::filesystem::path hostPath(std::string_view path) const;
    const std::filesystem::path &root() const { return m_root; }

private:
    std::filesystem::path m_root;
};

} // namespace vigil::posture
