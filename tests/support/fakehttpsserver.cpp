#include "fakehttpsserver.h"

#include "server/admin/datadirectory.h"
#include "server/http/httpsserver.h"

#include <stdexcept>

namespace vigil::test {

FakeHttpsServer::FakeHttpsServer(const std::vector<std::string> &names)
{
    if (!m_temporary.isValid())
        throw std::runtime_error("cannot create a temporary directory");
    const auto dir = std::filesystem::path(m_temporary.path().toStdString()) / "pki";
    server::DataDirectory::initialise(dir, names, std::chrono::system_clock::now());
    const auto data = server::DataDirectory::open(dir);
    m_caFile = data.caCertificate();
    m_certificate = data.tlsCertificate();
    m_key = data.tlsKey();
    m_handler = [](const server::HttpRequest &) {
        server::HttpResponse response;
        response.body = R"({"version":1,"status":"ok"})";
        return response;
    };

    server::HttpsServerOptions options;
    options.port = 0;
    options.credentials = data.tlsCredentials();
    options.threads = 2;
    m_server =
        std::make_unique<server::HttpsServer>(options, [this](const server::HttpRequest &request) {
            ++m_requests;
            Handler handler;
            {
                std::lock_guard lock(m_mutex);
                handler = m_handler;
            }
            return handler(request);
        });
    m_thread = std::thread([this] { m_server->serve(); });
}

FakeHttpsServer::~FakeHttpsServer()
{
    m_server->stop();
    if (m_thread.joinable())
        m_thread.join();
}

void FakeHttpsServer::setHandler(Handler handler)
{
    std::lock_guard lock(m_mutex);
    m_handler = std::move(handler);
}

int FakeHttpsServer::port() const
{
    return m_server->port();
}

std::string FakeHttpsServer::url(const std::string &path) const
{
    return "https://127.0.0.1:" + std::to_string(port()) + path;
}

} // namespace vigil::test
