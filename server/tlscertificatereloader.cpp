#include "tlscertificatereloader.h"

#include "clock.h"
#include "httpsserver.h"
#include "rfc3339.h"
#include "tlscredentials.h"
#include "verifiercertificates.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcTls, "vigil.verifier.tls")

namespace vigil::server {

TlsCertificateReloader::TlsCertificateReloader(const DataDirectory &data, HttpsServer &server,
                                               const posture::Clock &clock)
    : m_data(data), m_server(server), m_clock(clock),
      m_presented(certificates::certificateInfo(server.presented()->certificate()))
{
}

TlsCertificateInfo TlsCertificateReloader::presented() const
{
    const std::lock_guard lock(m_mutex);
    return m_presented;
}

void TlsCertificateReloader::check()
{
    const std::lock_guard lock(m_mutex);
    try {
        auto candidate = m_data.tlsCredentials();
        TlsCertificateInfo next = certificates::certificateInfo(candidate->certificate());
        if (next.fingerprint == m_presented.fingerprint) {
            m_lastFailure.clear();
            return;
        }
        // An old file put back (from a backup, by configuration management) must not replace
        // a certificate that still works.
        if (next.notAfter <= m_clock.now())
            throw DataDirectoryError("the certificate in " + m_data.tlsCertificate().string() +
                                     " expired at " + protocol::formatRfc3339(next.notAfter));
        m_server.present(std::move(candidate));
        m_presented = std::move(next);
        m_lastFailure.clear();
        qCInfo(lcTls).noquote() << ("now presenting the TLS certificate in " +
                                    m_data.tlsCertificate().string() + " (valid until " +
                                    protocol::formatRfc3339(m_presented.notAfter) + ", " +
                                    m_presented.fingerprint + ")")
                                       .c_str();
    } catch (const std::exception &e) {
        if (m_lastFailure == e.what())
            return;
        m_lastFailure = e.what();
        // The check's own fix is for a verifier that cannot start; this one is serving.
        qCWarning(lcTls).noquote()
            << ("the TLS certificate files in " + m_data.directory().string() +
                " changed but cannot be presented, so the certificate valid until " +
                protocol::formatRfc3339(m_presented.notAfter) +
                " stays in use; put back the files vigil-verifier tls renew wrote, or run it "
                "again. The check said: " +
                e.what())
                   .c_str();
    }
}

} // namespace vigil::server
