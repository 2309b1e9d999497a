#pragma once

namespace vigil::test {

// A loopback TCP port that refuses connections for as long as this object lives: a socket is
// bound to it but never listens. Holding the socket, rather than closing it, keeps a suite
// running beside this one from taking the port in the meantime. This is how tests make a
// server unreachable.
class ClosedLoopbackPort
{
public:
    ClosedLoopbackPort();
    ~ClosedLoopbackPort();
    ClosedLoopbackPort(const ClosedLoopbackPort &) = delete;
    ClosedLoopbackPort &operator=(const ClosedLoopbackPort &) = delete;

    int port() const { return m_port; }

private:
    int m_fd = -1;
    int m_port = 0;
};

// A loopback TCP socket that listens and never accepts: the kernel completes the TCP handshake
// and nobody answers, which is how tests make a server that never speaks.
class SilentLoopbackListener
{
public:
    SilentLoopbackListener();
    ~SilentLoopbackListener();
    SilentLoopbackListener(const SilentLoopbackListener &) = delete;
    SilentLoopbackListener &operator=(const SilentLoopbackListener &) = delete;

    int port() const { return m_port; }

private:
    int m_fd = -1;
    int m_port = 0;
};

} // namespace vigil::test
