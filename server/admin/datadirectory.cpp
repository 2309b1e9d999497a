#include "server/admin/datadirectory.h"

#include "core/bytes.h"
#include "core/opensslptr.h"
#include "core/privatefile.h"
#include "protocol/jose/devicekey.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/softwaredevicekey.h"
#include "server/tls/tlscredentials.h"
#include "server/tls/verifiercertificates.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::server {

namespace {

using namespace certificates;
namespace fs = std::filesystem;

constexpr std::string_view caKeyWhat = "CA key";
constexpr std::string_view tlsKeyWhat = "TLS key";
constexpr std::string_view tokenKeyWhat = "token signing key";
constexpr std::size_t maxKeyFileSize = 64 * 1024;
constexpr std::size_t maxCertificateFileSize = 1024 * 1024;

constexpr char ekCaReadme[] =
    "Trusted TPM manufacturer CAs\n"
    "============================\n"
    "\n"
    "vigil-verifier accepts a TPM enrollment only when the device's endorsement key (EK)\n"
    "certificate chains to a self-signed CA certificate in this directory.\n"
    "\n"
    "Put here the root CA certificates of the TPM manufacturers whose TPMs you accept (and, if\n"
    "you like, their intermediate CAs), as published by the manufacturers: one or more\n"
    "certificates per file, PEM or DER, in files named *.pem, *.crt, *.cer or *.der. Other\n"
    "files, like this one, are ignored; subdirectories are not searched.\n"
    "\n"
    "With no certificate here, no TPM device can enroll; software-key devices are governed by\n"
    "the policy's accepted assurance levels alone.\n";

std::string quoted(const fs::path &path)
{
    return "'" + path.string() + "'";
}

std::string octalMode(mode_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", unsigned(mode & 07777));
    return text;
}

// ---------------------------------------------------------------------------------------------
// Writing the directory

// What initialise() has created, removed again unless it completes: a failed init leaves the
// directory as it found it, so that it can simply be run again.
class Rollback
{
public:
    ~Rollback()
    {
        for (auto it = m_created.rbegin(); it != m_created.rend(); ++it) {
            std::error_code ignored;
            fs::remove(*it, ignored);
        }
    }
    void add(fs::path path) { m_created.push_back(std::move(path)); }
    void commit() { m_created.clear(); }

private:
    std::vector<fs::path> m_created;
};

void writeNewFile(const fs::path &path, std::span<const std::uint8_t> contents, mode_t mode,
                  std::string_view what, Rollback &rollback)
{
    try {
        if (!writePrivateFile(path, contents, Replace::Forbidden, what))
            throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " appeared while the data directory was being initialised "
                                     "(is another `vigil-verifier init` running?); it was left "
                                     "alone. Remove the directory's contents and run init again.");
    } catch (const KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    rollback.add(path);
    // Written 0600 like every file privatefile writes; certificates are public.
    if (mode != 0600 && ::chmod(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot set mode " + octalMode(mode) + " on " + quoted(path) +
                                 ": " + std::strerror(errno));
}

// The key as PKCS#8 PEM in secure memory: the text is wiped when the BIO frees or grows its
// buffer.
BioPtr privateKeyPem(EVP_PKEY *key, std::string_view what)
{
    BioPtr pem(BIO_new(BIO_s_secmem()));
    if (!pem ||
        PEM_write_bio_PrivateKey(pem.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw DataDirectoryError("cannot encode the " + std::string(what) +
                                 " as PKCS#8: " + openSslError());
    return pem;
}

std::span<const std::uint8_t> contentsOf(BIO *memory)
{
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(memory, &text);
    return {reinterpret_cast<const std::uint8_t *>(text->data), text->length};
}

void writePrivateKey(const fs::path &path, EVP_PKEY *key, std::string_view what, Rollback &rollback)
{
    const BioPtr pem = privateKeyPem(key, what);
    writeNewFile(path, contentsOf(pem.get()), 0600, what, rollback);
}

void makeDirectory(const fs::path &path, mode_t mode, Rollback *rollback)
{
    if (::mkdir(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot create directory " + quoted(path) + ": " +
                                 std::strerror(errno));
    if (rollback)
        rollback->add(path);
    // mkdir's mode passes through the umask; these modes are exact whatever the umask.
    if (::chmod(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot set mode " + octalMode(mode) + " on " + quoted(path) +
                                 ": " + std::strerror(errno));
}

// Creates dir, or checks that an existing dir is an empty directory of ours and makes it 0700.
void prepareDirectory(const fs::path &dir, Rollback &rollback)
{
    struct stat st
    {
    };
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT)
            throw DataDirectoryError("cannot use data directory " + quoted(dir) + ": " +
                                     std::strerror(errno));
        const fs::path parent = dir.parent_path();
        if (!parent.empty()) {
            std::error_code error;
            fs::create_directories(parent, error);
            if (error)
                throw DataDirectoryError("cannot create " + quoted(parent) +
                                         " for the data "
                                         "directory: " +
                                         error.message());
        }
        makeDirectory(dir, 0700, &rollback);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        throw DataDirectoryError("data directory " + quoted(dir) +
                                 " exists and is not a directory; choose another path");
    std::error_code error;
    const bool empty = fs::is_empty(dir, error);
    if (error)
        throw DataDirectoryError("cannot read data directory " + quoted(dir) + ": " +
                                 error.message());
    if (!empty)
        throw DataDirectoryError(
            "data directory " + quoted(dir) +
            " is not empty; refusing to initialise over it, which would replace a CA that agents "
            "may already pin. Choose a new or empty directory (remove this one only if nothing "
            "uses its CA).");
    if (st.st_uid != ::geteuid())
        throw DataDirectoryError("data directory " + quoted(dir) + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", not by this process's user (uid " +
                                 std::to_string(::geteuid()) + "); fix: chown " +
                                 std::to_string(::geteuid()) + " " + quoted(dir));
    if (::chmod(dir.c_str(), 0700) != 0)
        throw DataDirectoryError("cannot set mode 0700 on " + quoted(dir) + ": " +
                                 std::strerror(errno));
}

// ---------------------------------------------------------------------------------------------
// Opening

const char *const initFix = DataDirectoryError::restoreFix;

// Never prompts: an encrypted key file is an error, not a reason to block a service on a tty.
int noPassword(char *, int, int, void *)
{
    return -1;
}

void requirePresent(const fs::path &path, std::string_view what, std::string_view fix)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) == 0)
        return;
    if (errno == ENOENT)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) + " is missing",
                                 std::string(fix));
    throw DataDirectoryError("cannot stat " + std::string(what) + " file " + quoted(path) + ": " +
                             std::strerror(errno));
}

