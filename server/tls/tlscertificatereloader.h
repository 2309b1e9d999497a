#pragma once

// Keeps the certificate `serve` presents in step with the data directory, so that
// `vigil-verifier tls renew` needs no restart. check() runs when tls.pem or tls-key.pem changes
// (serve watches both) and on serve's periodic pass, which also catches a change the watch
// missed or saw before the new file could be read.

#include "server/admin/datadirectory.h"

#include <mutex>
#include <string>

namespace vigil {
class Clock;
}

namespace vigil::server {

class HttpsServer;

class TlsCertificateReloader
{
public:
    // The server must present the directory's certificate already (serve starts it with
    // data.tlsCredentials()).
    TlsCertificateReloader(const DataDirectory &data, HttpsServer &server,
                           const Clock &clock);

    // Loads the directory's certificate and key as DataDirectory::tlsCredentials() does. When
    // they hold a certificate other than the one presented, still valid, the server presents
    // it from its next full handshake and an info line says so. Otherwise the current
    // certificate stays, and a warning says why and how to fix it, once for each different
    // reason. From any thread; calls run one at a time. Never throws.
    void check();

    // The certificate the server presents.
    TlsCertificateInfo presented() const;

private:
    const DataDirectory &m_data;
    HttpsServer &m_server;
    const Clock &m_clock;
    mutable std::mutex m_mutex;
    TlsCertificateInfo m_presented; // guarded by m_mutex, as is m_lastFailure
    std::string m_lastFailure;
};

} // namespace vigil::server
