#include "loopbackport.h"

#include <QtGlobal>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::test {

ClosedLoopbackPort::ClosedLoopbackPort()
{
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        qFatal("cannot bind a loopback socket");
    m_port = ntohs(address.sin_port);
}

ClosedLoopbackPort::~ClosedLoopbackPort()
{
    ::close(m_fd);
}

} // namespace vigil::test
