#pragma once

// What the client's small-file readers share (the CA files in enrollmentstate.cpp, the
// enrollment token in verifiercommands.cpp); each words its own errors.

#include <cstddef>
#include <string>

namespace vigil::app {

// Closes the descriptor it owns; -1 owns nothing.
class FileDescriptor
{
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor();
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

// Reads fd to its end, but at most maxBytes + 1 bytes, so that the caller can tell a file over
// its limit; retries interrupted reads. Throws std::system_error (generic category, the errno)
// when a read fails.
std::string readUpTo(int fd, std::size_t maxBytes);

} // namespace vigil::app
