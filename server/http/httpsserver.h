#pragma once

// HTTPS front end of the verifier on Boost.Beast over Asio: one event loop owns every
// connection (TLS 1.2+ with OpenSSL) and a bounded pool of workers runs the handlers, so a slow
// appraisal never stalls the loop and an idle or slow connection costs memory only. Every
// framing is cut off at its limit as it arrives, and every phase of a request has a deadline
// for the whole of it, not for each read. It only moves requests to a handler and responses
// back; every decision is the handler's. docs/architecture.md says why this library.

#include "server/http/httpmessage.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace vigil::server {

class TlsCredentials;

struct HttpsServerOptions
{
    std::string address = "127.0.0.1";
    int port = 8443;                   // 0 picks a free port
    // What handshakes present until present() replaces it (TlsCredentials::load). Required.
    std::shared_ptr<const TlsCredentials> credentials;
    int threads = 16; // handlers running at once (the worker pool)
    std::size_t maxBodyBytes = 1024 * 1024;
    // The request line and all header fields together (431 above it): room for an 8 KiB DPoP
    // proof and an 8 KiB access token, which their own rules refuse past that size.
    std::size_t maxHeaderBytes = 32 * 1024;
    std::size_t maxHeaderFields = 64; // 431 above it
    // Deadlines for the whole of each phase, however the bytes trickle in.
    std::chrono::seconds handshakeTimeout{10};
    std::chrono::seconds headTimeout{10}; // from the first byte of a request to its last header
    std::chrono::seconds bodyTimeout{10};
    std::chrono::seconds writeTimeout{10};
    // A kept-alive connection with no request started is closed after this long.
    std::chrono::seconds keepAliveTimeout{5};
    std::size_t keepAliveMaxRequests = 10000;
    // Connections above either cap are closed as they are accepted, without disturbing the
    // others.
    std::size_t maxConnections = 16384;
    std::size_t maxConnectionsPerAddress = 512;
};

using RequestHandler = std::function<HttpResponse(const HttpRequest &)>;
// Sends the answer to one request; callable once, from any thread.
using Responder = std::function<void(HttpResponse)>;
// A handler that may answer later, from any thread: a request it holds (a device waiting for a
// sign-in approval) costs no thread while it waits. Responders it keeps must be answered or
// dropped before the server is destroyed.
using AsyncRequestHandler = std::function<void(const HttpRequest &, Responder)>;
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
    HttpsServer(const HttpsServerOptions &options, AsyncRequestHandler handler,
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

    // Connections open now (accepted and not yet closed), for tests and diagnostics.
    std::size_t openConnections() const;

    // Serves on the calling thread until stop(); returns false if the listener failed. Returns
    // at once (true) if stop() came first.
    bool serve();
    // From any thread (or a signal-watching thread): stops accepting and makes serve() return,
    // also when serve() has been called but is not yet running. Final: serve() does not start
    // again afterwards.
    void stop();

private:
    class Impl;
    // Read by OpenSSL's certificate callback at each handshake, on the event loop's thread.
    std::atomic<std::shared_ptr<const TlsCredentials>> m_credentials;
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

} // namespace vigil::server
