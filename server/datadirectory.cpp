#include "datadirectory.h"

#include "bytes.h"
#include "certificatefingerprint.h"
#include "devicekey.h"
#include "jwk.h"
#include "opensslptr.h"
#include "privatefile.h"
#include "randomid.h"
#include "softwaredevicekey.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::server {

namespace {

namespace fs = std::filesystem;
using attestation::Bytes;
using attestation::EvpPkeyPtr;
using attestation::openSslError;
using attestation::X509Ptr;

using X509NamePtr = std::unique_ptr<X509_NAME, attestation::OpenSslDeleter<X509_NAME_free>>;
using X509ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, attestation::OpenSslDeleter<X509_EXTENSION_free>>;
using GeneralNamePtr =
    std::unique_ptr<GENERAL_NAME, attestation::OpenSslDeleter<GENERAL_NAME_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, attestation::OpenSslDeleter<GENERAL_NAMES_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, attestation::OpenSslDeleter<ASN1_STRING_free>>;
using Asn1IntegerPtr =
    std::unique_ptr<ASN1_INTEGER, attestation::OpenSslDeleter<ASN1_INTEGER_free>>;

constexpr std::string_view caKeyWhat = "CA key";
constexpr std::string_view tlsKeyWhat = "TLS key";
constexpr std::string_view tokenKeyWhat = "token signing key";
constexpr std::size_t maxKeyFileSize = 64 * 1024;

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
// Server names

bool isDnsLabelCharacter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// Empty when name is a valid host name (RFC 1123 labels, a leading "*" label allowed), else why
// it is not.
std::string dnsNameProblem(const std::string &name)
{
    if (name.size() > 253)
        return "longer than 253 characters";
    std::size_t start = 0;
    int labels = 0;
    bool wildcard = false;
    for (;;) {
        const std::size_t dot = name.find('.', start);
        const std::string_view label =
            std::string_view(name).substr(start, dot == std::string::npos ? dot : dot - start);
        ++labels;
        if (label.empty())
            return "it has an empty label";
        if (label.size() > 63)
            return "label '" + std::string(label) + "' is longer than 63 characters";
        if (label == "*" && labels == 1) {
            wildcard = true;
        } else {
            for (char c : label) {
                if (!isDnsLabelCharacter(c))
                    return "label '" + std::string(label) +
                           "' has a character other than letters, digits and '-'";
            }
            if (label.front() == '-' || label.back() == '-')
                return "label '" + std::string(label) + "' starts or ends with '-'";
        }
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    if (wildcard && labels < 3)
        return "a wildcard needs at least two labels after '*'";
    return {};
}

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

std::optional<Bytes> parseIpAddress(std::string_view text)
{
    std::string host(text);
    int family = AF_INET;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        family = AF_INET6;
    } else if (host.find(':') != std::string::npos) {
        family = AF_INET6;
    }
    Bytes address(family == AF_INET ? 4 : 16);
    if (inet_pton(family, host.c_str(), address.data()) != 1)
        return std::nullopt;
    return address;
}

std::vector<ServerName> parseServerNames(const std::vector<std::string> &names)
{
    if (names.empty())
        throw DataDirectoryError("no server name given: the TLS certificate needs at least one "
                                 "DNS name or IP address that agents connect to");
    std::vector<ServerName> parsed;
    for (const std::string &name : names) {
        ServerName entry;
        if (std::optional<Bytes> address = parseIpAddress(name)) {
            entry = {ServerName::Kind::Ip, std::move(*address)};
        } else {
            std::string lower = name;
            for (char &c : lower) {
                if (c >= 'A' && c <= 'Z')
                    c = char(c - 'A' + 'a');
            }
            const std::string problem = dnsNameProblem(lower);
            if (!problem.empty())
                throw DataDirectoryError(
                    "server name '" + name +
                    "' is neither an IP address nor a valid DNS name: " + problem);
            entry = {ServerName::Kind::Dns, attestation::toBytes(lower)};
        }
        bool duplicate = false;
        for (const ServerName &seen : parsed)
            duplicate = duplicate || (seen.kind == entry.kind && seen.value == entry.value);
        if (!duplicate)
            parsed.push_back(std::move(entry));
    }
    return parsed;
}

// ---------------------------------------------------------------------------------------------
// Certificates

EvpPkeyPtr generateKey()
{
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        throw DataDirectoryError("cannot generate an EC P-256 key: " + openSslError());
    return key;
}

[[noreturn]] void certificateFailure(std::string_view step)
{
    throw DataDirectoryError("cannot build the certificate (" + std::string(step) +
                             "): " + openSslError());
}

// A positive 128-bit serial (RFC 5280 allows up to 20 octets), unpredictable so that no two
// certificates of this CA share one.
void setRandomSerial(X509 *certificate)
{
    Bytes bytes = randomBytes(16);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40; // never zero, always 16 bytes
    attestation::BignumPtr number(BN_bin2bn(bytes.data(), int(bytes.size()), nullptr));
    Asn1IntegerPtr serial(number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr);
    if (!serial || X509_set_serialNumber(certificate, serial.get()) != 1)
        certificateFailure("serial number");
}

std::time_t toTimeT(TimePoint time)
{
    return std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::seconds>(time));
}

