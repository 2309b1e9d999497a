#pragma once

// DPoP proofs (RFC 9449): creating them with a device key, and validating them on the verifier
// with the checks of RFC 9449 section 4.3 and a jti replay cache (section 11.1).

#include "protocol/jose/devicekey.h"
#include "protocol/jose/jose.h"
#include "protocol/jose/replaycache.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::protocol {

inline constexpr std::string_view dpopProofType = "dpop+jwt";
// A proof travels in one HTTP header; a real one is well under 1 KiB.
inline constexpr std::size_t maxDpopProofLength = 8 * 1024;
inline constexpr std::size_t maxDpopJtiLength = 256;

struct DpopProofRequest
{
    std::string htm; // HTTP method, e.g. "POST"
    std::string htu; // target URI; normalised (normaliseHtu) into the proof
    std::chrono::system_clock::time_point iat;
    std::string jti;                        // empty -> 16 random bytes, base64url
    std::optional<std::string> accessToken; // -> "ath" = base64url(SHA-256(ASCII token))
    std::optional<std::string> nonce;       // the server's DPoP-Nonce
};

// Header {"alg":"ES256","jwk":{public JWK},"typ":"dpop+jwt"}; claims jti, htm, htu, iat
// (integer seconds) [, ath][, nonce]. Throws JoseError for an empty htm or an htu that
// normaliseHtu refuses, KeyError when signing fails.
std::string createDpopProof(DeviceKey &key, const DpopProofRequest &request);

// The form in which htu values are compared (RFC 9449 section 4.3 with the RFC 3986 section
// 6.2.2 and 6.2.3 normalisations): scheme and host lower-cased, the default port (80 for http,
// 443 for https) and an empty port dropped, query and fragment dropped, percent-encodings
// upper-cased and unreserved ones decoded, dot segments removed, an empty path made "/".
// Accepts only absolute http and https URIs with a host, no userinfo, a decimal port up to
// 65535 and only RFC 3986 characters in the path; throws JoseError otherwise.
std::string normaliseHtu(std::string_view uri);

struct DpopValidatorOptions
{
    std::chrono::seconds iatWindow{60}; // iat accepted within now ± iatWindow
    std::size_t maxJtis = 100000;       // replay cache capacity
};

struct ValidatedDpop
{
    EcPublicKey key; // from the proof's "jwk"
    std::string jkt; // its RFC 7638 thumbprint
    std::string jti;
    double iat = 0; // seconds since the epoch
};

class DpopError : public JoseError
{
public:
    enum class Code
    {
        InvalidProof,
        UseNonce
    };

    DpopError(Code code, const std::string &message) : JoseError(message), m_code(code) {}

    // The OAuth error code for the WWW-Authenticate / problem response:
    // "invalid_dpop_proof" or "use_dpop_nonce".
    std::string_view code() const
    {
        return m_code == Code::UseNonce ? "use_dpop_nonce" : "invalid_dpop_proof";
    }
    Code kind() const { return m_code; }

private:
    Code m_code;
};

// Validates DPoP proofs and remembers each accepted (jkt, jti) until iat + iatWindow, after
// which the iat check alone refuses the proof. Thread-safe: one instance serves all requests.
class DpopValidator
{
public:
    explicit DpopValidator(DpopValidatorOptions options = {});

    // Checks proof as RFC 9449 section 4.3 says: a compact ES256 JWS (parseJws, at most
    // maxDpopProofLength bytes) with typ "dpop+jwt" and a public EC P-256 "jwk" that verifies
    // its signature; claims jti (1..256 bytes), htm equal to htm (case-sensitive), htu equal to
    // htu after normaliseHtu on both, iat within now ± iatWindow, ath matching accessToken when
    // one is given (ath is ignored otherwise), nonce equal to expectedNonce when one is given;
    // then records the proof (recordUse). Only a proof that passes everything is recorded, so a
    // refused proof uses no cache slot.
    // Throws DpopError: code "use_dpop_nonce" for a missing or wrong nonce, otherwise
    // "invalid_dpop_proof" (also for a replay, for a replay cache full of live entries, which
    // is refused rather than forgetting a jti inside its window, and for an htu argument that
    // normaliseHtu refuses: it comes from the client's request target).
    ValidatedDpop validate(std::string_view proof, std::string_view htm, std::string_view htu,
                           std::chrono::system_clock::time_point now,
                           const std::optional<std::string> &accessToken = {},
                           const std::optional<std::string> &expectedNonce = {});

    // validate without recordUse, for a caller that must first learn whether the key is one it
    // serves: proofs from keys nobody enrolled must not fill the cache and lock out everyone
    // else's. A proof already recorded is refused here too, so that a replay is turned away
    // before the caller spends anything on it; the proof is not accepted until recordUse
    // returns.
    ValidatedDpop check(std::string_view proof, std::string_view htm, std::string_view htu,
                        std::chrono::system_clock::time_point now,
                        const std::optional<std::string> &accessToken = {},
                        const std::optional<std::string> &expectedNonce = {}) const;
    // Remembers the checked proof's (jkt, jti) until its iat leaves the window. Throws DpopError
    // "invalid_dpop_proof" when it is already remembered (a replay) or the cache is full of
    // live entries.
    void recordUse(const ValidatedDpop &proof, std::chrono::system_clock::time_point now);

    // Live entries in the replay cache (after pruning those expired at now).
    std::size_t cachedJtis(std::chrono::system_clock::time_point now);

private:
    DpopValidatorOptions m_options;
    ReplayCache m_seen; // (jkt, jti)
};

// base64url(SHA-256(ASCII(accessToken))), the "ath" claim (RFC 9449 section 4.2).
std::string accessTokenHash(std::string_view accessToken);

} // namespace vigil::protocol
