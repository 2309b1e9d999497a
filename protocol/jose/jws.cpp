#include "protocol/jose/jws.h"

#include "core/sha256.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"
#include "protocol/json/strictjson.h"

#include <vector>

namespace vigil::protocol {

namespace {

constexpr std::size_t signatureSize = 64;

std::string encode(std::string_view text)
{
    return base64UrlEncode(
        std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
}

Bytes digestOf(std::string_view text)
{
    return sha256(text);
}

Bytes decodePart(std::string_view part, const char *name)
{
    auto decoded = base64UrlDecode(part);
    if (!decoded)
        throw JoseError(std::string("JWS ") + name + " is not unpadded base64url");
    return std::move(*decoded);
}

} // namespace

nlohmann::json parseJsonObject(std::string_view text, std::string_view what)
{
    // RFC 8259 section 8.1 forbids sending a byte order mark; the message says so rather than
    // calling the text invalid JSON.
    if (text.starts_with("\xEF\xBB\xBF"))
        throw JoseError(std::string(what) + " starts with a byte order mark");
    nlohmann::json json;
    if (const std::string failure = parseStrictJson(text, json); !failure.empty())
        throw JoseError(std::string(what) + " " + failure);
    if (!json.is_object())
        throw JoseError(std::string(what) + " is not a JSON object");
    return json;
}

std::string signJws(nlohmann::json header, std::string_view payload, DeviceKey &signer)
{
    if (!header.is_object())
        throw JoseError("JWS header is not a JSON object");
    if (header.contains("crit"))
        throw JoseError("JWS header has \"crit\"; no JWS extension is understood");
    header["alg"] = "ES256";
    std::string headerText;
    try {
        headerText = header.dump();
    } catch (const nlohmann::json::exception &) {
        throw JoseError("JWS header is not valid UTF-8 JSON");
    }
    std::string signingInput = encode(headerText) + "." + encode(payload);
    const Bytes signature = signer.sign(digestOf(signingInput));
    if (signature.size() != signatureSize)
        throw KeyError("the signer returned a " + std::to_string(signature.size()) +
                                    "-byte signature; ES256 needs 64 bytes r||s");
    return signingInput + "." + base64UrlEncode(signature);
}

Jws parseJws(std::string_view compact, std::size_t maxLength)
{
    if (compact.size() > maxLength)
        throw JoseError("JWS is " + std::to_string(compact.size()) + " bytes; the limit is " +
                        std::to_string(maxLength));
    const auto first = compact.find('.');
    const auto second = first == std::string_view::npos ? first : compact.find('.', first + 1);
    if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos)
        throw JoseError("JWS compact serialisation must have exactly 3 parts separated by '.'");

    const std::string_view headerPart = compact.substr(0, first);
    const std::string_view payloadPart = compact.substr(first + 1, second - first - 1);
    const std::string_view signaturePart = compact.substr(second + 1);

    const Bytes headerBytes = decodePart(headerPart, "header");
    Jws jws;
    jws.header = parseJsonObject(
        std::string_view(reinterpret_cast<const char *>(headerBytes.data()), headerBytes.size()),
        "JWS header");

    // The algorithm is decided before anything else is looked at, and only ES256 passes.
    const auto alg = jws.header.find("alg");
    if (alg == jws.header.end())
        throw JoseError("JWS header has no \"alg\"");
    if (!alg->is_string())
        throw JoseError("JWS header \"alg\" is not a string");
    if (alg->get_ref<const std::string &>() != "ES256")
        throw JoseError("JWS algorithm " + messageExcerpt(alg->get_ref<const std::string &>()) +
                        " is not accepted; only \"ES256\" is");
    if (jws.header.contains("crit"))
        throw JoseError("JWS header has \"crit\"; no JWS extension is understood");
    for (const char *name : {"typ", "cty", "kid"}) {
        const auto it = jws.header.find(name);
        if (it != jws.header.end() && !it->is_string())
            throw JoseError(std::string("JWS header \"") + name + "\" is not a string");
    }

    const Bytes payloadBytes = decodePart(payloadPart, "payload");
    jws.payload.assign(payloadBytes.begin(), payloadBytes.end());
    jws.signature = decodePart(signaturePart, "signature");
    if (jws.signature.size() != signatureSize)
        throw JoseError("JWS signature is " + std::to_string(jws.signature.size()) +
                        " bytes; ES256 needs 64 bytes r||s");
    jws.signingInput = std::string(compact.substr(0, second));
    return jws;
}

namespace {

bool stillEs256(const Jws &jws)
{
    const auto alg = jws.header.find("alg");
    return jws.header.is_object() && alg != jws.header.end() && *alg == "ES256" &&
           !jws.header.contains("crit") && jws.signature.size() == signatureSize;
}

} // namespace

bool verifyJws(const Jws &jws, const EcPublicKey &key)
{
    return verifyJws(jws, toEvpPkey(key).get());
}

bool verifyJws(const Jws &jws, EVP_PKEY *key)
{
    return stillEs256(jws) &&
           verifyEs256(key, digestOf(jws.signingInput), jws.signature);
}

} // namespace vigil::protocol