void setValidity(X509 *certificate, TimePoint now, std::chrono::days validity)
{
    const std::time_t notBefore = toTimeT(now - DataDirectory::backdating);
    const std::time_t notAfter = toTimeT(now + validity);
    if (!ASN1_TIME_set(X509_getm_notBefore(certificate), notBefore) ||
        !ASN1_TIME_set(X509_getm_notAfter(certificate), notAfter))
        certificateFailure("validity");
}

X509NamePtr commonName(const std::string &name)
{
    X509NamePtr subject(X509_NAME_new());
    if (!subject || X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                               reinterpret_cast<const unsigned char *>(name.data()),
                                               int(name.size()), -1, 0) != 1)
        certificateFailure("subject");
    return subject;
}

// value uses OpenSSL's extension syntax; only constant strings go here (server names are encoded
// separately so that no name can smuggle extension syntax in).
void addExtension(X509 *certificate, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
    if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1)
        certificateFailure(OBJ_nid2sn(nid));
}

void addSubjectAltNames(X509 *certificate, const std::vector<ServerName> &names)
{
    GeneralNamesPtr general(sk_GENERAL_NAME_new_null());
    if (!general)
        certificateFailure("subjectAltName");
    for (const ServerName &name : names) {
        GeneralNamePtr entry(GENERAL_NAME_new());
        Asn1StringPtr value(ASN1_STRING_type_new(
            name.kind == ServerName::Kind::Dns ? V_ASN1_IA5STRING : V_ASN1_OCTET_STRING));
        if (!entry || !value ||
            ASN1_STRING_set(value.get(), name.value.data(), int(name.value.size())) != 1)
            certificateFailure("subjectAltName");
        GENERAL_NAME_set0_value(
            entry.get(), name.kind == ServerName::Kind::Dns ? GEN_DNS : GEN_IPADD, value.release());
        if (sk_GENERAL_NAME_push(general.get(), entry.get()) == 0)
            certificateFailure("subjectAltName");
        entry.release();
    }
    if (X509_add1_ext_i2d(certificate, NID_subject_alt_name, general.get(), 0,
                          X509V3_ADD_DEFAULT) != 1)
        certificateFailure("subjectAltName");
}

X509Ptr newCertificate(const X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *key,
                       TimePoint now, std::chrono::days validity)
{
    X509Ptr certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
        X509_set_subject_name(certificate.get(), subject) != 1 ||
        X509_set_issuer_name(certificate.get(), issuer) != 1 ||
        X509_set_pubkey(certificate.get(), key) != 1)
        certificateFailure("fields");
    setRandomSerial(certificate.get());
    setValidity(certificate.get(), now, validity);
    return certificate;
}

void sign(X509 *certificate, EVP_PKEY *issuerKey)
{
    if (X509_sign(certificate, issuerKey, EVP_sha256()) <= 0)
        certificateFailure("signature");
}

