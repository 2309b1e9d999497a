#pragma once

// EC P-256 public keys as JWKs (RFC 7517/7518), their RFC 7638 thumbprints, and the bridge to
// OpenSSL. The verifier parses DPoP (RFC 9449) keys with parseEcPublicJwk, so that path treats
// its input as hostile.

#include "core/opensslptr.h"
#include "protocol/jose/devicekey.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::protocol {

// A JWK that is not a well-formed EC P-256 public key; the message names the member at fault.
class JwkError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// {"crv":"P-256","kty":"EC","x":…,"y":…}. Throws KeyError unless both coordinates are 32 bytes.
nlohmann::json ecPublicJwk(const EcPublicKey &key);
// RFC 7638: base64url(SHA-256 of the required members crv, kty, x, y in that order, no
// whitespace). Throws KeyError unless both coordinates are 32 bytes.
std::string jwkThumbprint(const EcPublicKey &key);

// Accepts only kty "EC", crv "P-256", x and y that decode (strict base64url) to exactly 32 bytes
// each and form a point on the curve, and no private member "d". Other members (use, kid, alg…)
// are ignored. Throws JwkError.
EcPublicKey parseEcPublicJwk(const nlohmann::json &jwk);
// The same from JSON text; text that is not JSON is a JwkError too.
EcPublicKey parseEcPublicJwk(std::string_view jsonText);

// An OpenSSL public key for the point. Throws KeyError if a coordinate is not 32 bytes or the
// point is not on P-256.
EvpPkeyPtr toEvpPkey(const EcPublicKey &key);
// The public point of an EC P-256 key (public or private). Throws KeyError for any other key.
EcPublicKey fromEvpPkey(const EVP_PKEY *pkey);

} // namespace vigil::protocol