// The key in a key file, after privatefile's owner/mode/symlink checks.
EvpPkeyPtr loadKey(const fs::path &path, std::string_view what, std::string_view fix = initFix)
{
    requirePresent(path, what, fix);
    Bytes text;
    try {
        text = readPrivateFile(path, maxKeyFileSize, what);
    } catch (const KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    BioPtr bio(BIO_new_mem_buf(text.data(), int(text.size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr)
                       : nullptr);
    OPENSSL_cleanse(text.data(), text.size());
    if (!key)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " does not hold an unencrypted PEM private key (" +
                                     openSslError() + ")",
                                 std::string(fix));
    return key;
}

// A certificate file's text, for a regular file of at most maxCertificateFileSize bytes.
Bytes readCertificateFile(const fs::path &path, std::string_view what, std::string_view fix)
{
    requirePresent(path, what, fix);
    struct stat st
    {
    };
    // A FIFO or device here would block or feed garbage; only a regular file is read.
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " is not a regular file",
                                 std::string(fix));
    std::ifstream in(path, std::ios::binary);
    Bytes text(maxCertificateFileSize + 1);
    in.read(reinterpret_cast<char *>(text.data()), std::streamsize(text.size()));
    if (in.bad() || (!in && !in.eof()))
        throw DataDirectoryError("cannot read " + std::string(what) + " file " + quoted(path) +
                                 ": " + std::strerror(errno));
    text.resize(std::size_t(in.gcount()));
    if (text.size() > maxCertificateFileSize)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) + " is over " +
                                     std::to_string(maxCertificateFileSize / 1024) + " KiB",
                                 std::string(fix));
    return text;
}

