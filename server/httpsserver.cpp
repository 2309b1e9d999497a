#include "httpsserver.h"

#include "opensslptr.h"
#include "tlscredentials.h"

#include <QLoggingCategory>
#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <optional>
#include <stdexcept>
#include <unordered_map>

Q_LOGGING_CATEGORY(lcHttps, "vigil.verifier.https")

namespace vigil::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

std::string problemBody(int status, const std::string &code, const std::string &title,
                        const std::string &detail)
{
    return nlohmann::json{{"type", "https://vigil.dev/problems/" + code},
                          {"title", title},
                          {"status", status},
                          {"detail", detail},
                          {"code", code}}
        .dump();
}

HttpResponse problem(int status, const std::string &code, const std::string &title,
                     const std::string &detail)
{
    HttpResponse response;
    response.status = status;
    response.contentType = "application/problem+json";
    response.body = problemBody(status, code, title, detail);
    return response;
}

HttpResponse internalError()
{
    return problem(500, "internal_error", "Internal error", "the verifier failed; see its log");
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The target's path, percent-decoded, without the query string: what handlers route on.
std::string decodedPath(beast::string_view target)
{
    target = target.substr(0, target.find('?'));
    std::string path;
    path.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        const int high = i + 2 < target.size() && target[i] == '%' ? hexDigit(target[i + 1]) : -1;
        const int low = high >= 0 ? hexDigit(target[i + 2]) : -1;
        if (low >= 0) {
            path.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else {
            path.push_back(target[i]);
        }
    }
    return path;
}

std::string lowerCase(beast::string_view text)
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

// The peer went away, a deadline passed, or TLS failed: there is no one to answer.
bool connectionLost(const beast::error_code &ec)
{
    return ec && (ec == beast::error::timeout || ec == asio::error::eof ||
                  ec == http::error::end_of_stream ||
                  ec.category() == asio::error::get_system_category() ||
                  ec.category() == asio::error::get_ssl_category() ||
                  ec.category() == asio::ssl::error::get_stream_category());
}

// Open connections, in all and per peer address. Shared with the sessions, which may outlive
// the server's own members by a moment at shutdown.
class ConnectionCount
{
public:
    ConnectionCount(std::size_t maxTotal, std::size_t maxPerAddress)
        : m_maxTotal(maxTotal), m_maxPerAddress(maxPerAddress)
    {
    }
    bool admit(const std::string &address)
    {
        const std::lock_guard lock(m_mutex);
        auto &fromAddress = m_perAddress[address];
        if (m_total >= m_maxTotal || fromAddress >= m_maxPerAddress) {
            if (fromAddress == 0)
                m_perAddress.erase(address);
            return false;
        }
        ++fromAddress;
        ++m_total;
        return true;
    }
    void release(const std::string &address)
    {
        const std::lock_guard lock(m_mutex);
        --m_total;
        if (const auto it = m_perAddress.find(address); it != m_perAddress.end() && --it->second == 0)
            m_perAddress.erase(it);
    }
    std::size_t total() const
    {
        const std::lock_guard lock(m_mutex);
        return m_total;
    }

private:
    mutable std::mutex m_mutex;
    std::size_t m_maxTotal;
    std::size_t m_maxPerAddress;
    std::size_t m_total = 0;
    std::unordered_map<std::string, std::size_t> m_perAddress;
};

// What every session needs of the server, kept alive by the sessions themselves.
struct ServerContext
{
    ServerContext(const HttpsServerOptions &serverOptions, AsyncRequestHandler requestHandler,
                  AccessLogger accessLogger)
        : options(serverOptions), handler(std::move(requestHandler)),
          logger(std::move(accessLogger)),
          connections(serverOptions.maxConnections, serverOptions.maxConnectionsPerAddress),
          tooLarge("request bodies are limited to " + std::to_string(serverOptions.maxBodyBytes) +
                   " bytes")
    {
    }
    const HttpsServerOptions options;
    const AsyncRequestHandler handler;
    const AccessLogger logger;
    ConnectionCount connections;
    const std::string tooLarge;
};

// One connection, from the handshake to the close. Lives on the event loop's thread except
// for the handler, which runs on a worker with a copy of the request.
class Session : public std::enable_shared_from_this<Session>
{
public:
    Session(tcp::socket socket, asio::ssl::context &tls, std::shared_ptr<ServerContext> context,
            asio::thread_pool &workers, std::string peer)
        : m_stream(std::move(socket), tls), m_context(std::move(context)), m_workers(workers),
          m_peer(std::move(peer))
    {
    }
    ~Session() { m_context->connections.release(m_peer); }

    void start()
    {
        beast::get_lowest_layer(m_stream).expires_after(m_context->options.handshakeTimeout);
        m_stream.async_handshake(asio::ssl::stream_base::server,
                                 [self = shared_from_this()](beast::error_code ec) {
                                     if (!ec)
                                         self->awaitRequest();
                                 });
    }

private:
    const HttpsServerOptions &options() const { return m_context->options; }

    // Waits for a request's first byte (the keep-alive timeout, or the head's for the first
    // request), then gives the whole head its own deadline.
    void awaitRequest()
    {
        m_parser.emplace();
        m_parser->header_limit(static_cast<std::uint32_t>(options().maxHeaderBytes));
        m_parser->body_limit(options().maxBodyBytes);
        if (m_buffer.size() > 0) // pipelined: already here
            return readHead();
        m_buffer.shrink_to_fit(); // an idle connection holds no buffer
        auto &socket = beast::get_lowest_layer(m_stream);
        socket.expires_after(m_requests == 0 ? options().headTimeout : options().keepAliveTimeout);
        m_stream.async_read_some(m_buffer.prepare(2048),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                     self->m_buffer.commit(n);
                                     if (!ec)
                                         self->readHead();
                                 });
    }

    void readHead()
    {
        m_started = std::chrono::steady_clock::now();
        beast::get_lowest_layer(m_stream).expires_after(options().headTimeout);
        http::async_read_header(
            m_stream, m_buffer, *m_parser,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHead(ec); });
    }

    void onHead(beast::error_code ec)
    {
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            return refuse(431, "header_fields_too_large", "Request header fields too large",
                          "the request head is limited to " +
                              std::to_string(options().maxHeaderBytes) + " bytes");
        if (ec == http::error::body_limit)
            return refuse(413, "payload_too_large", "Request body too large", m_context->tooLarge);
        if (connectionLost(ec))
            return; // gone, or too slow: nothing to answer
        if (ec)
            return refuse(400, "malformed_request", "Malformed request",
                          "the HTTP request could not be read (" + ec.message() + ")");

        const auto &head = m_parser->get();
        std::size_t fields = 0, contentLengths = 0;
        for (const auto &field : head) {
            ++fields;
            if (field.name() == http::field::content_length)
                ++contentLengths;
        }
        if (fields > options().maxHeaderFields)
            return refuse(431, "header_fields_too_large", "Request header fields too large",
                          "a request may have at most " +
                              std::to_string(options().maxHeaderFields) + " header fields");
        // Beast accepts repeated equal lengths; a request smuggled past a proxy often has them.
        if (contentLengths > 1)
            return refuse(400, "malformed_request", "Malformed request",
                          "more than one Content-Length header");
        if (head.count(http::field::transfer_encoding) > 0 && !m_parser->chunked())
            return refuse(400, "malformed_request", "Malformed request",
                          "the only transfer coding accepted is chunked");
        // The API never needs them, and an inflated body could not be bounded as it arrives.
        if (head.count(http::field::content_encoding) > 0)
            return refuse(415, "unsupported_media_type", "Unsupported media type",
                          "request bodies with a Content-Encoding are not accepted");

        if (beast::iequals(head[http::field::expect], "100-continue")) {
            auto interim = std::make_shared<http::response<http::empty_body>>(
                http::status::continue_, head.version());
            beast::get_lowest_layer(m_stream).expires_after(options().writeTimeout);
            return http::async_write(
                m_stream, *interim,
                [self = shared_from_this(), interim](beast::error_code writeError, std::size_t) {
                    if (!writeError)
                        self->readBody();
                });
        }
        readBody();
    }

    void readBody()
    {
        beast::get_lowest_layer(m_stream).expires_after(options().bodyTimeout);
        http::async_read(m_stream, m_buffer, *m_parser,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->onBody(ec);
                         });
    }

    void onBody(beast::error_code ec)
    {
        if (ec == http::error::body_limit)
            return refuse(413, "payload_too_large", "Request body too large", m_context->tooLarge);
        if (connectionLost(ec) || ec == http::error::partial_message)
            return;
        if (ec)
            return refuse(400, "malformed_request", "Malformed request",
                          "the HTTP request could not be read (" + ec.message() + ")");
        dispatch();
    }

    void dispatch()
    {
        auto message = m_parser->release();
        m_keepAlive = message.keep_alive();
        auto request = std::make_shared<HttpRequest>();
        request->method = std::string(message.method_string());
        request->path = decodedPath(message.target());
        request->body = std::move(message.body());
        request->peerAddress = m_peer;
        for (const auto &field : message) {
            const std::string name = lowerCase(field.name_string());
            // A repeated header is ambiguous for DPoP and Authorization (RFC 9449 section 4.3
            // allows exactly one proof): keep a marker the handler rejects.
            if (!request->headers.emplace(name, std::string(field.value())).second)
                request->headers[name + ":repeated"] = "1";
        }
        beast::get_lowest_layer(m_stream).expires_never();
        asio::post(m_workers, [self = shared_from_this(), request] {
            // The answer goes back to the loop, which alone touches the connection.
            auto answered = std::make_shared<std::atomic<bool>>(false);
            Responder respond = [self, request, answered](HttpResponse response) {
                if (answered->exchange(true))
                    return;
                auto &stream = self->m_stream;
                asio::post(stream.get_executor(),
                           [self, request, response = std::move(response)]() mutable {
                               self->respond(request->method, request->path, std::move(response));
                           });
            };
            try {
                self->m_context->handler(*request, respond);
            } catch (const std::exception &e) {
                qCCritical(lcHttps) << request->method.c_str() << request->path.c_str()
                                    << "failed:" << e.what();
                respond(internalError());
            } catch (...) {
                qCCritical(lcHttps) << request->method.c_str() << request->path.c_str()
                                    << "failed with an exception of unknown type";
                respond(internalError());
            }
        });
    }

    // Answers a request that was not read whole, then closes: what follows on the connection
    // cannot be framed.
    void refuse(int status, const std::string &code, const std::string &title,
                const std::string &detail)
    {
        m_keepAlive = false;
        m_refused = true;
        std::string method = "-", path = "-"; // for the log, when the head was not read whole
        if (m_parser && m_parser->is_header_done()) {
            method = std::string(m_parser->get().method_string());
            path = decodedPath(m_parser->get().target());
        }
        respond(method, path, problem(status, code, title, detail));
    }

    void respond(const std::string &method, const std::string &path, HttpResponse answer)
    {
        ++m_requests;
        auto response = std::make_shared<http::response<http::string_body>>();
        response->version(11);
        response->result(static_cast<unsigned>(answer.status));
        response->set(http::field::content_type, answer.contentType);
        for (const auto &[name, value] : answer.headers)
            response->insert(name, value);
        response->body() = std::move(answer.body);
        response->keep_alive(m_keepAlive && m_requests < options().keepAliveMaxRequests);
        response->prepare_payload();
        if (m_context->logger)
            m_context->logger(method, path, answer.status,
                              std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - m_started),
                              m_peer);
        beast::get_lowest_layer(m_stream).expires_after(options().writeTimeout);
        // Beast's SSL stream gathers the head and the body into one TLS record and one write.
        http::async_write(m_stream, *response,
                          [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                              if (ec)
                                  return;
                              if (response->keep_alive())
                                  self->awaitRequest();
                              else if (self->m_refused)
                                  self->drainThenClose();
                              else
                                  self->close();
                          });
    }

    // A refused client may still be sending what was refused (a body over the limit): closing
    // with its bytes unread would reset the connection, and the reset can overtake the answer
    // before the client reads it. So its bytes are read and dropped for a moment, bounded in
    // time and in bytes, until it closes.
    void drainThenClose()
    {
        beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(2)); // in all
        drainSome();
    }

    void drainSome()
    {
        m_stream.async_read_some(asio::buffer(m_drain),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                     self->m_drained += n;
                                     if (!ec && self->m_drained < 4 * self->options().maxBodyBytes)
                                         return self->drainSome();
                                     beast::error_code ignored;
                                     beast::get_lowest_layer(self->m_stream).socket().close(ignored);
                                 });
    }

    void close()
    {
        beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(1));
        m_stream.async_shutdown([self = shared_from_this()](beast::error_code) {
            beast::error_code ignored;
            beast::get_lowest_layer(self->m_stream).socket().shutdown(tcp::socket::shutdown_both,
                                                                      ignored);
        });
    }

    beast::ssl_stream<beast::tcp_stream> m_stream;
    std::shared_ptr<ServerContext> m_context;
    asio::thread_pool &m_workers;
    std::string m_peer;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    std::size_t m_requests = 0;
    bool m_keepAlive = true;
    bool m_refused = false;
    std::size_t m_drained = 0;
    std::array<char, 4096> m_drain{}; // only while draining a refused client
    std::chrono::steady_clock::time_point m_started;
};

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
                std::make_shared<Session>(std::move(socket), m_tls, m_context, m_workers, peer)
                    ->start();
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
