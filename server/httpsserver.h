#pragma once

// HTTPS front end of the verifier on cpp-httplib: TLS 1.2+ with OpenSSL, a fixed thread pool,
// request size and time limits. It only moves requests to a handler and responses back; every
// decision is the handler's. docs/architecture.md says why this library.

#include "httpmessage.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace httplib {
class SSLServer;
}

namespace vigil::server {

class TlsCredentials;

struct HttpsServerOptions
{
    std::string address = "127.0.0.1";
    int port = 8443;                   // 0 picks a free port
    // What handshakes present until present() replaces it (TlsCredentials::load). Required.
    std::shared_ptr<const TlsCredentials> credentials;
    int threads = 16;                  // concurrent connections served
    std::size_t maxBodyBytes = 1024 * 1024;
    // A client that sends nothing for this long in the middle of a request is disconnected.
    std::chrono::seconds readTimeout{10};
    std::chrono::seconds writeTimeout{10};
    // An idle keep-alive connection is closed after this long.
    std::chrono::seconds keepAliveTimeout{5};
    std::size_t keepAliveMaxRequests = 10000;
};

using RequestHandler = std::function<HttpResponse(const HttpRequest &)>;
// Called once per request after the response is ready: method, path, status, duration. Never
// given headers or bodies, which carry tokens and proofs.
using AccessLogger =
    std::function<void(const std::string &method, const std::string &path, int status,
                       std::chrono::microseconds duration, const std::string &peerAddress)>;

class HttpsServer
{
public:
    // Binds the address. Throws std::runtime_error naming the address that failed, and
    // std::invalid_argument without credentials.
    HttpsServer(const HttpsServerOptions &options, RequestHandler handler,
                AccessLogger logger = {});
    ~HttpsServer();
    HttpsServer(const HttpsServer &) = delete;
    HttpsServer &operator=(const HttpsServer &) = delete;

    int port() const { return m_port; }

    // What the next handshake presents. present() swaps in another certificate and key (a
    // renewal) from any thread: handshakes from then on present them, connections already
    // established keep theirs.
    std::shared_ptr<const TlsCredentials> presented() const { return m_credentials.load(); }
    void present(std::shared_ptr<const TlsCredentials> credentials);

    // Serves until stop(); returns false if the listener failed. Returns at once (true) if
    // stop() came first.
    bool serve();
    // From any thread (or a signal-watching thread): stops accepting and makes serve() return,
    // also when serve() has been called but is not yet listening. Final: serve() does not start
    // again afterwards.
    void stop();

private:
    // Read by OpenSSL's certificate callback at each handshake, on the connection's thread.
    std::atomic<std::shared_ptr<const TlsCredentials>> m_credentials;
    std::unique_ptr<httplib::SSLServer> m_server;
    int m_port = 0;
    std::atomic<bool> m_stopRequested{false};
    std::atomic<bool> m_serving{false};
};

} // namespace vigil::server
