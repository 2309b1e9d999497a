#pragma once

// User proofs (docs/mfa.md): a compact ES256 JWS signed by a user's key, carried in a request
// body next to the device's DPoP proof. It says that the user's key (unlocked by the PIN on a
// TPM device) asked for this request on this device: header typ "vigil-user-proof+jwt" and kid
// (the key's RFC 7638 thumbprint); claims user_id, htm, htu, iat, jti and jkt (the device key's
// thumbprint, so that a proof made on one device is worthless on another). Validated like a
// DPoP proof: the same iat window and a jti replay cache.

#include "core/bytes.h"
#include "protocol/jose/devicekey.h"
#include "protocol/jose/jose.h"
#include "protocol/jose/replaycache.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace vigil::protocol {

inline constexpr std::string_view userProofType = "vigil-user-proof+jwt";
inline constexpr std::size_t maxUserProofLength = 8 * 1024;
inline constexpr std::size_t minUserProofJtiBytes = 16; // 128 bits, decoded
inline constexpr std::size_t maxUserProofJtiLength = 256;

// Signs a 32-byte SHA-256 digest with the user key and returns the 64-byte r||s: on a TPM
// device the TPM does it after the PIN authorised the key, so no private key is ever handed
// over. Throws KeyError (or whatever the caller's signer throws, e.g. a wrong PIN).
using DigestSigner = std::function<Bytes(std::span<const std::uint8_t> digest)>;

struct UserProofRequest
{
    std::string userId; // the user's lower-case UUID
    std::string htm;    // "POST"
    std::string htu;    // the request URL; normalised (normaliseHtu) into the proof
    std::chrono::system_clock::time_point iat;
    std::string jti; // empty -> 16 random bytes, base64url
    std::string jkt; // RFC 7638 thumbprint of the device key
};

// Header {"alg":"ES256","kid":<thumbprint of userKey>,"typ":"vigil-user-proof+jwt"}; claims
// user_id, htm, htu, iat (integer seconds), jti, jkt. Throws JoseError for an empty user id,
// htm or jkt, a jti outside 1..256 bytes or an htu normaliseHtu refuses, and passes on what
// sign throws.
std::string createUserProof(const EcPublicKey &userKey, const DigestSigner &sign,
                            const UserProofRequest &request);

// The kid of a user proof's header, without any check of its signature: for a caller that
// must find the key first. Throws UserProofError for what is not a user proof's form.
std::string userProofKeyId(std::string_view proof);

struct ValidatedUserProof
{
    std::string kid; // the user key's thumbprint
    std::string jti;
    double iat = 0; // seconds since the epoch
};

class UserProofError : public JoseError
{
public:
    using JoseError::JoseError;
};

struct UserProofExpectations
{
    std::string userId; // from the request path
    std::string htm;
    std::string htu;
    std::string jkt; // the thumbprint of the key that signed the request's DPoP proof
};

class UserProofValidator
{
public:
    explicit UserProofValidator(std::chrono::seconds iatWindow = std::chrono::seconds(60),
                                std::size_t maxJtis = 100000);

    // Checks proof: a compact ES256 JWS of at most maxUserProofLength bytes with typ
    // "vigil-user-proof+jwt", kid equal to userKey's thumbprint and a signature by userKey;
    // claims user_id, htm, htu (after normaliseHtu on both) and jkt equal to what expect says,
    // jti of 1..256 bytes decoding (base64url) to at least 128 bits, iat within now ±
    // iatWindow, and (kid, jti) not seen before. Does not record it: recordUse does, once the
    // caller has accepted the request, so that a refused request uses no cache slot.
    // Throws UserProofError.
    ValidatedUserProof check(std::string_view proof, const EcPublicKey &userKey,
                             const UserProofExpectations &expect,
                             std::chrono::system_clock::time_point now) const;
    // Throws UserProofError for a replay or a cache full of live entries.
    void recordUse(const ValidatedUserProof &proof, std::chrono::system_clock::time_point now);
    // check then recordUse.
    ValidatedUserProof validate(std::string_view proof, const EcPublicKey &userKey,
                                const UserProofExpectations &expect,
                                std::chrono::system_clock::time_point now);

private:
    std::chrono::seconds m_iatWindow;
    ReplayCache m_seen; // (kid, jti)
};

} // namespace vigil::protocol