// The first certificate in text, read from path.
X509Ptr parseCertificate(const Bytes &text, const fs::path &path, std::string_view what,
                         std::string_view fix)
{
    BioPtr bio(BIO_new_mem_buf(text.data(), int(text.size())));
    X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr) : nullptr);
    if (!certificate)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " does not hold a PEM certificate (" + openSslError() + ")",
                                 std::string(fix));
    return certificate;
}

X509Ptr loadCertificate(const fs::path &path, std::string_view what, std::string_view fix)
{
    return parseCertificate(readCertificateFile(path, what, fix), path, what, fix);
}

void requireKeyMatches(X509 *certificate, EVP_PKEY *key, const fs::path &certificatePath,
                       const fs::path &keyPath, std::string_view fix)
{
    if (X509_check_private_key(certificate, key) != 1) {
        openSslError(); // clear the queue
        throw DataDirectoryError("the key in " + quoted(keyPath) +
                                     " does not belong to the certificate in " +
                                     quoted(certificatePath),
                                 std::string(fix));
    }
}

// `vigil-verifier tls renew` on dir with arguments, quoted as a command in a fix.
std::string renewCommand(const fs::path &dir, const std::string &arguments = {})
{
    return "`vigil-verifier tls renew --data " + quoted(dir) + arguments + "`";
}

// What `tls renew` mends: the TLS certificate, issued again for the TLS key from the CA that
// agents pin. A new data directory would mean a new CA and every agent enrolling again. Without
// a readable certificate to take the names from, the command needs them.
std::string renewFix(const fs::path &dir, bool needsNames)
{
    const std::string prefix =
        "issue a new certificate for the TLS key from this directory's CA, which agents pin: ";
    return needsNames ? prefix + renewCommand(dir, " --name NAME") +
                            " (a --name for each name agents connect to)"
                      : prefix + renewCommand(dir);
}

// The same, for names known: what to run again after a renewal that stopped half-way.
std::string renewFix(const fs::path &dir, const std::vector<std::string> &names)
{
    std::string arguments;
    for (const auto &name : names)
        arguments += " --name " + name;
    return "issue a new certificate for the TLS key from this directory's CA, which agents pin: " +
           renewCommand(dir, arguments);
}

// A TLS key that is lost or unreadable is replaced with its certificate; agents pin the CA, not
// the key.
std::string newKeyFix(const fs::path &dir)
{
    return "make a new TLS key and certificate from this directory's CA, which agents pin: " +
           renewCommand(dir, " --new-key");
}

void checkDirectory(const fs::path &dir)
{
    struct stat st
    {
    };
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw DataDirectoryError("data directory " + quoted(dir) +
                                     " does not exist; create it with `vigil-verifier init "
                                     "--data " +
                                     quoted(dir) + "`");
        throw DataDirectoryError("cannot use data directory " + quoted(dir) + ": " +
                                 std::strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        throw DataDirectoryError("data directory " + quoted(dir) + " is not a directory");
    if (st.st_uid != ::geteuid())
        throw DataDirectoryError("data directory " + quoted(dir) + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", not by this process's user (uid " +
                                 std::to_string(::geteuid()) +
                                 "); fix: run vigil-verifier as its owner, or chown -R " +
                                 std::to_string(::geteuid()) + " " + quoted(dir));
    if (st.st_mode & 022)
        throw DataDirectoryError(
            "data directory " + quoted(dir) + " has mode " + octalMode(st.st_mode) +
            ", which lets group or others replace its files; fix: chmod 700 " + quoted(dir));
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
    makeDirectory(paths.ekCaDirectory(), 0755, &rollback);
    writeNewFile(
        paths.ekCaDirectory() / "README.txt",
        std::span(reinterpret_cast<const std::uint8_t *>(ekCaReadme), sizeof ekCaReadme - 1), 0644,
        "README", rollback);
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
    return directory;
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

std::string certificateFingerprint(const fs::path &pem)
{
    const X509Ptr certificate =
        loadCertificate(pem, "certificate", "give the path of a PEM certificate file");
    return fingerprintOf(certificate.get());
}

} // namespace vigil::server
