#include "server/http/httpsserver.h"

#include "server/http/httpsconnection.h"
#include "server/tls/tlscredentials.h"

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/ssl.h>
#include <stdexcept>

namespace vigil::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// Each handshake presents the credentials current when it starts, so present() takes effect
// without touching the SSL_CTX that connections share.
int presentCurrentCredentials(SSL *connection, void *current)
{
    const auto credentials =
        static_cast<std::atomic<std::shared_ptr<const TlsCredentials>> *>(current)->load();
    return credentials->applyTo(connection) ? 1 : 0;
}

void configureTls(SSL_CTX &context, std::atomic<std::shared_ptr<const TlsCredentials>> &current)
{
    // TLS 1.2 is the floor DESIGN.md sets; 1.3 is preferred by OpenSSL's negotiation.
    SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
    SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                      SSL_OP_CIPHER_SERVER_PREFERENCE);
    // An idle connection gives its read and write buffers back (~34 KB each).
    SSL_CTX_set_mode(&context, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_cert_cb(&context, presentCurrentCredentials, &current);
}

} // namespace

class HttpsServer::Impl
{
public:
    Impl(const HttpsServerOptions &options, AsyncRequestHandler handler, AccessLogger logger)
        : m_context(
              std::make_shared<ServerContext>(options, std::move(handler), std::move(logger))),
          m_workers(static_cast<std::size_t>(std::max(1, options.threads)))
    {
    }
    ~Impl()
    {
        m_io.stop();
        m_workers.join(); // handlers in flight finish; their answers go nowhere
    }

    void accept()
    {
        m_acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted)
                return;
            if (ec) {
                // Out of descriptors or memory: the others keep being served; try again soon.
                qCWarning(lcHttps) << "accepting a connection failed:" << ec.message().c_str();
                m_retry.expires_after(std::chrono::milliseconds(100));
                m_retry.async_wait([this](beast::error_code waitError) {
                    if (!waitError)
                        accept();
                });
                return;
            }
            beast::error_code ignored;
            const auto peer = socket.remote_endpoint(ignored).address().to_string();
            if (m_context->connections.admit(peer)) {
                socket.set_option(tcp::no_delay(true), ignored);
                serveConnection(std::move(socket), m_tls, m_context, m_workers, peer);
            } else {
                // Closed at once with a reset, holding nothing (not even TIME_WAIT).
                socket.set_option(asio::socket_base::linger(true, 0), ignored);
                socket.close(ignored);
            }
            accept();
        });
    }

    std::shared_ptr<ServerContext> m_context;
    asio::thread_pool m_workers;
    asio::io_context m_io{1};
    asio::ssl::context m_tls{asio::ssl::context::tls_server};
    tcp::acceptor m_acceptor{m_io};
    asio::steady_timer m_retry{m_io};
    std::atomic<bool> m_stopRequested{false};
};

HttpsServer::HttpsServer(const HttpsServerOptions &options, RequestHandler handler,
                         AccessLogger logger)
    : HttpsServer(
          options,
          [handler = std::move(handler)](const HttpRequest &request, Responder respond) {
              respond(handler(request));
          },
          std::move(logger))
{
}

HttpsServer::HttpsServer(const HttpsServerOptions &options, AsyncRequestHandler handler,
                         AccessLogger logger)
{
    if (!options.credentials)
        throw std::invalid_argument("HttpsServer needs TLS credentials");
    m_credentials = options.credentials;
    m_impl = std::make_unique<Impl>(options, std::move(handler), std::move(logger));
    configureTls(*m_impl->m_tls.native_handle(), m_credentials);

    // The messages name the address as given; the system's reason adds nothing for a port in
    // use, the usual cause.
    const std::string failed = options.port == 0
                                   ? "cannot listen on " + options.address
                                   : "cannot listen on " + options.address + ":" +
                                         std::to_string(options.port) +
                                         " (in use, or not an address of this machine?)";
    beast::error_code ec;
    const auto address = asio::ip::make_address(options.address, ec);
    if (ec)
        throw std::runtime_error(failed);
    auto &acceptor = m_impl->m_acceptor;
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    // SO_REUSEADDR allows a restart while old connections linger in TIME_WAIT; SO_REUSEPORT,
    // which would let a second server take a share of the connections, stays off.
    if (acceptor.open(endpoint.protocol(), ec) ||
        acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
        acceptor.bind(endpoint, ec) ||
        acceptor.listen(asio::socket_base::max_listen_connections, ec))
        throw std::runtime_error(failed);
    m_port = acceptor.local_endpoint().port();
}

void HttpsServer::present(std::shared_ptr<const TlsCredentials> credentials)
{
    if (!credentials)
        throw std::invalid_argument("HttpsServer::present needs credentials");
    m_credentials.store(std::move(credentials));
}

std::size_t HttpsServer::openConnections() const
{
    return m_impl->m_context->connections.total();
}

HttpsServer::~HttpsServer()
{
    stop();
    m_impl.reset();
}

bool HttpsServer::serve()
{
    if (m_impl->m_stopRequested)
        return true;
    m_impl->accept();
    try {
        m_impl->m_io.run();
    } catch (const std::exception &e) {
        qCCritical(lcHttps) << "the event loop failed:" << e.what();
        return false;
    }
    return true;
}

void HttpsServer::stop()
{
    if (!m_impl || m_impl->m_stopRequested.exchange(true))
        return;
    // io_context::stop() is thread-safe and sticky: a run() that starts later returns at once.
    m_impl->m_io.stop();
}

} // namespace vigil::server
