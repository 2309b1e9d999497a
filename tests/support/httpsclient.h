#pragma once

// A small HTTPS client for tests and the load generator: libcurl with one easy handle, so that
// consecutive requests reuse the connection (keep-alive), trusting only one pinned CA file (never
// the system's CAs) and checking the server's name against its certificate. Not thread-safe:
// one client per thread.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::test {

struct HttpResponse
{
    long status = 0;
    std::string contentType; // "" when the response has none
    std::string body;
    // Names lower-cased; a header that occurs more than once has its values joined by ", ".
    std::map<std::string, std::string> headers;
};

class HttpsClient
{
public:
    // Throws std::runtime_error if caFile cannot be read or libcurl cannot be set up.
    explicit HttpsClient(std::filesystem::path caFile);
    ~HttpsClient();
    HttpsClient(const HttpsClient &) = delete;
    HttpsClient &operator=(const HttpsClient &) = delete;

    // headers are complete lines ("Name: value"). A non-empty body is sent as is (add the
    // Content-Type header yourself). Any status is a response; only transport failures (no
    // connection, TLS refused, timeout: 5 s to connect, 30 s in all) throw std::runtime_error
    // "<METHOD> <url>: <curl's message>".
    HttpResponse request(std::string_view method, const std::string &url,
                         const std::vector<std::string> &headers = {},
                         const std::string &body = {});
    HttpResponse get(const std::string &url, const std::vector<std::string> &headers = {})
    {
        return request("GET", url, headers);
    }
    // POSTs body with Content-Type: application/json.
    HttpResponse postJson(const std::string &url, const std::string &body,
                          std::vector<std::string> headers = {});

    // Connections opened so far; stays put while requests reuse a kept-alive connection.
    long connectionsOpened() const { return m_connectionsOpened; }
    // TCP segments with data that the kept-alive connection has received so far (the kernel's
    // count, TCP_INFO tcpi_data_segs_in): pure acknowledgements, which a loaded server sends
    // more of, are left out. Throws std::runtime_error when no connection is open.
    std::uint32_t dataSegmentsReceived() const;

private:
    struct Handle;
    std::unique_ptr<Handle> m_handle;
    std::string m_caFile;
    long m_connectionsOpened = 0;
};

// "sha256:" + lower-case hex SHA-256 of the DER of the certificate that a TLS server on this
// loopback port presents to a new connection (what DataDirectory's fingerprints say). Checks
// nothing: it tells which certificate is presented. Throws std::runtime_error when no handshake
// completes within 5 s.
std::string presentedCertificateFingerprint(int port);

} // namespace vigil::test
