#include "core/filedescriptor.h"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace vigil {

FileDescriptor::~FileDescriptor()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

int FileDescriptor::close()
{
    const int result = ::close(m_fd);
    m_fd = -1;
    return result;
}

std::string readUpTo(int fd, std::size_t maxBytes)
{
    std::string contents(maxBytes + 1, '\0');
    std::size_t total = 0;
    while (total < contents.size()) {
        const ssize_t got = ::read(fd, contents.data() + total, contents.size() - total);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            throw std::system_error(errno, std::generic_category());
        if (got == 0)
            break;
        total += static_cast<std::size_t>(got);
    }
    contents.resize(total);
    return contents;
}

bool writeAll(int fd, std::string_view bytes)
{
    for (std::size_t written = 0; written < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        written += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace vigil
