#include "server/tls/verifiercertificates.h"

#include "core/certificatefingerprint.h"
#include "protocol/rfc3339.h"
#include "server/randomid.h"

#include <algorithm>
#include <arpa/inet.h>
#include <ctime>
#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace vigil::server::certificates {

namespace {

using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using X509ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using GeneralNamePtr =
    std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, OpenSslDeleter<ASN1_STRING_free>>;
using Asn1IntegerPtr =
    std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>>;

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
    BignumPtr number(BN_bin2bn(bytes.data(), int(bytes.size()), nullptr));
    Asn1IntegerPtr serial(number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr);
    if (!serial || X509_set_serialNumber(certificate, serial.get()) != 1)
        certificateFailure("serial number");
}

std::time_t toTimeT(TimePoint time)
{
    return std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::seconds>(time));
}

void setValidity(X509 *certificate, TimePoint now, TimePoint notAfter)
{
    const std::time_t notBefore = toTimeT(now - DataDirectory::backdating);
    if (!ASN1_TIME_set(X509_getm_notBefore(certificate), notBefore) ||
        !ASN1_TIME_set(X509_getm_notAfter(certificate), toTimeT(notAfter)))
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
                       TimePoint now, TimePoint notAfter)
{
    X509Ptr certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
        X509_set_subject_name(certificate.get(), subject) != 1 ||
        X509_set_issuer_name(certificate.get(), issuer) != 1 ||
        X509_set_pubkey(certificate.get(), key) != 1)
        certificateFailure("fields");
    setRandomSerial(certificate.get());
    setValidity(certificate.get(), now, notAfter);
    return certificate;
}

void sign(X509 *certificate, EVP_PKEY *issuerKey)
{
    if (X509_sign(certificate, issuerKey, EVP_sha256()) <= 0)
        certificateFailure("signature");
}

} // namespace

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
            entry = {ServerName::Kind::Dns, toBytes(lower)};
        }
        bool duplicate = false;
        for (const ServerName &seen : parsed)
            duplicate = duplicate || (seen.kind == entry.kind && seen.value == entry.value);
        if (!duplicate)
            parsed.push_back(std::move(entry));
    }
    return parsed;
}

EvpPkeyPtr generateKey()
{
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        throw DataDirectoryError("cannot generate an EC P-256 key: " + openSslError());
    return key;
}

X509Ptr makeCaCertificate(EVP_PKEY *caKey, TimePoint now)
{
    const X509NamePtr subject =
        commonName("Vigil verifier CA " + toHex(randomBytes(4)));
    X509Ptr certificate =
        newCertificate(subject.get(), subject.get(), caKey, now, now + DataDirectory::caValidity);
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
    // A certificate that outlived its issuer would promise what no client grants.
    const TimePoint caEnd = notAfterOf(ca);
    if (caEnd <= now)
        throw DataDirectoryError("the CA certificate expired at " + protocol::formatRfc3339(caEnd) +
                                 "; nothing it signs is accepted any more. Agents must pin a new "
                                 "CA: set up a new data directory (vigil-verifier init) and "
                                 "enroll them again with its fingerprint");
    X509Ptr certificate = newCertificate(subject.get(), X509_get_subject_name(ca), tlsKey, now,
                                         std::min(now + DataDirectory::tlsValidity, caEnd));
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

TlsCertificateInfo certificateInfo(X509 *certificate)
{
    return {subjectAltNameTexts(certificate), notAfterOf(certificate), fingerprintOf(certificate)};
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
        return vigil::certificateFingerprint(certificate);
    } catch (const std::runtime_error &e) {
        throw DataDirectoryError(e.what());
    }
}

Bytes certificatePem(X509 *certificate)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1)
        throw DataDirectoryError("cannot encode a certificate as PEM: " + openSslError());
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(bio.get(), &text);
    return Bytes(text->data, text->data + text->length);
}

} // namespace vigil::server::certificates
