#include "httpsclient.h"

#include "core/certificatefingerprint.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <curl/curl.h>
#include <fstream>
#include <linux/tcp.h> // tcp_info with tcpi_data_segs_in, which glibc's lacks
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace vigil::test {

namespace {

struct CurlDeleter
{
    void operator()(CURL *handle) const { curl_easy_cleanup(handle); }
    void operator()(curl_slist *list) const { curl_slist_free_all(list); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, CurlDeleter>;

// curl_global_init is not thread-safe; a function-local static runs it exactly once.
void initialiseCurl()
{
    static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (result != CURLE_OK)
        throw std::runtime_error(std::string("cannot initialise libcurl: ") +
                                 curl_easy_strerror(result));
}

std::string lowerCase(std::string text)
{
    for (char &c : text) {
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    }
    return text;
}

std::string_view trimmed(std::string_view text)
{
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && space(text.back()))
        text.remove_suffix(1);
    return text;
}

std::size_t appendBody(char *data, std::size_t size, std::size_t count, void *user)
{
    static_cast<std::string *>(user)->append(data, size * count);
    return size * count;
}

std::size_t collectHeader(char *data, std::size_t size, std::size_t count, void *user)
{
    auto &headers = *static_cast<std::map<std::string, std::string> *>(user);
    const std::string_view line(data, size * count);
    // Each response's status line starts its headers afresh (an interim 100 Continue, say).
    if (line.starts_with("HTTP/")) {
        headers.clear();
        return size * count;
    }
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        const std::string name = lowerCase(std::string(trimmed(line.substr(0, colon))));
        const std::string_view value = trimmed(line.substr(colon + 1));
        auto [it, inserted] = headers.try_emplace(name, value);
        if (!inserted)
            it->second.append(", ").append(value);
    }
    return size * count;
}

template <typename T> void setOption(CURL *handle, CURLoption option, T value)
{
    const CURLcode result = curl_easy_setopt(handle, option, value);
    if (result != CURLE_OK)
        throw std::runtime_error(std::string("cannot set a libcurl option: ") +
                                 curl_easy_strerror(result));
}

} // namespace

struct HttpsClient::Handle
{
    CurlPtr curl;
    char error[CURL_ERROR_SIZE] = {};
};

HttpsClient::HttpsClient(std::filesystem::path caFile) : m_caFile(caFile.string())
{
    // curl's own message for an unreadable CA file does not name it; this one does.
    if (!std::ifstream(caFile))
        throw std::runtime_error("cannot read CA file '" + m_caFile + "': " + std::strerror(errno));
    initialiseCurl();
    m_handle = std::make_unique<Handle>();
    m_handle->curl.reset(curl_easy_init());
    if (!m_handle->curl)
        throw std::runtime_error("cannot create a libcurl handle");
    CURL *curl = m_handle->curl.get();
    setOption(curl, CURLOPT_ERRORBUFFER, m_handle->error);
    setOption(curl, CURLOPT_PROTOCOLS_STR, "https");
    setOption(curl, CURLOPT_CAINFO, m_caFile.c_str());
    // No CA directory either: the pinned file is the only trust anchor.
    setOption(curl, CURLOPT_CAPATH, static_cast<const char *>(nullptr));
    setOption(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    setOption(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    setOption(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    setOption(curl, CURLOPT_TIMEOUT_MS, 30000L);
    setOption(curl, CURLOPT_NOSIGNAL, 1L); // timeouts without SIGALRM: safe in threads
    setOption(curl, CURLOPT_FOLLOWLOCATION, 0L);
    setOption(curl, CURLOPT_WRITEFUNCTION, appendBody);
    setOption(curl, CURLOPT_HEADERFUNCTION, collectHeader);
}

HttpsClient::~HttpsClient() = default;

HttpResponse HttpsClient::request(std::string_view method, const std::string &url,
                                  const std::vector<std::string> &headers, const std::string &body)
{
    CURL *curl = m_handle->curl.get();
    const std::string methodText(method);
    HttpResponse response;

    // The handle keeps options between requests: each request sets every one it depends on.
    setOption(curl, CURLOPT_URL, url.c_str());
    setOption(curl, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L);
    if (method == "HEAD") {
        setOption(curl, CURLOPT_CUSTOMREQUEST, static_cast<const char *>(nullptr));
    } else if (body.empty() && method != "POST" && method != "PUT" && method != "PATCH") {
        setOption(curl, CURLOPT_HTTPGET, 1L);
        setOption(curl, CURLOPT_CUSTOMREQUEST, method == "GET" ? nullptr : methodText.c_str());
    } else {
        setOption(curl, CURLOPT_POST, 1L);
        setOption(curl, CURLOPT_POSTFIELDS, body.data());
        setOption(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
        setOption(curl, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : methodText.c_str());
    }

    SlistPtr list;
    auto append = [&list](const char *line) {
        curl_slist *grown = curl_slist_append(list.get(), line);
        if (!grown)
            throw std::runtime_error("cannot build the request headers");
        list.release();
        list.reset(grown);
    };
    for (const std::string &header : headers)
        append(header.c_str());
    // curl would otherwise wait for "100 Continue" before sending larger bodies: a round trip
    // the verifier never needs.
    append("Expect:");
    setOption(curl, CURLOPT_HTTPHEADER, list.get());
    setOption(curl, CURLOPT_WRITEDATA, &response.body);
    setOption(curl, CURLOPT_HEADERDATA, &response.headers);

    m_handle->error[0] = '\0';
    const CURLcode result = curl_easy_perform(curl);
    // The list is freed when this returns; the handle must not point at it any more.
    setOption(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist *>(nullptr));
    long connects = 0;
    if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        m_connectionsOpened += connects;
    if (result != CURLE_OK)
        throw std::runtime_error(
            methodText + " " + url + ": " +
            (m_handle->error[0] ? m_handle->error : curl_easy_strerror(result)));

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    const char *contentType = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &contentType) == CURLE_OK && contentType)
        response.contentType = contentType;
    return response;
}

HttpResponse HttpsClient::postJson(const std::string &url, const std::string &body,
                                   std::vector<std::string> headers)
{
    headers.push_back("Content-Type: application/json");
    return request("POST", url, headers, body);
}

std::uint32_t HttpsClient::dataSegmentsReceived() const
{
    curl_socket_t socket = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(m_handle->curl.get(), CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK ||
        socket == CURL_SOCKET_BAD)
        throw std::runtime_error("no connection is open");
    tcp_info info{};
    socklen_t length = sizeof info;
    if (::getsockopt(socket, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
        throw std::runtime_error(std::string("TCP_INFO: ") + std::strerror(errno));
    return info.tcpi_data_segs_in;
}

std::string presentedCertificateFingerprint(int port)
{
    struct Socket
    {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ~Socket()
        {
            if (fd >= 0)
                ::close(fd);
        }
    } socket;
    const int fd = socket.fd;
    if (fd < 0)
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const timeval patience{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
        throw std::runtime_error("connecting to port " + std::to_string(port) + ": " +
                                 std::strerror(errno));
    const std::unique_ptr<SSL_CTX, void (*)(SSL_CTX *)> context(SSL_CTX_new(TLS_client_method()),
                                                                SSL_CTX_free);
    const std::unique_ptr<SSL, void (*)(SSL *)> tls(context ? SSL_new(context.get()) : nullptr,
                                                    SSL_free);
    if (!tls || SSL_set_fd(tls.get(), fd) != 1 || SSL_connect(tls.get()) != 1)
        throw std::runtime_error("no TLS handshake with port " + std::to_string(port));
    X509 *certificate = SSL_get0_peer_certificate(tls.get());
    if (certificate == nullptr)
        throw std::runtime_error("port " + std::to_string(port) + " presented no certificate");
    std::string fingerprint = certificateFingerprint(certificate);
    SSL_shutdown(tls.get());
    return fingerprint;
}

} // namespace vigil::test
