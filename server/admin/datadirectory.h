#pragma once

// The verifier's data directory: its own CA, the TLS server certificate that CA signs, the
// access-token signing key and the trusted TPM manufacturer CAs. `vigil-verifier init` creates
// it once; every later start opens it and refuses a directory whose keys others could read or
// replace.
//
//   DIR/                     0700, owned by the verifier's user
//     ca.pem                 0644  self-signed EC P-256 CA (what agents pin)
//     ca-key.pem             0600
//     tls.pem                0644  EC P-256 server certificate for the given names
//     tls-key.pem            0600
//     token-signing-key.pem  0600  ES256 key for access tokens (a SoftwareDeviceKey file)
//     secret-box.key         0600  32 bytes: seals TOTP secrets at rest (SecretBox); made by
//                                  open() in a directory initialised before it existed
//     ek-cas/                0755  trusted TPM manufacturer CA certificates
//       README.txt           0644
//     verifier.db, policy.json   written by the caller after initialise()
//
// Every failure throws DataDirectoryError with a message that names the path and the fix, and
// never contains key material.

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::server {

class SecretBox;
class TlsCredentials;

using TimePoint = std::chrono::system_clock::time_point;

class DataDirectoryError : public std::runtime_error
{
public:
    explicit DataDirectoryError(const std::string &message)
        : std::runtime_error(message), m_reason(message)
    {
    }
    DataDirectoryError(const std::string &reason, const std::string &fix)
        : std::runtime_error(reason + "; " + fix), m_reason(reason), m_fix(fix)
    {
    }
    // What is wrong, and apart from it the fix what() adds (empty when the reason says it, or
    // there is none). A running verifier needs other advice than restoreFix.
    const std::string &reason() const { return m_reason; }
    const std::string &fix() const { return m_fix; }

    // The fix for a verifier that cannot start because its CA or a key other than the TLS key is
    // gone or damaged.
    static constexpr const char *restoreFix =
        "restore the data directory from a backup, or create a new one with "
        "`vigil-verifier init --data DIR`";

private:
    std::string m_reason;
    std::string m_fix;
};

struct InitResult
{
    // "sha256:" + lower-case hex SHA-256 of ca.pem's DER: what agents pin.
    std::string caFingerprint;
};

// What the TLS certificate says, for people deciding whether to renew it.
struct TlsCertificateInfo
{
    std::vector<std::string> names; // its subjectAltNames as text: DNS names, IP addresses
    TimePoint notAfter;
    std::string fingerprint; // "sha256:" + hex SHA-256 of its DER
};

class DataDirectory
{
public:
    static constexpr std::chrono::days caValidity{3652}; // ten years, leap days included
    // The CA/Browser Forum's limit is 398 days; one day less leaves room for clock skew.
    static constexpr std::chrono::days tlsValidity{397};
    // notBefore lies this far before `now`, so an agent whose clock lags a little accepts a
    // certificate made moments ago.
    static constexpr std::chrono::hours backdating{1};

    // Creates dir (0700; missing parents are created too) or takes over an existing empty
    // directory owned by this user, and writes the CA, TLS and token-signing keys and
    // certificates. serverNames are what agents connect to: each becomes a subjectAltName, an IP
    // address (v4, v6, or v6 in brackets) when it parses as one, else a DNS name (lower-cased;
    // a leading "*." wildcard label is allowed). Refuses an empty name list, an invalid name, and
    // an existing directory that is not empty (it may hold a CA agents already pin). On failure
    // the files written so far, and dir if it was created here, are removed again.
    static InitResult initialise(const std::filesystem::path &dir,
                                 const std::vector<std::string> &serverNames, TimePoint now);

    // Checks dir before the verifier uses it: a directory owned by the effective user and not
    // writable by group or others; the key files regular files (not symbolic links) owned by the
    // effective user with no group or other permission bits; the certificates readable; each
    // key matching its certificate, the TLS certificate signed by the CA, the token key EC P-256;
    // ek-cas/ a directory; the secret box key (created when missing) a private file of 32 bytes.
    // Does not look at the database or the policy. A TLS certificate it
    // refuses (missing, unreadable, not for the key, not from the CA) is mended by
    // renewTlsCertificate, and the message says so; a new directory would mean a new CA.
    static DataDirectory open(const std::filesystem::path &dir);
    // open() without the TLS pair, so that renewTlsCertificate can mend what open() refuses.
    static DataDirectory openForTlsRenewal(const std::filesystem::path &dir);

    // The TLS certificate as it is in the directory now.
    TlsCertificateInfo tlsCertificateInfo() const;
    // When the CA runs out; no TLS certificate it signs lasts longer.
    TimePoint caNotAfter() const;
    // The TLS certificate (with any intermediates after it) and key as they are in the
    // directory now, checked as open() checks them: the key file's owner and mode, the pair,
    // what OpenSSL accepts to present, the CA's signature. What `serve` presents.
    std::shared_ptr<const TlsCredentials> tlsCredentials() const;

    // Issues a new TLS certificate from the CA for the TLS key already here, valid tlsValidity
    // from now or until the CA's end if that comes first, for serverNames (checked as initialise()
    // checks them) or, when that is empty, for the names the current certificate holds; then
    // replaces tls.pem atomically (a crash leaves the old certificate or the new one). The CA
    // stays, so agents that pin it accept the new certificate; a running `serve` presents it from
    // its next handshake (TlsCertificateReloader). Nothing is written when a name is refused or
    // the CA has expired. With serverNames given, tls.pem need not be readable, and a certificate
    // for another key or from another CA is replaced all the same: renewal is how such a
    // directory is mended (open it with openForTlsRenewal).
    //
    // A key that OpenSSL would not present (too small for its security level) is refused
    // before anything is written; TlsKey::New mends that too.
    //
    // TlsKey::New first replaces tls-key.pem with a new EC P-256 key, for a key that others may
    // have seen or one that is lost. Should tls.pem not follow (a crash), open() refuses the pair
    // and points at a renewal, which issues the certificate for the new key.
    enum class TlsKey
    {
        Keep,
        New
    };
    TlsCertificateInfo renewTlsCertificate(const std::vector<std::string> &serverNames,
                                           TimePoint now, TlsKey key = TlsKey::Keep) const;

    // The box for the key in secretBoxKey(), created when missing. Throws DataDirectoryError
    // naming the file and the fix when it is not a private regular file of 32 bytes.
    SecretBox secretBox() const;

    const std::filesystem::path &directory() const { return m_dir; }
    std::filesystem::path caCertificate() const { return m_dir / caCertificateName; }
    std::filesystem::path caKey() const { return m_dir / caKeyName; }
    std::filesystem::path tlsCertificate() const { return m_dir / tlsCertificateName; }
    std::filesystem::path tlsKey() const { return m_dir / tlsKeyName; }
    std::filesystem::path tokenSigningKey() const { return m_dir / tokenSigningKeyName; }
    std::filesystem::path ekCaDirectory() const { return m_dir / ekCaDirectoryName; }
    std::filesystem::path database() const { return m_dir / databaseName; }
    std::filesystem::path policy() const { return m_dir / policyName; }
    std::filesystem::path secretBoxKey() const { return m_dir / secretBoxKeyName; }

    static constexpr const char *caCertificateName = "ca.pem";
    static constexpr const char *caKeyName = "ca-key.pem";
    static constexpr const char *tlsCertificateName = "tls.pem";
    static constexpr const char *tlsKeyName = "tls-key.pem";
    static constexpr const char *tokenSigningKeyName = "token-signing-key.pem";
    static constexpr const char *ekCaDirectoryName = "ek-cas";
    static constexpr const char *databaseName = "verifier.db";
    static constexpr const char *policyName = "policy.json";
    static constexpr const char *secretBoxKeyName = "secret-box.key";

private:
    explicit DataDirectory(std::filesystem::path dir) : m_dir(std::move(dir)) {}

    std::filesystem::path m_dir;
};

// "sha256:" + lower-case hex SHA-256 over the DER of the first certificate in a PEM file.
// Throws DataDirectoryError naming the file when it cannot be read or holds no certificate.
std::string certificateFingerprint(const std::filesystem::path &pem);

} // namespace vigil::server
