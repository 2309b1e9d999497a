#pragma once

// The device's HTTPS connection to its verifier: libcurl with one reused handle (keep-alive),
// HTTPS only, TLS 1.2 or newer, and one trust anchor — the verifier CA pinned at enrollment.
// The system's CA store is never consulted: a public CA that issues a certificate for the
// verifier's name must not be able to impersonate it. Not thread-safe: one transport per thread.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::app {

// A request that got no HTTP answer. The message names the URL and libcurl's reason; it never
// contains request headers or bodies (they carry proofs and tokens).
class TransportError : public std::runtime_error
{
public:
    enum class Kind
    {
        Unreachable, // name does not resolve, connection refused or reset before TLS
        Tls,         // handshake failed, or the certificate is not the pinned CA's for this name
        Timeout,     // no connection within the connect timeout, or no answer within the total
        TooLarge,    // the answer exceeds maxResponseSize; the connection is dropped
        Other,       // anything else (a URL that is not https, libcurl could not be set up...)
    };

    TransportError(Kind kind, std::string url, const std::string &message)
        : std::runtime_error(message), m_kind(kind), m_url(std::move(url))
    {
    }

    Kind kind() const { return m_kind; }
    const std::string &url() const { return m_url; }

private:
    Kind m_kind;
    std::string m_url;
};

std::string_view transportErrorKindName(TransportError::Kind kind); // "unreachable", "tls"...

struct HttpsTransportOptions
{
    std::chrono::milliseconds connectTimeout{10000}; // TCP and TLS handshake
    std::chrono::milliseconds totalTimeout{30000};   // the whole request
    std::size_t maxResponseSize = 1024 * 1024;       // body bytes; larger answers are aborted
    // The proxy to reach the verifier through ("http://host:port", socks5://…); nullopt leaves
    // libcurl to the environment (https_proxy, no_proxy), as for any command-line tool.
    std::optional<std::string> proxy;
};

struct HttpsResponse
{
    long status = 0;
    std::string contentType; // "" when the answer has none
    std::string body;
    // Names lower-cased; a header sent more than once has its values joined by ", ".
    std::map<std::string, std::string> headers;
};

class HttpsTransport
{
public:
    // caFile: PEM with the CA certificate(s) to trust, and nothing else. Throws TransportError
    // (Other) when the file cannot be read or libcurl cannot be set up.
    explicit HttpsTransport(std::filesystem::path caFile, HttpsTransportOptions options = {});
    ~HttpsTransport();
    HttpsTransport(const HttpsTransport &) = delete;
    HttpsTransport &operator=(const HttpsTransport &) = delete;

    // headers are complete lines ("Name: value"). Every HTTP status is an answer; TransportError
    // is thrown only when there is none (see Kind). Redirects are not followed.
    HttpsResponse get(const std::string &url, const std::vector<std::string> &headers = {});
    // Sends body with the given Content-Type.
    HttpsResponse post(const std::string &url, const std::string &body,
                       const std::vector<std::string> &headers = {},
                       std::string_view contentType = "application/json");

    const std::filesystem::path &caFile() const { return m_caFile; }
    // TCP connections opened so far; stays put while requests reuse a kept-alive connection.
    long connectionsOpened() const { return m_connectionsOpened; }

private:
    HttpsResponse perform(const std::string &url, const std::vector<std::string> &headers,
                          const std::string *body);

    struct Handle;
    std::unique_ptr<Handle> m_handle;
    std::filesystem::path m_caFile;
    std::string m_caFileText; // libcurl keeps a pointer to the C string
    HttpsTransportOptions m_options;
    long m_connectionsOpened = 0;
};

} // namespace vigil::app
