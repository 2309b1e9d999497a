#pragma once

// The verifier's own certificates, as DataDirectory makes and renews them: server names as
// subjectAltNames, the CA profile and the TLS server certificate profile it signs. Every
// failure throws DataDirectoryError, with no key material in the message.

#include "core/bytes.h"
#include "core/opensslptr.h"
#include "server/admin/datadirectory.h"

#include <string>
#include <vector>

namespace vigil::server::certificates {

struct ServerName
{
    enum class Kind
    {
        Dns,
        Ip
    };
    Kind kind;
    Bytes value; // the DNS name's ASCII text or the 4 or 16 address bytes
};

// Each name as DataDirectory::initialise documents: an IP address (v4, v6, v6 in brackets) when
// it parses as one, else a DNS name, lower-cased; duplicates dropped. Refuses an empty list and
// a name that is neither.
std::vector<ServerName> parseServerNames(const std::vector<std::string> &names);

EvpPkeyPtr generateKey(); // EC P-256

// Self-signed, DataDirectory::caValidity, CA:TRUE with pathlen 0, keyCertSign and cRLSign.
X509Ptr makeCaCertificate(EVP_PKEY *caKey, TimePoint now);

// For tlsKey, signed by ca, DataDirectory::tlsValidity or until the CA's own end if that comes
// first, serverAuth, a subjectAltName per parsed name; the subject's CN is names' first (people
// read it, clients do not). Refuses an expired CA.
X509Ptr makeTlsCertificate(X509 *ca, EVP_PKEY *caKey, EVP_PKEY *tlsKey,
                                        const std::vector<std::string> &names,
                                        const std::vector<ServerName> &parsed, TimePoint now);

// The subjectAltNames as text, in the certificate's order: DNS names as they are, IP addresses
// as inet_ntop writes them (which parseServerNames reads back).
std::vector<std::string> subjectAltNameTexts(X509 *certificate);

TlsCertificateInfo certificateInfo(X509 *certificate);
TimePoint notAfterOf(X509 *certificate);
std::string fingerprintOf(X509 *certificate); // "sha256:…" of the DER
Bytes certificatePem(X509 *certificate);

} // namespace vigil::server::certificates
