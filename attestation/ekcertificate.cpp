#include "attestation/ekcertificate.h"

#include "attestation/evidenceerror.h"
#include "attestation/tpmpublic.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <ctime>
#include <fstream>
#include <iterator>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace vigil::attestation {

namespace {

void freeX509Stack(STACK_OF(X509) * stack)
{
    sk_X509_pop_free(stack, X509_free);
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<freeX509Stack>>;
using ExtendedKeyUsagePtr =
    std::unique_ptr<EXTENDED_KEY_USAGE, OpenSslDeleter<EXTENDED_KEY_USAGE_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpenSslDeleter<ASN1_OBJECT_free>>;

constexpr const char *ekCertificateKeyUsage = "2.23.133.8.1";  // tcg-kp-EKCertificate
constexpr const char *subjectDirectoryAttributes = "2.5.29.9"; // id-ce-subjectDirectoryAttributes

[[noreturn]] void fail(EkCertificateError error, const std::string &message)
{
    throw EkCertificateException(error, message);
}

bool looksLikePem(std::span<const std::uint8_t> bytes)
{
    static constexpr std::string_view marker = "-----BEGIN";
    return std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end()) != bytes.end();
}

// Every certificate in a PEM text (bundles allowed); empty if there is none.
std::vector<X509Ptr> pemCertificates(std::span<const std::uint8_t> bytes)
{
    std::vector<X509Ptr> certificates;
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio)
        throw std::runtime_error("BIO_new_mem_buf: " + openSslError());
    // PEM_read_bio_X509 skips blocks of other types (a private key next to the certificate).
    while (X509 *certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        certificates.emplace_back(certificate);
    ERR_clear_error(); // the end of the input is reported as an error
    return certificates;
}

// One DER certificate at the start of bytes; sets consumed to its length.
X509Ptr derCertificate(std::span<const std::uint8_t> bytes, std::size_t &consumed)
{
    if (bytes.empty() || bytes.size() > static_cast<std::size_t>(LONG_MAX))
        return nullptr;
    const unsigned char *p = bytes.data();
    X509Ptr certificate(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    consumed = static_cast<std::size_t>(p - bytes.data());
    return certificate;
}

// Every certificate of a file or message: PEM (possibly several) or exactly one DER.
std::vector<X509Ptr> certificatesIn(std::span<const std::uint8_t> bytes)
{
    if (looksLikePem(bytes))
        return pemCertificates(bytes);
    std::vector<X509Ptr> certificates;
    std::size_t consumed = 0;
    X509Ptr certificate = derCertificate(bytes, consumed);
    ERR_clear_error();
    if (certificate && consumed == bytes.size())
        certificates.push_back(std::move(certificate));
    return certificates;
}

std::string nameText(const X509_NAME *name)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
        return {};
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(std::max(length, 0L)));
}

struct CertificateTime
{
    std::chrono::system_clock::time_point point;
    std::string text;
};

CertificateTime certificateTime(const ASN1_TIME *time)
{
    std::tm tm{};
    if (!time || ASN1_TIME_to_tm(time, &tm) != 1)
        fail(EkCertificateError::Malformed, "EK certificate has an invalid validity time");
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::int64_t seconds = timegm(&tm);
    using Clock = std::chrono::system_clock;
    const auto limit = std::chrono::duration_cast<std::chrono::seconds>(
                           Clock::time_point::max().time_since_epoch())
                           .count();
    if (seconds >= limit)
        return {Clock::time_point::max(), text};
    if (seconds <= -limit)
        return {Clock::time_point::min(), text};
    return {Clock::time_point(std::chrono::seconds(seconds)), text};
}

std::string keyDescription(EVP_PKEY *key)
{
    if (!key)
        return "unknown key";
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
        char group[64] = {};
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           nullptr) != 1)
            return "EC";
        const char *nist = EC_curve_nid2nist(OBJ_txt2nid(group));
        return std::string("EC ") + (nist ? nist : group);
    }
    default:
        return OBJ_nid2sn(EVP_PKEY_get_base_id(key));
    }
}

