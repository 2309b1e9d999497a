#pragma once

// EK certificates (TCG EK Credential Profile): parsing, chain validation against the TPM
// manufacturer CAs an organisation trusts, and the match between certificate and EK public.

#include "core/bytes.h"
#include "core/opensslptr.h"

#include <chrono>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::attestation {

enum class EkCertificateError
{
    Malformed,        // not a certificate (DER or PEM), truncated, trailing data; bad EK public
    NoTrustedCas,     // the CA directory cannot be read or holds no certificate
    UntrustedIssuer,  // no chain to a self-signed CA in the trusted directory
    Expired,          // a certificate of the chain is past its notAfter at the given time
    NotYetValid,      // a certificate of the chain is before its notBefore at the given time
    BadSignature,     // a signature in the chain does not verify
    NotEkCertificate, // has an extended key usage, and tcg-kp-EKCertificate is not in it
    KeyMismatch,      // the certificate's key is not the EK public's key
    Rejected,         // any other chain failure OpenSSL reports (CA flags, path length, ...)
};

// Stable snake_case name, e.g. "untrusted_issuer".
std::string_view ekCertificateErrorName(EkCertificateError error);

// what() names the cause and, for chain failures, OpenSSL's reason and the offending
// certificate.
class EkCertificateException : public std::runtime_error
{
public:
    EkCertificateException(EkCertificateError error, const std::string &message)
        : std::runtime_error(message), m_error(error)
    {
    }
    EkCertificateError error() const { return m_error; }

private:
    EkCertificateError m_error;
};

struct EkCertificateInfo
{
    std::string subject;      // RFC 2253; often empty in EK certificates (the SAN names the TPM)
    std::string issuer;       // RFC 2253
    std::string serialNumber; // upper-case hex, as `openssl x509 -serial` prints it
    // system_clock cannot reach every X.509 date (libstdc++: years 1677-2262); later dates, such
    // as RFC 5280's 99991231235959Z "no expiry", are clamped to time_point::max(), earlier ones
    // to min(). The text forms are exact: "2026-11-24T19:20:18Z".
    std::chrono::system_clock::time_point notBefore;
    std::chrono::system_clock::time_point notAfter;
    std::string notBeforeText;
    std::string notAfterText;
    std::string keyType; // "RSA 2048", "EC P-256", "EC P-384", …
};

class EkCertificate
{
public:
    // DER (as read from the TPM's NV index) or PEM. TPMs may pad the NV index after the DER, so
    // trailing bytes are accepted when they are all 0x00 or all 0xFF; anything else is
    // Malformed. Throws EkCertificateException(Malformed).
    static EkCertificate parse(std::span<const std::uint8_t> bytes);

    EkCertificateInfo info() const;
    // The certificate's DER encoding, without any padding.
    Bytes der() const;
    X509 *x509() const { return m_certificate.get(); }

private:
    X509Ptr m_certificate;
};

// The trusted TPM manufacturer CAs: every certificate in the *.pem, *.crt, *.cer and *.der files
// of one directory (not recursive; PEM files may hold several). Files with those extensions
// that hold no certificate (private keys, say) are skipped and named in notes(); other files
// are ignored. Intermediate CAs may sit here too; either way the chain must end at a
// self-signed CA found here.
class EkTrustStore
{
public:
    // Throws EkCertificateException(NoTrustedCas) when the directory cannot be read or no
    // certificate is found.
    static EkTrustStore fromDirectory(const std::filesystem::path &directory);

    std::size_t certificateCount() const { return m_certificates.size(); }
    const std::vector<std::string> &notes() const { return m_notes; }
    const std::vector<X509Ptr> &certificates() const { return m_certificates; }

private:
    std::vector<X509Ptr> m_certificates;
    std::vector<std::string> m_notes;
};

// Validates the chain from certificate to a CA of trust at the given time. intermediates are
// untrusted chain-building material sent alongside the EK certificate (each DER or PEM, a PEM
// may hold several). If the certificate has an extended key usage extension it must include
// tcg-kp-EKCertificate (2.23.133.8.1); older EK certificates carry none and are accepted.
// Revocation is not checked. Returns the certificate's info; throws EkCertificateException.
EkCertificateInfo verifyEkCertificate(const EkCertificate &certificate, const EkTrustStore &trust,
                                      std::span<const Bytes> intermediates,
                                      std::chrono::system_clock::time_point at);

// Whether the certificate certifies the key in ekPublic (a marshalled TPM2B_PUBLIC with its size
// prefix): the same RSA modulus and exponent, or the same EC curve and point. Throws
// EkCertificateException(Malformed) when ekPublic cannot be read as an RSA or ECC public key.
bool ekCertificateMatchesPublic(const EkCertificate &certificate,
                                std::span<const std::uint8_t> ekPublic);
// The same as a check: throws EkCertificateException(KeyMismatch) naming both keys' types.
void requireEkCertificateMatchesPublic(const EkCertificate &certificate,
                                       std::span<const std::uint8_t> ekPublic);

} // namespace vigil::attestation
