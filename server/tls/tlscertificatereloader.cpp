#include "server/tls/tlscertificatereloader.h"

#include "core/clock.h"
#include "protocol/rfc3339.h"
#include "server/http/httpsserver.h"
#include "server/tls/tlscredentials.h"
#include "server/tls/verifiercertificates.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcTls, "vigil.verifier.tls")

namespace vigil::server {

TlsCertificateReloader::TlsCertificateReloader(const DataDirectory &data, HttpsServer &server,
                                               const Clock &clock)
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
    std::string problem;
    // The data directory's fixes are tls renew's, which work on a running verifier too, except
    // the one for a verifier that cannot start at all.
    std::string fix = "put back a tls.pem and tls-key.pem that belong together and were issued "
                      "by this directory's CA";
    try {
        auto candidate = m_data.tlsCredentials();
        TlsCertificateInfo next = certificates::certificateInfo(candidate->certificate());
        if (next.fingerprint == m_presented.fingerprint) {
            m_lastFailure.clear();
            return;
        }
        // An old file put back (by a restore, by configuration management) must not replace a
        // certificate that still works.
        if (next.notAfter > m_clock.now()) {
            m_server.present(std::move(candidate));
            m_presented = std::move(next);
            m_lastFailure.clear();
            qCInfo(lcTls).noquote()
                << ("now presenting the TLS certificate in " + m_data.tlsCertificate().string() +
                    " (valid until " + protocol::formatRfc3339(m_presented.notAfter) + ", " +
                    m_presented.fingerprint + ")")
                       .c_str();
            return;
        }
        problem = "the certificate in " + m_data.tlsCertificate().string() + " expired at " +
                  protocol::formatRfc3339(next.notAfter);
        fix = "run vigil-verifier tls renew --data " + m_data.directory().string();
    } catch (const DataDirectoryError &e) {
        problem = e.reason();
        if (e.fix() != DataDirectoryError::restoreFix)
            fix = e.fix(); // empty when the reason says what to do (chmod 600, say)
    } catch (const std::exception &e) {
        problem = e.what();
    }
    if (problem == m_lastFailure)
        return;
    m_lastFailure = problem;
    qCWarning(lcTls).noquote() << ("cannot present the TLS certificate files in " +
                                   m_data.directory().string() + ": " + problem +
                                   "; still presenting the certificate valid until " +
                                   protocol::formatRfc3339(m_presented.notAfter) + "." +
                                   (fix.empty() ? "" : " To fix: " + fix))
                                      .c_str();
}

} // namespace vigil::server
