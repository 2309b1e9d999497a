#pragma once

// Keeps the certificate `serve` presents in step with the data directory, so that
// `vigil-verifier tls renew` needs no restart. check() runs when tls.pem changes (a FileWatcher)
// and on serve's periodic pass, which also catches a change the watch saw before the new file
// could be read.

#include "datadirectory.h"

#include <mutex>
#include <string>

namespace vigil::server {

class HttpsServer;

class TlsCertificateReloader
{
public:
    // The server must present the directory's certificate already (it loaded the same files).
    TlsCertificateReloader(const DataDirectory &data, HttpsServer &server);

    // Loads the directory's certificate and key as DataDirectory::tlsCredentials() checks them.
    // When they hold a certificate other than the one presented, the server presents them from
    // its next handshake, and an info line says so. When they cannot be presented the current
    // certificate stays, and a warning says why, once for each different reason.
    // From any thread; calls run one at a time.
    void check();

    // The certificate the server presents.
    TlsCertificateInfo presented() const;

private:
    const DataDirectory &m_data;
    HttpsServer &m_server;
    std::mutex m_checking;
    std::string m_lastFailure; // guarded by m_checking
};

} // namespace vigil::server
