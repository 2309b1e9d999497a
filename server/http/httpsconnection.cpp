#include "server/http/httpsconnection.h"

#include "core/bytes.h"
#include "core/text.h"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

Q_LOGGING_CATEGORY(lcHttps, "vigil.verifier.https")

namespace vigil::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

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

// The target's path, percent-decoded, without the query string: what handlers route on.
std::string decodedPath(beast::string_view target)
{
    target = target.substr(0, target.find('?'));
    std::string path;
    path.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        const int high = i + 2 < target.size() && target[i] == '%'
                             ? hexDigitValue(target[i + 1])
                             : -1;
        const int low = high >= 0 ? hexDigitValue(target[i + 2]) : -1;
        if (low >= 0) {
            path.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else {
            path.push_back(target[i]);
        }
    }
    return path;
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
        http::async_read(
            m_stream, m_buffer, *m_parser,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onBody(ec); });
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
            const std::string name = asciiLower(std::string_view(field.name_string().data(), field.name_string().size()));
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
                qCCritical(lcHttps)
                    << request->method.c_str() << request->path.c_str() << "failed:" << e.what();
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
        if (!answer.contentType.empty()) // a 204 has no content to type
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
        m_stream.async_read_some(asio::buffer(m_drain), [self = shared_from_this()](
                                                            beast::error_code ec, std::size_t n) {
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
            beast::get_lowest_layer(self->m_stream)
                .socket()
                .shutdown(tcp::socket::shutdown_both, ignored);
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

void serveConnection(tcp::socket socket, asio::ssl::context &tls,
                     std::shared_ptr<ServerContext> context, asio::thread_pool &workers,
                     std::string peer)
{
    std::make_shared<Session>(std::move(socket), tls, std::move(context), workers, std::move(peer))
        ->start();
}

} // namespace vigil::server