bool hasOid(const ASN1_OBJECT *object, const char *oid)
{
    const Asn1ObjectPtr wanted(OBJ_txt2obj(oid, 1));
    return wanted && OBJ_cmp(object, wanted.get()) == 0;
}

// TCG EK Credential Profile section 3.2: EK certificates carry extensions OpenSSL does not
// process, chiefly Subject Directory Attributes (the TPM specification and security
// assertions), which some manufacturers mark critical. OpenSSL rejects every unprocessed
// critical extension; X509_V_FLAG_IGNORE_CRITICAL would also wave through ones that could
// restrict the certificate in ways we do not know. So only this profile-defined extension, and
// only in the EK certificate itself, is accepted unprocessed: it states properties of the TPM
// and restricts nothing.
bool onlyAllowedCriticalExtensionsUnhandled(X509 *certificate)
{
    for (int i = 0; i < X509_get_ext_count(certificate); ++i) {
        X509_EXTENSION *extension = X509_get_ext(certificate, i);
        if (!X509_EXTENSION_get_critical(extension) || X509_supported_extension(extension))
            continue;
        if (!hasOid(X509_EXTENSION_get_object(extension), subjectDirectoryAttributes))
            return false;
    }
    return true;
}

int verifyCallback(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION &&
        X509_STORE_CTX_get_error_depth(ctx) == 0 &&
        onlyAllowedCriticalExtensionsUnhandled(X509_STORE_CTX_get_current_cert(ctx)))
        return 1;
    return ok;
}

EkCertificateError chainError(int error)
{
    switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return EkCertificateError::Expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return EkCertificateError::NotYetValid;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        return EkCertificateError::BadSignature;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return EkCertificateError::UntrustedIssuer;
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        return EkCertificateError::Malformed;
    default:
        return EkCertificateError::Rejected;
    }
}

void checkExtendedKeyUsage(X509 *certificate)
{
    int critical = 0;
    const ExtendedKeyUsagePtr usage(static_cast<EXTENDED_KEY_USAGE *>(
        X509_get_ext_d2i(certificate, NID_ext_key_usage, &critical, nullptr)));
    if (!usage) {
        if (critical == -1) // absent
            return;
        fail(EkCertificateError::Malformed, "EK certificate: unreadable extended key usage");
    }
    std::string found;
    for (int i = 0; i < sk_ASN1_OBJECT_num(usage.get()); ++i) {
        const ASN1_OBJECT *purpose = sk_ASN1_OBJECT_value(usage.get(), i);
        if (hasOid(purpose, ekCertificateKeyUsage))
            return;
        char oid[80];
        OBJ_obj2txt(oid, sizeof oid, purpose, 1);
        found += found.empty() ? oid : std::string(", ") + oid;
    }
    fail(EkCertificateError::NotEkCertificate,
         "EK certificate's extended key usage (" + found +
             ") does not include tcg-kp-EKCertificate (2.23.133.8.1)");
}

EvpPkeyPtr ekPublicKey(std::span<const std::uint8_t> ekPublic)
{
    try {
        return TpmPublic::parse(ekPublic).publicKey();
    } catch (const EvidenceException &e) {
        fail(EkCertificateError::Malformed, std::string("EK public: ") + e.what());
    }
}

} // namespace

std::string_view ekCertificateErrorName(EkCertificateError error)
{
    switch (error) {
    case EkCertificateError::Malformed:
        return "malformed";
    case EkCertificateError::NoTrustedCas:
        return "no_trusted_cas";
    case EkCertificateError::UntrustedIssuer:
        return "untrusted_issuer";
    case EkCertificateError::Expired:
        return "expired";
    case EkCertificateError::NotYetValid:
        return "not_yet_valid";
    case EkCertificateError::BadSignature:
        return "bad_signature";
    case EkCertificateError::NotEkCertificate:
        return "not_ek_certificate";
    case EkCertificateError::KeyMismatch:
        return "key_mismatch";
    case EkCertificateError::Rejected:
        return "rejected";
    }
    return "unknown";
}

