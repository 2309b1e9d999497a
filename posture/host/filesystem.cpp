#include "posture/host/filesystem.h"

#include "core/text.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::posture {

namespace {

std::vector<std::string> splitPath(std::string_view path)
{
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos < path.size()) {
        const auto next = path.find('/', pos);
        const auto part = path.substr(pos, next == std::string_view::npos ? path.npos : next - pos);
        if (!part.empty() && part != ".")
            parts.emplace_back(part);
        if (next == std::string_view::npos)
            break;
        pos = next + 1;
    }
    return parts;
}

} // namespace

FileSystem::FileSystem(std::filesystem::path root) : m_root(std::move(root)) {}

std::string FileSystem::ReadResult::errorText() const
{
    if (!error)
        return {};
    if (error == std::errc::no_such_file_or_directory)
        return "not found";
    if (error == std::errc::permission_denied || error == std::errc::operation_not_permitted)
        return "permission denied";
    if (error == std::errc::is_a_directory)
        return "is a directory";
    return error.message();
}

std::filesystem::path FileSystem::hostPath(std::string_view path) const
{
    if (m_root == "/")
        return std::filesystem::path(path);
    std::filesystem::path result = m_root;
    for (const auto &part : splitPath(path))
        result /= part;
    return result;
}

FileSystem::ReadResult FileSystem::readFile(std::string_view path, std::size_t maxBytes) const
{
    ReadResult result;
    // Symlinks are resolved inside the root first so a fixture's absolute links stay in it.
    const auto resolved = canonicalPath(path);
    const auto host = hostPath(resolved ? std::string_view(*resolved) : path);
    const int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        result.error = std::error_code(errno, std::generic_category());
        return result;
    }
    struct stat st
    {
    };
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        result.error = std::make_error_code(std::errc::is_a_directory);
        return result;
    }
    char buffer[16384];
    while (result.data.size() < maxBytes) {
        const auto want = std::min(sizeof buffer, maxBytes - result.data.size());
        const auto got = ::read(fd, buffer, want);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            // A FIFO or device with nothing to read yet counts as empty, not as a hang.
            if (errno != EAGAIN)
                result.error = std::error_code(errno, std::generic_category());
            break;
        }
        if (got == 0)
            break;
        result.data.append(buffer, static_cast<std::size_t>(got));
    }
    if (!result.error && result.data.size() >= maxBytes) {
        char probe;
        result.truncated = ::read(fd, &probe, 1) == 1;
    }
    ::close(fd);
    return result;
}

std::optional<std::string> FileSystem::readTrimmed(std::string_view path) const
{
    auto result = readFile(path, 64 * 1024);
    if (!result.ok())
        return std::nullopt;
    return std::string(trimmedView(result.data));
}

bool FileSystem::exists(std::string_view path) const
{
    std::error_code ec;
    return std::filesystem::exists(hostPath(canonicalPath(path).value_or(std::string(path))), ec);
}

bool FileSystem::isDirectory(std::string_view path) const
{
    std::error_code ec;
    return std::filesystem::is_directory(hostPath(canonicalPath(path).value_or(std::string(path))),
                                         ec);
}

bool FileSystem::isRegularFile(std::string_view path) const
{
    std::error_code ec;
    return std::filesystem::is_regular_file(
        hostPath(canonicalPath(path).value_or(std::string(path))), ec);
}

std::vector<std::string> FileSystem::listDirectory(std::string_view path,
                                                   std::error_code &error) const
{
    std::vector<std::string> names;
    error.clear();
    const auto host = hostPath(canonicalPath(path).value_or(std::string(path)));
    std::filesystem::directory_iterator it(host, error);
    for (; !error && it != std::filesystem::directory_iterator(); it.increment(error))
        names.push_back(it->path().filename().string());
    if (error)
        names.clear();
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> FileSystem::listDirectory(std::string_view path) const
{
    std::error_code ignored;
    return listDirectory(path, ignored);
}

std::optional<std::chrono::system_clock::time_point>
FileSystem::modificationTime(std::string_view path) const
{
    struct stat st
    {
    };
    const auto host = hostPath(canonicalPath(path).value_or(std::string(path)));
    if (::stat(host.c_str(), &st) != 0)
        return std::nullopt;
    const auto since =
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since));
}

std::error_code FileSystem::tryOpen(std::string_view path, bool readWrite) const
{
    const auto host = hostPath(canonicalPath(path).value_or(std::string(path)));
    const int fd =
        ::open(host.c_str(), (readWrite ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return std::error_code(errno, std::generic_category());
    ::close(fd);
    return {};
}

std::optional<std::string> FileSystem::canonicalPath(std::string_view path) const
{
    std::vector<std::string> pending = splitPath(path);
    std::reverse(pending.begin(), pending.end());
    std::vector<std::string> resolved;
    int linksFollowed = 0;
    while (!pending.empty()) {
        std::string part = std::move(pending.back());
        pending.pop_back();
        if (part == "..") {
            if (!resolved.empty())
                resolved.pop_back();
            continue;
        }
        std::string current;
        for (const auto &p : resolved)
            current += "/" + p;
        current += "/" + part;
        const auto host = hostPath(current);
        struct stat st
        {
        };
        if (::lstat(host.c_str(), &st) != 0)
            return std::nullopt;
        if (!S_ISLNK(st.st_mode)) {
            resolved.push_back(std::move(part));
            continue;
        }
        if (++linksFollowed > 40)
            return std::nullopt;
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(host, ec);
        if (ec)
            return std::nullopt;
        const auto targetText = target.string();
        if (!targetText.empty() && targetText.front() == '/')
            resolved.clear();
        auto targetParts = splitPath(targetText);
        for (auto it = targetParts.rbegin(); it != targetParts.rend(); ++it)
            pending.push_back(std::move(*it));
    }
    std::string result;
    for (const auto &p : resolved)
        result += "/" + p;
    return result.empty() ? std::string("/") : result;
}

} // namespace vigil::posture
