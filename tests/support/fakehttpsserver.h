#pragma once

#include "server/http/httpmessage.h"

#include <QTemporaryDir>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::server {
class HttpsServer;
}

namespace vigil::test {

// A real HTTPS server (the verifier's own front end, with a CA and certificate made by
// `vigil-verifier init`'s code for the given names) on a free loopback port, answering with
// whatever the test's handler returns: for client tests that need answers no verifier gives.
class FakeHttpsServer
{
public:
    using Handler = std::function<server::HttpResponse(const server::HttpRequest &)>;

    explicit FakeHttpsServer(const std::vector<std::string> &names = {"127.0.0.1", "localhost"});
    ~FakeHttpsServer();
    FakeHttpsServer(const FakeHttpsServer &) = delete;
    FakeHttpsServer &operator=(const FakeHttpsServer &) = delete;

    // Replaces the handler (by default: 200 {"version":1,"status":"ok"}).
    void setHandler(Handler handler);

    int port() const;
    std::string url(const std::string &path) const;
    // The CA that issued the server's certificate, and its certificate and key.
    const std::filesystem::path &caFile() const { return m_caFile; }
    const std::filesystem::path &certificateFile() const { return m_certificate; }
    const std::filesystem::path &keyFile() const { return m_key; }
    int requests() const { return m_requests; }

private:
    QTemporaryDir m_temporary;
    std::filesystem::path m_caFile, m_certificate, m_key;
    std::mutex m_mutex;
    Handler m_handler;
    std::atomic<int> m_requests{0};
    std::unique_ptr<server::HttpsServer> m_server;
    std::thread m_thread;
};

} // namespace vigil::test