EkCertificate EkCertificate::parse(std::span<const std::uint8_t> bytes)
{
    EkCertificate result;
    if (looksLikePem(bytes)) {
        std::vector<X509Ptr> certificates = pemCertificates(bytes);
        if (certificates.size() != 1)
            fail(EkCertificateError::Malformed, "EK certificate: PEM holds " +
                                                    std::to_string(certificates.size()) +
                                                    " certificates, not one");
        result.m_certificate = std::move(certificates.front());
    } else {
        std::size_t consumed = 0;
        result.m_certificate = derCertificate(bytes, consumed);
        if (!result.m_certificate)
            fail(EkCertificateError::Malformed, "EK certificate: not a DER certificate (" +
                                                    std::to_string(bytes.size()) +
                                                    " bytes): " + openSslError());
        const auto rest = bytes.subspan(consumed);
        const bool padding =
            std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0x00; }) ||
            std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0xff; });
        if (!padding)
            fail(EkCertificateError::Malformed,
                 "EK certificate: " + std::to_string(rest.size()) + " bytes after the DER");
    }
    // d2i_X509 decodes the key lazily; a certificate whose key cannot be used is malformed.
    if (!X509_get0_pubkey(result.m_certificate.get()))
        fail(EkCertificateError::Malformed,
             "EK certificate: unreadable public key: " + openSslError());
    result.info(); // validity times must parse
    return result;
}

EkCertificateInfo EkCertificate::info() const
{
    X509 *certificate = m_certificate.get();
    EkCertificateInfo info;
    info.subject = nameText(X509_get_subject_name(certificate));
    info.issuer = nameText(X509_get_issuer_name(certificate));
    const BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
    if (serial) {
        char *hex = BN_bn2hex(serial.get());
        if (hex)
            info.serialNumber = hex;
        OPENSSL_free(hex);
    }
    const CertificateTime notBefore = certificateTime(X509_get0_notBefore(certificate));
    const CertificateTime notAfter = certificateTime(X509_get0_notAfter(certificate));
    info.notBefore = notBefore.point;
    info.notBeforeText = notBefore.text;
    info.notAfter = notAfter.point;
    info.notAfterText = notAfter.text;
    info.keyType = keyDescription(X509_get0_pubkey(certificate));
    return info;
}

Bytes EkCertificate::der() const
{
    const int length = i2d_X509(m_certificate.get(), nullptr);
    if (length <= 0)
        throw std::runtime_error("i2d_X509: " + openSslError());
    Bytes out(static_cast<std::size_t>(length));
    unsigned char *p = out.data();
    i2d_X509(m_certificate.get(), &p);
    return out;
}

EkTrustStore EkTrustStore::fromDirectory(const std::filesystem::path &directory)
{
    std::error_code error;
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        std::string extension = it->path().extension().string();
        std::transform(extension.begin(), extension.end(), extension.begin(),
                       [](unsigned char c) { return char(std::tolower(c)); });
        if ((extension == ".pem" || extension == ".crt" || extension == ".cer" ||
             extension == ".der") &&
            it->is_regular_file())
            files.push_back(it->path());
    }
    if (error)
        fail(EkCertificateError::NoTrustedCas,
             "cannot read the trusted CA directory " + directory.string() + ": " + error.message());
    std::sort(files.begin(), files.end());

    EkTrustStore store;
    for (const std::filesystem::path &file : files) {
        std::ifstream in(file, std::ios::binary);
        const Bytes bytes{std::istreambuf_iterator<char>(in), {}};
        if (!in && !in.eof()) {
            store.m_notes.push_back(file.filename().string() + ": unreadable, skipped");
            continue;
        }
        std::vector<X509Ptr> certificates = certificatesIn(bytes);
        if (certificates.empty())
            store.m_notes.push_back(file.filename().string() + ": no certificate, skipped");
        for (X509Ptr &certificate : certificates)
            store.m_certificates.push_back(std::move(certificate));
    }
    if (store.m_certificates.empty())
        fail(EkCertificateError::NoTrustedCas,
             "no certificate in the trusted CA directory " + directory.string());
    return store;
}