X509Ptr makeCaCertificate(EVP_PKEY *caKey, TimePoint now)
{
    const X509NamePtr subject =
        commonName("Vigil verifier CA " + attestation::toHex(randomBytes(4)));
    X509Ptr certificate =
        newCertificate(subject.get(), subject.get(), caKey, now, DataDirectory::caValidity);
    X509 *ca = certificate.get();
    addExtension(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    addExtension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
    addExtension(ca, ca, NID_subject_key_identifier, "hash");
    sign(ca, caKey);
    return certificate;
}

X509Ptr makeTlsCertificate(X509 *ca, EVP_PKEY *caKey, EVP_PKEY *tlsKey,
                           const std::vector<std::string> &names,
                           const std::vector<ServerName> &parsed, TimePoint now)
{
    // Clients match subjectAltName only; the CN is for people reading the certificate, and may
    // hold at most 64 characters.
    const std::string &first = names.front();
    const X509NamePtr subject = commonName(first.size() <= 64 ? first : "Vigil verifier");
    X509Ptr certificate = newCertificate(subject.get(), X509_get_subject_name(ca), tlsKey, now,
                                         DataDirectory::tlsValidity);
    X509 *tls = certificate.get();
    addExtension(tls, ca, NID_basic_constraints, "critical,CA:FALSE");
    addExtension(tls, ca, NID_key_usage, "critical,digitalSignature");
    addExtension(tls, ca, NID_ext_key_usage, "serverAuth");
    addExtension(tls, ca, NID_subject_key_identifier, "hash");
    addExtension(tls, ca, NID_authority_key_identifier, "keyid:always");
    addSubjectAltNames(tls, parsed);
    sign(tls, caKey);
    return certificate;
}

// The subjectAltNames as text, in the certificate's order: DNS names as they are, IP addresses
// as inet_ntop writes them (which parseServerNames reads back).
std::vector<std::string> subjectAltNameTexts(X509 *certificate)
{
    std::vector<std::string> names;
    const GeneralNamesPtr general(static_cast<GENERAL_NAMES *>(
        X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
    if (!general)
        return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(general.get()); ++i) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(general.get(), i);
        if (name->type == GEN_DNS) {
            names.emplace_back(
                reinterpret_cast<const char *>(ASN1_STRING_get0_data(name->d.dNSName)),
                ASN1_STRING_length(name->d.dNSName));
        } else if (name->type == GEN_IPADD) {
            const int length = ASN1_STRING_length(name->d.iPAddress);
            char text[INET6_ADDRSTRLEN] = {};
            if ((length == 4 || length == 16) &&
                inet_ntop(length == 4 ? AF_INET : AF_INET6,
                          ASN1_STRING_get0_data(name->d.iPAddress), text, sizeof text))
                names.emplace_back(text);
        }
    }
    return names;
}

TimePoint notAfterOf(X509 *certificate)
{
    std::tm fields{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &fields) != 1)
        throw DataDirectoryError("cannot read a certificate's notAfter: " + openSslError());
    return std::chrono::system_clock::from_time_t(timegm(&fields));
}

std::string fingerprintOf(X509 *certificate)
{
    try {
        return attestation::certificateFingerprint(certificate);
    } catch (const std::runtime_error &e) {
        throw DataDirectoryError(e.what());
    }
}

Bytes certificatePem(X509 *certificate)
{
    attestation::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1)
        throw DataDirectoryError("cannot encode a certificate as PEM: " + openSslError());
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(bio.get(), &text);
    return Bytes(text->data, text->data + text->length);
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
        if (!attestation::writePrivateFile(path, contents, attestation::Replace::Forbidden, what))
            throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " appeared while the data directory was being initialised "
                                     "(is another `vigil-verifier init` running?); it was left "
                                     "alone. Remove the directory's contents and run init again.");
    } catch (const attestation::KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    rollback.add(path);
    // Written 0600 like every file privatefile writes; certificates are public.
    if (mode != 0600 && ::chmod(path.c_str(), mode) != 0)
        throw DataDirectoryError("cannot set mode " + octalMode(mode) + " on " + quoted(path) +
                                 ": " + std::strerror(errno));
}

void writePrivateKey(const fs::path &path, EVP_PKEY *key, std::string_view what, Rollback &rollback)
{
    // secmem: the PEM text is wiped when the BIO frees or grows its buffer.
    attestation::BioPtr pem(BIO_new(BIO_s_secmem()));
    if (!pem ||
        PEM_write_bio_PrivateKey(pem.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw DataDirectoryError("cannot encode the " + std::string(what) +
                                 " as PKCS#8: " + openSslError());
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(pem.get(), &text);
    writeNewFile(path, std::span(reinterpret_cast<const std::uint8_t *>(text->data), text->length),
                 0600, what, rollback);
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

const char *const initFix = "restore the data directory from a backup, or create a new one with "
                            "`vigil-verifier init --data DIR`";

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
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) + " is missing; " +
                                 std::string(fix));
    throw DataDirectoryError("cannot stat " + std::string(what) + " file " + quoted(path) + ": " +
                             std::strerror(errno));
}

// The key in a key file, after privatefile's owner/mode/symlink checks.
EvpPkeyPtr loadKey(const fs::path &path, std::string_view what)
{
    requirePresent(path, what, initFix);
    Bytes text;
    try {
        text = attestation::readPrivateFile(path, maxKeyFileSize, what);
    } catch (const attestation::KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    attestation::BioPtr bio(BIO_new_mem_buf(text.data(), int(text.size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr)
                       : nullptr);
    OPENSSL_cleanse(text.data(), text.size());
    if (!key)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                 " does not hold an unencrypted PEM private key (" +
                                 openSslError() + "); " + initFix);
    return key;
}

X509Ptr loadCertificate(const fs::path &path, std::string_view what, std::string_view fix)
{
    requirePresent(path, what, fix);
    struct stat st
    {
    };
    // A FIFO or device here would block or feed garbage; only a regular file is read.
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                 " is not a regular file; " + std::string(fix));
    attestation::BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio)
        throw DataDirectoryError("cannot read " + std::string(what) + " file " + quoted(path) +
                                 ": " + openSslError());
    X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr));
    if (!certificate)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                 " does not hold a PEM certificate (" + openSslError() + "); " +
                                 std::string(fix));
    return certificate;
}

