#include "loopbackport.h"

#include <QtGlobal>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::test {

namespace {

// A TCP socket bound to a free loopback port, listening or not; fills port.
int boundLoopbackSocket(bool listening, int &port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0 ||
        (listening && ::listen(fd, 8) != 0))
        qFatal("cannot set up a loopback socket");
    port = ntohs(address.sin_port);
    return fd;
}

} // namespace

ClosedLoopbackPort::ClosedLoopbackPort()
{
    m_fd = boundLoopbackSocket(false, m_port);
}

ClosedLoopbackPort::~ClosedLoopbackPort()
{
    ::close(m_fd);
}

SilentLoopbackListener::SilentLoopbackListener()
{
    m_fd = boundLoopbackSocket(true, m_port);
}

SilentLoopbackListener::~SilentLoopbackListener()
{
    ::close(m_fd);
}

} // namespace vigil::test