EkCertificateInfo verifyEkCertificate(const EkCertificate &certificate, const EkTrustStore &trust,
                                      std::span<const Bytes> intermediates,
                                      std::chrono::system_clock::time_point at)
{
    if (trust.certificateCount() == 0)
        fail(EkCertificateError::NoTrustedCas, "no trusted TPM manufacturer CA");
    const EkCertificateInfo info = certificate.info();

    const X509StorePtr store(X509_STORE_new());
    if (!store)
        throw std::runtime_error("X509_STORE_new: " + openSslError());
    for (const X509Ptr &ca : trust.certificates())
        if (X509_STORE_add_cert(store.get(), ca.get()) != 1)
            ERR_clear_error(); // the same CA in two files

    const X509StackPtr untrusted(sk_X509_new_null());
    if (!untrusted)
        throw std::runtime_error("sk_X509_new_null: " + openSslError());
    for (std::size_t i = 0; i < intermediates.size(); ++i) {
        std::vector<X509Ptr> certificates = certificatesIn(intermediates[i]);
        if (certificates.empty())
            fail(EkCertificateError::Malformed,
                 "intermediate certificate " + std::to_string(i + 1) + " is not a certificate");
        for (X509Ptr &intermediate : certificates) {
            if (sk_X509_push(untrusted.get(), intermediate.get()) <= 0)
                throw std::runtime_error("sk_X509_push: " + openSslError());
            intermediate.release(); // owned by the stack now
        }
    }

    const X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx ||
        X509_STORE_CTX_init(ctx.get(), store.get(), certificate.x509(), untrusted.get()) != 1)
        throw std::runtime_error("X509_STORE_CTX_init: " + openSslError());
    // Default flags otherwise: no X509_V_FLAG_PARTIAL_CHAIN, so trusting an intermediate alone
    // is not enough, and no X509_V_FLAG_X509_STRICT, which rejects encoding slips (negative
    // serials, missing key identifiers) found in real manufacturers' EK certificates without
    // any bearing on who signed them.
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                               std::chrono::system_clock::to_time_t(at));
    X509_STORE_CTX_set_verify_cb(ctx.get(), verifyCallback);

    if (X509_verify_cert(ctx.get()) != 1) {
        const int error = X509_STORE_CTX_get_error(ctx.get());
        const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
        X509 *failing = X509_STORE_CTX_get_current_cert(ctx.get());
        std::string message = std::string("EK certificate chain: ") +
                              X509_verify_cert_error_string(error) + " (depth " +
                              std::to_string(depth);
        if (failing)
            message += ", subject \"" + nameText(X509_get_subject_name(failing)) + "\", issuer \"" +
                       nameText(X509_get_issuer_name(failing)) + "\"";
        message += ")";
        ERR_clear_error();
        fail(chainError(error), message);
    }
    checkExtendedKeyUsage(certificate.x509());
    return info;
}

bool ekCertificateMatchesPublic(const EkCertificate &certificate,
                                std::span<const std::uint8_t> ekPublic)
{
    const EvpPkeyPtr tpmKey = ekPublicKey(ekPublic);
    EVP_PKEY *certificateKey = X509_get0_pubkey(certificate.x509());
    const bool same = certificateKey && EVP_PKEY_eq(certificateKey, tpmKey.get()) == 1;
    ERR_clear_error(); // EVP_PKEY_eq of different key types leaves an error behind
    return same;
}

void requireEkCertificateMatchesPublic(const EkCertificate &certificate,
                                       std::span<const std::uint8_t> ekPublic)
{
    if (ekCertificateMatchesPublic(certificate, ekPublic))
        return;
    fail(EkCertificateError::KeyMismatch,
         "EK certificate's key (" + keyDescription(X509_get0_pubkey(certificate.x509())) +
             ") is not the EK's key (" + keyDescription(ekPublicKey(ekPublic).get()) + ")");
}

} // namespace vigil::attestation
