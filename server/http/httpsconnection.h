#pragma once

// One accepted connection of HttpsServer, from the handshake to the close: it reads requests
// within the limits and deadlines of HttpsServerOptions, hands each to the handler on a worker
// and writes the answer. Internal to httpsserver.cpp.

#include "server/http/httpsserver.h"

#include <QLoggingCategory>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

Q_DECLARE_LOGGING_CATEGORY(lcHttps)

namespace vigil::server {

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
        if (const auto it = m_perAddress.find(address);
            it != m_perAddress.end() && --it->second == 0)
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

// Serves one accepted connection; it keeps itself alive until the connection closes.
void serveConnection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context &tls,
                     std::shared_ptr<ServerContext> context, boost::asio::thread_pool &workers,
                     std::string peer);

} // namespace vigil::server
