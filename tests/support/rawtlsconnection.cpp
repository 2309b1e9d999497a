#include "rawtlsconnection.h"

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace vigil::test {

RawTlsConnection::RawTlsConnection(int port, const std::filesystem::path &caFile,
                                   std::chrono::seconds patience)
    : m_context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free), m_ssl(nullptr, SSL_free)
{
    // Writing on after the server closed is what these connections are for: EPIPE, not a
    // signal that ends the test.
    std::signal(SIGPIPE, SIG_IGN);
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0 || !m_context)
        throw std::runtime_error("RawTlsConnection: no socket or TLS context");
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(patience.count());
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        ::close(m_fd);
        throw std::runtime_error("RawTlsConnection: connection refused");
    }
    SSL_CTX_load_verify_locations(m_context.get(), caFile.c_str(), nullptr);
    SSL_CTX_set_verify(m_context.get(), SSL_VERIFY_PEER, nullptr);
    m_ssl.reset(SSL_new(m_context.get()));
    SSL_set_fd(m_ssl.get(), m_fd);
    if (SSL_connect(m_ssl.get()) != 1) {
        ERR_clear_error();
        ::close(m_fd);
        throw std::runtime_error("RawTlsConnection: TLS handshake failed");
    }
}

RawTlsConnection::~RawTlsConnection()
{
    m_ssl.reset();
    ::close(m_fd);
}

bool RawTlsConnection::send(std::string_view bytes)
{
    while (!bytes.empty()) {
        const int written = SSL_write(m_ssl.get(), bytes.data(), static_cast<int>(bytes.size()));
        if (written <= 0) {
            ERR_clear_error();
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

bool RawTlsConnection::readable()
{
    if (!m_received.empty())
        return true;
    // Records that are not application data (TLS 1.3 session tickets) make the socket readable
    // too: read without waiting, and see whether anything for the application came of it.
    const int flags = ::fcntl(m_fd, F_GETFL);
    ::fcntl(m_fd, F_SETFL, flags | O_NONBLOCK);
    char buffer[16384];
    const int read = SSL_read(m_ssl.get(), buffer, sizeof buffer);
    const int error = read > 0 ? SSL_ERROR_NONE : SSL_get_error(m_ssl.get(), read);
    ::fcntl(m_fd, F_SETFL, flags);
    ERR_clear_error();
    if (read > 0)
        m_received.append(buffer, static_cast<std::size_t>(read));
    return read > 0 || (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE);
}

int RawTlsConnection::readStatus()
{
    char buffer[16384];
    // Until the head and the body its Content-Length announces are in.
    for (;;) {
        const auto headEnd = m_received.find("\r\n\r\n");
        if (headEnd != std::string::npos) {
            const std::string head = m_received.substr(0, headEnd);
            std::size_t length = 0;
            if (const auto at = head.find("\r\nContent-Length: "); at != std::string::npos)
                length = std::strtoul(head.c_str() + at + 18, nullptr, 10);
            if (m_received.size() >= headEnd + 4 + length) {
                m_received.erase(0, headEnd + 4 + length);
                if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12)
                    return 0;
                return std::atoi(head.c_str() + 9);
            }
        }
        const int read = SSL_read(m_ssl.get(), buffer, sizeof buffer);
        if (read <= 0) {
            ERR_clear_error();
            return 0;
        }
        m_received.append(buffer, static_cast<std::size_t>(read));
    }
}

bool RawTlsConnection::closedByServer()
{
    char buffer[4096];
    for (;;) {
        const int read = SSL_read(m_ssl.get(), buffer, sizeof buffer);
        if (read > 0) {
            m_received.append(buffer, static_cast<std::size_t>(read));
            continue;
        }
        const int error = SSL_get_error(m_ssl.get(), read);
        const bool timedOut =
            error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
        ERR_clear_error();
        return !timedOut;
    }
}

} // namespace vigil::test
