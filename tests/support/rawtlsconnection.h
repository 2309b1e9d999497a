#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace vigil::test {

// A TLS connection to a loopback port that sends exactly the bytes a test gives it: for what no
// well-behaved HTTP client sends (broken framing, heads that never end, bodies past a limit).
// Reads give up after `patience`, so that a server that never answers fails a test instead of
// hanging it.
class RawTlsConnection
{
public:
    // Connects and completes the handshake; throws std::runtime_error otherwise.
    RawTlsConnection(int port, const std::filesystem::path &caFile,
                     std::chrono::seconds patience = std::chrono::seconds(15));
    ~RawTlsConnection();
    RawTlsConnection(const RawTlsConnection &) = delete;
    RawTlsConnection &operator=(const RawTlsConnection &) = delete;

    // False once the server has closed or reset the connection.
    bool send(std::string_view bytes);
    // Whether the server has sent application data (or closed): a read would not wait.
    bool readable();
    // The status code of the next response (its body read and dropped), or 0 if the connection
    // ended or the patience ran out first.
    int readStatus();
    // Whether the server closed the connection: true once a read sees its end or a reset.
    bool closedByServer();

private:
    int m_fd = -1;
    std::unique_ptr<ssl_ctx_st, void (*)(ssl_ctx_st *)> m_context;
    std::unique_ptr<ssl_st, void (*)(ssl_st *)> m_ssl;
    std::string m_received;
};

} // namespace vigil::test
