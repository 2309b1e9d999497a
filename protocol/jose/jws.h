#pragma once

// ES256 JWS in the compact serialisation (RFC 7515 section 7.1). Only ES256 exists here
// (RFC 7518 section 3.4: 64-byte r||s, never DER); every other "alg" is refused while parsing,
// before any crypto, and so is "crit", because Vigil understands no JWS extension.

#include "core/bytes.h"
#include "core/opensslptr.h"
#include "protocol/jose/devicekey.h"
#include "protocol/jose/jose.h"
#include "protocol/json/strictjson.h"

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vigil::protocol {

struct Jws
{
    nlohmann::json header;        // a JSON object; "alg" is "ES256"
    std::string payload;          // the decoded payload bytes
    std::string signingInput;     // ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
    Bytes signature; // 64 bytes r||s
};

// The compact JWS of payload signed by signer. header holds the caller's members (typ, kid,
// jwk…); "alg":"ES256" is set here. Throws JoseError for a header that is not a JSON object,
// that has "crit" or that does not serialise as UTF-8 JSON, and KeyError when the
// signer fails.
std::string signJws(nlohmann::json header, std::string_view payload,
                    DeviceKey &signer);

// Strict compact parse: at most maxLength bytes, exactly 3 parts, each strict unpadded
// base64url, the header a JSON object (UTF-8, no duplicate member names) with "alg" exactly
// "ES256", no "crit", "typ"/"cty"/"kid" strings when present, and a signature of exactly 64
// bytes. Throws JoseError naming the part at fault. Does not verify the signature.
Jws parseJws(std::string_view compact, std::size_t maxLength = 64 * 1024);

// Whether jws.signature is a valid ES256 signature by key over SHA-256(jws.signingInput) and
// jws.header still says ES256. Throws KeyError if key is not a P-256 point.
bool verifyJws(const Jws &jws, const EcPublicKey &key);
// The same with a key imported before (toEvpPkey), for a verifier that checks
// many JWSs by one key.
bool verifyJws(const Jws &jws, EVP_PKEY *key);

// The JSON object that text holds, parsed as JOSE requires of headers and claim sets
// (RFC 7515 section 4, RFC 7519 section 4): UTF-8 without a byte order mark, a top-level
// object, no duplicate member name in any object, at most maxJsonDepth levels of nesting.
// Throws JoseError whose message starts with what ("JWS header", "JWT claim set"…).
nlohmann::json parseJsonObject(std::string_view text, std::string_view what);

} // namespace vigil::protocol
