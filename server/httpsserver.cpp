#include "httpsserver.h"

#include "opensslptr.h"
#include "responsecoalescer.h"
#include "tlscredentials.h"

#include <QLoggingCategory>
#include <algorithm>
#include <cctype>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>

Q_LOGGING_CATEGORY(lcHttps, "vigil.verifier.https")

namespace vigil::server {

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

const char *const problemContentType = "application/problem+json";

void setInternalError(httplib::Response &out)
{
    out.status = 500;
    out.headers.clear();
    out.set_content(
        problemBody(500, "internal_error", "Internal error", "the verifier failed; see its log"),
        problemContentType);
}

// cpp-httplib's default sets SO_REUSEPORT, which lets a second server (a second verifier, or any
// program of the same user) bind the same port and silently take a share of the connections.
// SO_REUSEADDR alone still allows a restart while old connections linger in TIME_WAIT.
void listenerSocketOptions(int socket)
{
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

} // namespace

HttpsServer::HttpsServer(const HttpsServerOptions &options, RequestHandler handler,
                         AccessLogger logger)
{
    if (!options.credentials)
        throw std::invalid_argument("HttpsServer needs TLS credentials");
    m_credentials = options.credentials;
    m_server = std::make_unique<httplib::SSLServer>([this](SSL_CTX &context) {
        configureTls(context, m_credentials);
        return true;
    });
    if (!m_server->is_valid())
        throw std::runtime_error("cannot set up TLS: " + attestation::openSslError());

    const int threads = std::max(1, options.threads);
    m_server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    m_server->set_payload_max_length(options.maxBodyBytes);
    m_server->set_read_timeout(options.readTimeout);
    m_server->set_write_timeout(options.writeTimeout);
    m_server->set_keep_alive_timeout(options.keepAliveTimeout.count());
    m_server->set_keep_alive_max_count(options.keepAliveMaxRequests);
    // cpp-httplib writes a response's head and body separately; with Nagle on, the body waited
    // for the client's delayed ACK (~40 ms) on every keep-alive request. The response
    // coalescer sends both with one write, and whatever else is written goes out at once.
    m_server->set_tcp_nodelay(true);
    m_server->set_socket_options(listenerSocketOptions);

    auto log = std::make_shared<AccessLogger>(std::move(logger));
    const auto dispatch = [handler = std::move(handler), log](const httplib::Request &in,
                                                              httplib::Response &out) {
        const auto started = std::chrono::steady_clock::now();
        HttpRequest request;
        request.method = in.method;
        request.path = in.path;
        request.body = in.body;
        request.peerAddress = in.remote_addr;
        for (const auto &[name, value] : in.headers) {
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            // A repeated header is ambiguous for DPoP and Authorization (RFC 9449 section 4.3
            // allows exactly one proof): keep a marker the handler rejects.
            if (!request.headers.emplace(lower, value).second)
                request.headers[lower + ":repeated"] = "1";
        }
        // The handler's failures are caught here rather than by cpp-httplib, whose own
        // handling depends on its version (some put what() in a response header) and logs
        // nothing.
        try {
            HttpResponse response = handler(request);
            out.status = response.status;
            for (const auto &[name, value] : response.headers)
                out.set_header(name, value);
            out.set_content(std::move(response.body), response.contentType.c_str());
        } catch (const std::exception &e) {
            qCCritical(lcHttps) << in.method.c_str() << in.path.c_str() << "failed:" << e.what();
            setInternalError(out);
        } catch (...) {
            qCCritical(lcHttps) << in.method.c_str() << in.path.c_str()
                                << "failed with an exception of unknown type";
            setInternalError(out);
        }
        if (*log)
            (*log)(in.method, in.path, out.status,
                   std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started),
                   in.remote_addr);
        // The connection is this thread's until the response is written; cpp-httplib hands
        // the handler a const pointer only because handlers are not meant to touch it.
        if (in.ssl != nullptr)
            holdResponse(const_cast<SSL *>(in.ssl));
    };
    // cpp-httplib calls its logger once the response is written, whoever wrote it.
    m_server->set_logger([](const httplib::Request &in, const httplib::Response &) {
        if (in.ssl != nullptr)
            releaseResponse(in.ssl);
    });
    const char *everything = R"(/.*)";
    m_server->Get(everything, dispatch);
    m_server->Post(everything, dispatch);
    m_server->Put(everything, dispatch);
    m_server->Delete(everything, dispatch);
    m_server->Patch(everything, dispatch);
    m_server->Options(everything, dispatch);

    // What cpp-httplib answers itself (body over the limit, unreadable request) still leaves as
    // problem+json.
    const std::string tooLarge =
        "request bodies are limited to " + std::to_string(options.maxBodyBytes) + " bytes";
    m_server->set_error_handler([log, tooLarge](const httplib::Request &in,
                                                httplib::Response &out) {
        if (!out.body.empty())
            return;
        if (*log)
            (*log)(in.method, in.path, out.status, std::chrono::microseconds(0), in.remote_addr);
        if (out.status == 413)
            out.set_content(problemBody(413, "payload_too_large", "Payload too large", tooLarge),
                            problemContentType);
        else if (out.status >= 500)
            setInternalError(out);
        else
            out.set_content(problemBody(out.status, "malformed_request", "Malformed request",
                                        "the HTTP request could not be read"),
                            problemContentType);
    });
    // Only reached if something outside the handler throws; dispatch catches the handler's.
    m_server->set_exception_handler([](const httplib::Request &in, httplib::Response &out,
                                       std::exception_ptr) {
        qCCritical(lcHttps) << in.method.c_str() << in.path.c_str() << "failed outside the handler";
        setInternalError(out);
    });
    if (options.port == 0) {
        m_port = m_server->bind_to_any_port(options.address);
        if (m_port <= 0)
            throw std::runtime_error("cannot listen on " + options.address);
    } else {
        if (!m_server->bind_to_port(options.address, options.port))
            throw std::runtime_error("cannot listen on " + options.address + ":" +
                                     std::to_string(options.port) +
                                     " (in use, or not an address of this machine?)");
        m_port = options.port;
    }
}

void HttpsServer::present(std::shared_ptr<const TlsCredentials> credentials)
{
    if (!credentials)
        throw std::invalid_argument("HttpsServer::present needs credentials");
    m_credentials.store(std::move(credentials));
}

HttpsServer::~HttpsServer()
{
    stop();
}

bool HttpsServer::serve()
{
    // With stop(): each stores its own flag before it reads the other's (sequentially
    // consistent), so either serve() sees the stop request, or stop() sees serve() under way.
    m_serving = true;
    if (m_stopRequested) {
        m_serving = false;
        return true;
    }
    const bool listened = m_server->listen_after_bind();
    m_serving = false;
    return listened;
}

void HttpsServer::stop()
{
    if (!m_server || m_stopRequested.exchange(true))
        return;
    // cpp-httplib's stop() does nothing until the server runs, so a stop() between serve()'s
    // start and the listening loop would be lost and serve() would never return: wait for it
    // to run (or to have finished) first. The window is a few instructions long.
    while (m_serving && !m_server->is_running())
        std::this_thread::yield();
    m_server->stop();
}

} // namespace vigil::server
