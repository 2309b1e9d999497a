#pragma once

// ES256 signatures in their two encodings: the DER ECDSA-Sig-Value that OpenSSL and TLS use and
// the fixed 64-byte r||s that JOSE (RFC 7518 section 3.4) uses.

#include "core/bytes.h"
#include "core/opensslptr.h"
#include "protocol/jose/devicekey.h"

#include <span>
#include <stdexcept>

namespace vigil::protocol {

// A signature that is malformed or has r or s outside [1, n-1] for P-256.
class SignatureError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Strict DER (minimal lengths and integers, no trailing bytes) -> 64-byte r||s, each coordinate
// left-padded to 32 bytes. Throws SignatureError.
Bytes ecdsaDerToRaw(std::span<const std::uint8_t> der);
// 64-byte r||s -> DER. Throws SignatureError for another length or r/s out of range.
Bytes ecdsaRawToDer(std::span<const std::uint8_t> raw);

// Whether rawSignature (r||s) is a valid ES256 signature by key over the 32-byte SHA-256
// digest. A signature that is malformed or out of range is simply false. Throws KeyError if key
// is not a P-256 point and SignatureError if digest is not 32 bytes (a caller bug).
bool verifyEs256(const EcPublicKey &key, std::span<const std::uint8_t> digest,
                 std::span<const std::uint8_t> rawSignature);
// The same with a key imported before (toEvpPkey): for a verifier that checks many signatures
// by one key, since importing a point costs about as much as the verification.
bool verifyEs256(EVP_PKEY *key, std::span<const std::uint8_t> digest,
                 std::span<const std::uint8_t> rawSignature);

} // namespace vigil::protocol