void requireKeyMatches(X509 *certificate, EVP_PKEY *key, const fs::path &certificatePath,
                       const fs::path &keyPath)
{
    if (X509_check_private_key(certificate, key) != 1) {
        openSslError(); // clear the queue
        throw DataDirectoryError("the key in " + quoted(keyPath) +
                                 " does not belong to the certificate in " +
                                 quoted(certificatePath) + "; " + initFix);
    }
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
        attestation::SoftwareDeviceKey::create(paths.tokenSigningKey());
    } catch (const attestation::KeyError &e) {
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

DataDirectory DataDirectory::open(const fs::path &dir)
{
    checkDirectory(dir);
    DataDirectory directory(dir);

    const X509Ptr ca = loadCertificate(directory.caCertificate(), "CA certificate", initFix);
    const EvpPkeyPtr caKey = loadKey(directory.caKey(), caKeyWhat);
    requireKeyMatches(ca.get(), caKey.get(), directory.caCertificate(), directory.caKey());

    const X509Ptr tls = loadCertificate(directory.tlsCertificate(), "TLS certificate", initFix);
    const EvpPkeyPtr tlsKey = loadKey(directory.tlsKey(), tlsKeyWhat);
    requireKeyMatches(tls.get(), tlsKey.get(), directory.tlsCertificate(), directory.tlsKey());
    if (X509_verify(tls.get(), X509_get0_pubkey(ca.get())) != 1) {
        openSslError(); // clear the queue
        throw DataDirectoryError("TLS certificate " + quoted(directory.tlsCertificate()) +
                                 " is not signed by the CA in " +
                                 quoted(directory.caCertificate()) + "; " + initFix);
    }

    const EvpPkeyPtr tokenKey = loadKey(directory.tokenSigningKey(), tokenKeyWhat);
    try {
        attestation::fromEvpPkey(tokenKey.get());
    } catch (const attestation::KeyError &e) {
        throw DataDirectoryError(std::string(tokenKeyWhat) + " file " +
                                 quoted(directory.tokenSigningKey()) +
                                 " does not hold an EC P-256 key (" + e.what() + "); " + initFix);
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

TlsCertificateInfo DataDirectory::tlsCertificateInfo() const
{
    const X509Ptr tls = loadCertificate(tlsCertificate(), "TLS certificate", initFix);
    return {subjectAltNameTexts(tls.get()), notAfterOf(tls.get()), fingerprintOf(tls.get())};
}

TlsCertificateInfo DataDirectory::renewTlsCertificate(const std::vector<std::string> &serverNames,
                                                      TimePoint now) const
{
    const X509Ptr ca = loadCertificate(caCertificate(), "CA certificate", initFix);
    const EvpPkeyPtr issuerKey = loadKey(caKey(), caKeyWhat);
    const X509Ptr current = loadCertificate(tlsCertificate(), "TLS certificate", initFix);
    const EvpPkeyPtr key = loadKey(tlsKey(), tlsKeyWhat);
    requireKeyMatches(current.get(), key.get(), tlsCertificate(), tlsKey());
    const std::vector<std::string> names =
        serverNames.empty() ? subjectAltNameTexts(current.get()) : serverNames;
    const X509Ptr renewed = makeTlsCertificate(ca.get(), issuerKey.get(), key.get(), names,
                                               parseServerNames(names), now);
    try {
        attestation::writePrivateFile(tlsCertificate(), certificatePem(renewed.get()),
                                      attestation::Replace::Allowed, "TLS certificate");
    } catch (const attestation::KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    // Written 0600 like every file privatefile writes; certificates are public.
    if (::chmod(tlsCertificate().c_str(), 0644) != 0)
        throw DataDirectoryError("cannot set mode 0644 on " + quoted(tlsCertificate()) + ": " +
                                 std::strerror(errno));
    return {subjectAltNameTexts(renewed.get()), notAfterOf(renewed.get()),
            fingerprintOf(renewed.get())};
}

std::string certificateFingerprint(const fs::path &pem)
{
    const X509Ptr certificate =
        loadCertificate(pem, "certificate", "give the path of a PEM certificate file");
    return fingerprintOf(certificate.get());
}

} // namespace vigil::server
