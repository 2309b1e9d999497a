#pragma once

// Owned descriptors and bounded reads, for the readers and writers of small files (private key
// files, the client's CA files, the enrollment token); each words its own errors.

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil {

// Closes the descriptor it owns; -1 owns nothing.
class FileDescriptor
{
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor();
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;
    int get() const { return m_fd; }
    // close(2) reports deferred write errors, so callers that wrote check it.
    int close();

private:
    int m_fd;
};

// Reads fd to its end, but at most maxBytes + 1 bytes, so that the caller can tell a file over
// its limit; retries interrupted reads. Throws std::system_error (generic category, the errno)
// when a read fails.
std::string readUpTo(int fd, std::size_t maxBytes);

// Writes all of bytes to fd, finishing a short write (a full pipe, a signal) rather than
// dropping the rest. False when fd fails or is gone; the caller decides whether that matters.
bool writeAll(int fd, std::string_view bytes);

} // namespace vigil
