#include "tlscertificatereloader.h"

#include "httpsserver.h"
#include "rfc3339.h"
#include "tlscredentials.h"
#include "verifiercertificates.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcTls, "vigil.verifier.tls")

namespace vigil::server {

TlsCertificateReloader::TlsCertificateReloader(const DataDirectory &data, HttpsServer &server)
    : m_data(data), m_server(server)
{
}

TlsCertificateInfo TlsCertificateReloader::presented() const
{
    return certificates::certificateInfo(m_server.presented()->certificate());
}

void TlsCertificateReloader::check()
{
    const std::lock_guard lock(m_checking);
    const TlsCertificateInfo current = presented();
    try {
        auto candidate = m_data.tlsCredentials();
        const TlsCertificateInfo next = certificates::certificateInfo(candidate->certificate());
        m_lastFailure.clear();
        if (next.fingerprint == current.fingerprint)
            return;
        m_server.present(std::move(candidate));
        qCInfo(lcTls).noquote() << ("now presenting the TLS certificate in " +
                                    m_data.tlsCertificate().string() + " (valid until " +
                                    protocol::formatRfc3339(next.notAfter) + ", " +
                                    next.fingerprint + ")")
                                       .c_str();
    } catch (const std::exception &e) {
        if (m_lastFailure == e.what())
            return;
        m_lastFailure = e.what();
        qCWarning(lcTls).noquote() << ("cannot present the TLS certificate in " +
                                       m_data.tlsCertificate().string() +
                                       "; still presenting the one valid until " +
                                       protocol::formatRfc3339(current.notAfter) + ": " + e.what())
                                          .c_str();
    }
}

} // namespace vigil::server
