#include "app/client/httpstransport.h"

#include "app/applogging.h"
#include "core/text.h"

#include <cerrno>
#include <cstring>
#include <curl/curl.h>
#include <fstream>

namespace vigil::app {

namespace {

struct CurlDeleter
{
    void operator()(CURL *handle) const { curl_easy_cleanup(handle); }
    void operator()(curl_slist *list) const { curl_slist_free_all(list); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, CurlDeleter>;

// curl_global_init is not thread-safe; a function-local static runs it exactly once.
CURLcode initialiseCurl()
{
    static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
    return result;
}

struct Sink
{
    std::string *body = nullptr;
    std::size_t limit = 0;
    bool tooLarge = false;
};

std::size_t appendBody(char *data, std::size_t size, std::size_t count, void *user)
{
    auto &sink = *static_cast<Sink *>(user);
    const std::size_t bytes = size * count;
    if (bytes > sink.limit - sink.body->size()) {
        sink.tooLarge = true;
        return 0; // makes libcurl abort the transfer with CURLE_WRITE_ERROR
    }
    sink.body->append(data, bytes);
    return bytes;
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
        const std::string name = asciiLower(trimmedView(line.substr(0, colon)));
        const std::string_view value = trimmedView(line.substr(colon + 1));
        auto [it, inserted] = headers.try_emplace(name, value);
        if (!inserted)
            it->second.append(", ").append(value);
    }
    return size * count;
}

TransportError::Kind classify(CURLcode code)
{
    using Kind = TransportError::Kind;
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return Kind::Unreachable;
    case CURLE_OPERATION_TIMEDOUT:
        return Kind::Timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
        return Kind::Tls;
    case CURLE_FILESIZE_EXCEEDED:
        return Kind::TooLarge;
    default:
        return Kind::Other;
    }
}

template <typename T> void setOption(CURL *handle, CURLoption option, T value)
{
    const CURLcode result = curl_easy_setopt(handle, option, value);
    if (result != CURLE_OK)
        throw TransportError(TransportError::Kind::Other, {},
                             std::string("cannot set a libcurl option: ") +
                                 curl_easy_strerror(result));
}

long milliseconds(std::chrono::milliseconds duration)
{
    return static_cast<long>(duration.count());
}

} // namespace

std::string_view transportErrorKindName(TransportError::Kind kind)
{
    switch (kind) {
    case TransportError::Kind::Unreachable:
        return "unreachable";
    case TransportError::Kind::Tls:
        return "tls";
    case TransportError::Kind::Timeout:
        return "timeout";
    case TransportError::Kind::TooLarge:
        return "too_large";
    case TransportError::Kind::Other:
        break;
    }
    return "other";
}

struct HttpsTransport::Handle
{
    CurlPtr curl;
    char error[CURL_ERROR_SIZE] = {};
};

HttpsTransport::HttpsTransport(std::filesystem::path caFile, HttpsTransportOptions options)
    : m_caFile(std::move(caFile)), m_caFileText(m_caFile.string()), m_options(options)
{
    // libcurl's message for an unreadable CA file does not name it; this one does.
    if (!std::ifstream(m_caFile))
        throw TransportError(TransportError::Kind::Other, {},
                             "cannot read the pinned CA file '" + m_caFileText +
                                 "': " + std::strerror(errno));
    if (const CURLcode result = initialiseCurl(); result != CURLE_OK)
        throw TransportError(TransportError::Kind::Other, {},
                             std::string("cannot initialise libcurl: ") +
                                 curl_easy_strerror(result));
    m_handle = std::make_unique<Handle>();
    m_handle->curl.reset(curl_easy_init());
    if (!m_handle->curl)
        throw TransportError(TransportError::Kind::Other, {}, "cannot create a libcurl handle");
    CURL *curl = m_handle->curl.get();
    setOption(curl, CURLOPT_ERRORBUFFER, m_handle->error);
    setOption(curl, CURLOPT_PROTOCOLS_STR, "https");
    setOption(curl, CURLOPT_SSLVERSION, long(CURL_SSLVERSION_TLSv1_2));
    setOption(curl, CURLOPT_CAINFO, m_caFileText.c_str());
    // No CA directory either (Debian's libcurl has a built-in one): the pinned file is the only
    // trust anchor.
    setOption(curl, CURLOPT_CAPATH, static_cast<const char *>(nullptr));
    setOption(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    setOption(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    setOption(curl, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(m_options.connectTimeout));
    setOption(curl, CURLOPT_TIMEOUT_MS, milliseconds(m_options.totalTimeout));
    setOption(curl, CURLOPT_NOSIGNAL, 1L); // timeouts without SIGALRM: safe in threads
    setOption(curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (m_options.proxy)
        setOption(curl, CURLOPT_PROXY, m_options.proxy->c_str());
    // Aborts at once when Content-Length announces too much; the write callback catches the
    // rest (chunked answers).
    setOption(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(m_options.maxResponseSize));
    setOption(curl, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
    setOption(curl, CURLOPT_WRITEFUNCTION, appendBody);
    setOption(curl, CURLOPT_HEADERFUNCTION, collectHeader);
}

HttpsTransport::~HttpsTransport() = default;

HttpsResponse HttpsTransport::get(const std::string &url, const std::vector<std::string> &headers)
{
    return perform(url, headers, nullptr);
}

HttpsResponse HttpsTransport::post(const std::string &url, const std::string &body,
                                   const std::vector<std::string> &headers,
                                   std::string_view contentType)
{
    std::vector<std::string> all = headers;
    all.push_back("Content-Type: " + std::string(contentType));
    return perform(url, all, &body);
}

HttpsResponse HttpsTransport::perform(const std::string &url,
                                      const std::vector<std::string> &headers,
                                      const std::string *body)
{
    // libcurl refuses other schemes too (CURLOPT_PROTOCOLS_STR); this says why in our words.
    if (!asciiLower(url.substr(0, 8)).starts_with("https://"))
        throw TransportError(TransportError::Kind::Other, url,
                             "refusing " + url + ": the verifier is reached over https only");
    CURL *curl = m_handle->curl.get();
    HttpsResponse response;
    Sink sink{&response.body, m_options.maxResponseSize, false};

    // The handle keeps options between requests: each request sets every one it depends on.
    setOption(curl, CURLOPT_URL, url.c_str());
    if (body) {
        setOption(curl, CURLOPT_POST, 1L);
        setOption(curl, CURLOPT_POSTFIELDS, body->data());
        setOption(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body->size()));
    } else {
        setOption(curl, CURLOPT_HTTPGET, 1L);
    }

    SlistPtr list;
    const auto append = [&list](const char *line) {
        curl_slist *grown = curl_slist_append(list.get(), line);
        if (!grown)
            throw TransportError(TransportError::Kind::Other, {},
                                 "cannot build the request headers");
        list.release();
        list.reset(grown);
    };
    for (const std::string &header : headers)
        append(header.c_str());
    // libcurl would otherwise wait for "100 Continue" before sending larger bodies: a round
    // trip the verifier never needs.
    append("Expect:");
    setOption(curl, CURLOPT_HTTPHEADER, list.get());
    setOption(curl, CURLOPT_WRITEDATA, &sink);
    setOption(curl, CURLOPT_HEADERDATA, &response.headers);

    m_handle->error[0] = '\0';
    const CURLcode result = curl_easy_perform(curl);
    // The list and the sink die when this returns; the handle must not point at them any more.
    setOption(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist *>(nullptr));
    setOption(curl, CURLOPT_WRITEDATA, static_cast<void *>(nullptr));
    setOption(curl, CURLOPT_HEADERDATA, static_cast<void *>(nullptr));
    long connects = 0;
    if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        m_connectionsOpened += connects;

    if (result != CURLE_OK) {
        const std::string reason =
            m_handle->error[0] ? m_handle->error : curl_easy_strerror(result);
        auto kind = classify(result);
        if (sink.tooLarge)
            kind = TransportError::Kind::TooLarge;
        qCDebug(lcApp, "%s %s failed: %s", body ? "POST" : "GET", url.c_str(), reason.c_str());
        switch (kind) {
        case TransportError::Kind::Unreachable:
            throw TransportError(kind, url, "cannot reach " + url + ": " + reason);
        case TransportError::Kind::Tls:
            if (result == CURLE_PEER_FAILED_VERIFICATION)
                throw TransportError(kind, url,
                                     "TLS failure with " + url +
                                         ": the server's certificate is not one the pinned CA '" +
                                         m_caFileText + "' issued for this name: " + reason);
            throw TransportError(kind, url, "TLS failure with " + url + ": " + reason);
        case TransportError::Kind::Timeout:
            throw TransportError(kind, url, "timed out waiting for " + url + ": " + reason);
        case TransportError::Kind::TooLarge:
            throw TransportError(kind, url,
                                 "the answer from " + url + " is larger than " +
                                     std::to_string(m_options.maxResponseSize) + " bytes; refused");
        case TransportError::Kind::Other:
            break;
        }
        throw TransportError(kind, url, url + ": " + reason);
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    const char *contentType = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &contentType) == CURLE_OK && contentType)
        response.contentType = contentType;
    qCDebug(lcApp, "%s %s: HTTP %ld, %zu bytes", body ? "POST" : "GET", url.c_str(),
            response.status, response.body.size());
    return response;
}

} // namespace vigil::app
