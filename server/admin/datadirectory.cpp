#include "server/admin/datadirectory.h"

#include "core/opensslptr.h"
#include "core/text.h"
#include "protocol/jose/devicekey.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/softwaredevicekey.h"
#include "server/admin/datadirectoryadvice.h"
#include "server/admin/datadirectoryfiles.h"
#include "server/admin/datadirectorykeys.h"
#include "server/mfa/secretbox.h"
#include "server/randomid.h"
#include "server/tls/tlscredentials.h"
#include "server/tls/verifiercertificates.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

namespace vigil::server {

namespace {

using namespace certificates;
using namespace datadir;
namespace fs = std::filesystem;

void writePrivateKey(const fs::path &path, EVP_PKEY *key, std::string_view what, Rollback &rollback)
{
    const BioPtr pem = privateKeyPem(key, what);
    writeNewFile(path, contentsOf(pem.get()), 0600, what, rollback);
}

} // namespace

InitResult DataDirectory::initialise(const fs::path &dir,
                                     const std::vector<std::string> &serverNames, TimePoint now)
{
    // Everything that can be refused is refused before the first file is written.
    const std::vector<ServerName> names = parseServerNames(serverNames);
    const EvpPkeyPtr caKey = generateKey();
    const X509Ptr ca = makeCaCertificate(caKey.get(), now);
    const EvpPkeyPtr tlsKey = generateKey();
    const X509Ptr tls =
        makeTlsCertificate(ca.get(), caKey.get(), tlsKey.get(), serverNames, names, now);

    Rollback rollback;
    prepareDirectory(dir, rollback);
    const DataDirectory paths(dir);
    writePrivateKey(paths.caKey(), caKey.get(), caKeyWhat, rollback);
    writeNewFile(paths.caCertificate(), certificatePem(ca.get()), 0644, "CA certificate", rollback);
    writePrivateKey(paths.tlsKey(), tlsKey.get(), tlsKeyWhat, rollback);
    writeNewFile(paths.tlsCertificate(), certificatePem(tls.get()), 0644, "TLS certificate",
                 rollback);
    try {
        protocol::SoftwareDeviceKey::create(paths.tokenSigningKey());
    } catch (const KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    rollback.add(paths.tokenSigningKey());
    {
        Bytes key = randomBytes(SecretBox::keySize);
        try {
            writeNewFile(paths.secretBoxKey(), key, 0600, "secret box key", rollback);
        } catch (...) {
            OPENSSL_cleanse(key.data(), key.size());
            throw;
        }
        OPENSSL_cleanse(key.data(), key.size());
    }
    makeDirectory(paths.ekCaDirectory(), 0755, &rollback);
    writeNewFile(
        paths.ekCaDirectory() / "README.txt",
        std::span(reinterpret_cast<const std::uint8_t *>(ekCaReadme.data()), ekCaReadme.size()),
        0644, "README", rollback);
    rollback.commit();
    return InitResult{fingerprintOf(ca.get())};
}

DataDirectory DataDirectory::openForTlsRenewal(const fs::path &dir)
{
    checkDirectory(dir);
    DataDirectory directory(dir);

    const X509Ptr ca = loadCertificate(directory.caCertificate(), "CA certificate", initFix);
    const EvpPkeyPtr caKey = loadKey(directory.caKey(), caKeyWhat);
    requireKeyMatches(ca.get(), caKey.get(), directory.caCertificate(), directory.caKey(), initFix);

    const EvpPkeyPtr tokenKey = loadKey(directory.tokenSigningKey(), tokenKeyWhat);
    try {
        protocol::fromEvpPkey(tokenKey.get());
    } catch (const KeyError &e) {
        throw DataDirectoryError(std::string(tokenKeyWhat) + " file " +
                                     quoted(directory.tokenSigningKey()) +
                                     " does not hold an EC P-256 key (" + e.what() + ")",
                                 initFix);
    }

    struct stat st
    {
    };
    const fs::path ekCas = directory.ekCaDirectory();
    if (::stat(ekCas.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw DataDirectoryError("trusted EK CA directory " + quoted(ekCas) +
                                 " is missing or not a directory; fix: mkdir -m 755 " +
                                 quoted(ekCas) +
                                 " and put the TPM manufacturers' CA certificates in it");
    return directory;
}

DataDirectory DataDirectory::open(const fs::path &dir)
{
    DataDirectory directory = openForTlsRenewal(dir);
    directory.tlsCredentials(); // the TLS pair and its issuer, loaded as serve loads them
    directory.secretBox();
    return directory;
}

SecretBox DataDirectory::secretBox() const
{
    try {
        return SecretBox::loadOrCreate(secretBoxKey());
    } catch (const SecretBoxError &e) {
        throw DataDirectoryError(e.what());
    }
}

TimePoint DataDirectory::caNotAfter() const
{
    const X509Ptr ca = loadCertificate(caCertificate(), "CA certificate", initFix);
    return notAfterOf(ca.get());
}

std::shared_ptr<const TlsCredentials> DataDirectory::tlsCredentials() const
{
    // Each file is read once. The first certificate and the pair are checked here for the
    // directory's messages; TlsCredentials reads the whole chain and asks OpenSSL.
    const std::string withNames = renewFix(m_dir, true);
    const Bytes chain = readCertificateFile(tlsCertificate(), "TLS certificate", withNames);
    EvpPkeyPtr key = loadKey(tlsKey(), tlsKeyWhat, newKeyFix(m_dir));
    requireKeyMatches(parseCertificate(chain, tlsCertificate(), "TLS certificate", withNames).get(),
                      key.get(), tlsCertificate(), tlsKey(), renewFix(m_dir, false));
    std::shared_ptr<const TlsCredentials> credentials;
    try {
        credentials = TlsCredentials::fromPem(chain, quoted(tlsCertificate()), std::move(key),
                                              quoted(tlsKey()));
    } catch (const std::runtime_error &e) {
        // A broken block after the certificate goes with a renewal, which writes one
        // certificate; a key OpenSSL refuses needs a new one.
        throw DataDirectoryError(e.what(), "mend it with " + renewCommand(m_dir) +
                                               ", adding --new-key if OpenSSL refuses the key");
    }
    const X509Ptr ca = loadCertificate(caCertificate(), "CA certificate", initFix);
    if (X509_verify(credentials->certificate(), X509_get0_pubkey(ca.get())) != 1) {
        openSslError(); // clear the queue
        throw DataDirectoryError("TLS certificate " + quoted(tlsCertificate()) +
                                     " is not signed by the CA in " + quoted(caCertificate()),
                                 renewFix(m_dir, false));
    }
    return credentials;
}

TlsCertificateInfo DataDirectory::tlsCertificateInfo() const
{
    const X509Ptr tls = loadCertificate(tlsCertificate(), "TLS certificate", initFix);
    return certificateInfo(tls.get());
}

std::string certificateFingerprint(const fs::path &pem)
{
    const X509Ptr certificate =
        loadCertificate(pem, "certificate", "give the path of a PEM certificate file");
    return fingerprintOf(certificate.get());
}

} // namespace vigil::server
