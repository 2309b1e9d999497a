// DataDirectory::renewTlsCertificate: a new TLS certificate (and, when asked, key) from the
// directory's CA, tried before it replaces the old one.

#include "core/privatefile.h"
#include "core/text.h"
#include "protocol/jose/devicekey.h"
#include "server/admin/datadirectory.h"
#include "server/admin/datadirectoryadvice.h"
#include "server/admin/datadirectoryfiles.h"
#include "server/admin/datadirectorykeys.h"
#include "server/tls/tlscredentials.h"
#include "server/tls/verifiercertificates.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace vigil::server {

using namespace certificates;
using namespace datadir;

TlsCertificateInfo DataDirectory::renewTlsCertificate(const std::vector<std::string> &serverNames,
                                                      TimePoint now, TlsKey tlsKeyChoice) const
{
    const X509Ptr ca = loadCertificate(caCertificate(), "CA certificate", initFix);
    const EvpPkeyPtr issuerKey = loadKey(caKey(), caKeyWhat);
    const bool newKey = tlsKeyChoice == TlsKey::New;
    const EvpPkeyPtr key = newKey ? generateKey() : loadKey(tlsKey(), tlsKeyWhat, newKeyFix(m_dir));
    // The current certificate only lends its names; the new one is for the key, whatever the
    // certificate's own key, so a mismatched pair is mended too.
    std::vector<std::string> names = serverNames;
    if (names.empty())
        names = subjectAltNameTexts(
            loadCertificate(tlsCertificate(), "TLS certificate",
                            "give the names agents connect to with --name, one for each")
                .get());
    const X509Ptr renewed = makeTlsCertificate(ca.get(), issuerKey.get(), key.get(), names,
                                               parseServerNames(names), now);
    const Bytes pem = certificatePem(renewed.get());
    // What serve will be asked to present, tried before anything is written.
    EVP_PKEY_up_ref(key.get());
    EvpPkeyPtr presented(key.get());
    try {
        TlsCredentials::fromPem(pem, quoted(tlsCertificate()), std::move(presented),
                                quoted(tlsKey()));
    } catch (const std::runtime_error &e) {
        throw DataDirectoryError(e.what(), newKeyFix(m_dir));
    }
    try {
        if (newKey)
            writePrivateFile(tlsKey(),
                                          contentsOf(privateKeyPem(key.get(), tlsKeyWhat).get()),
                                          Replace::Allowed, tlsKeyWhat);
    } catch (const KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    try {
        writePrivateFile(tlsCertificate(), pem, Replace::Allowed,
                                      "TLS certificate");
    } catch (const KeyError &e) {
        // The new key is in place and the old certificate does not belong to it: serve refuses
        // the pair until a certificate for the key is written.
        if (newKey)
            throw DataDirectoryError(std::string(e.what()) + "; the new key is in " +
                                         quoted(tlsKey()) + " already",
                                     renewFix(m_dir, names));
        throw DataDirectoryError(e.what());
    }
    // Written 0600 like every file privatefile writes; certificates are public. The new
    // certificate is in place by now, which the message says.
    if (::chmod(tlsCertificate().c_str(), 0644) != 0)
        throw DataDirectoryError(
            "the new certificate is in " + quoted(tlsCertificate()) +
            ", but its mode could not be set to 0644: " + std::strerror(errno));
    return certificateInfo(renewed.get());
}

} // namespace vigil::server
