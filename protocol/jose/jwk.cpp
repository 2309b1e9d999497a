#include "protocol/jose/jwk.h"

#include <array>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

namespace vigil::protocol {

namespace {

constexpr std::size_t coordinateSize = 32;

using OsslParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using OsslParamPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM_free>>;

void requireCoordinates(const EcPublicKey &key)
{
    if (key.x.size() != coordinateSize || key.y.size() != coordinateSize)
        throw KeyError("EC P-256 public key coordinates must be 32 bytes each (got " +
                       std::to_string(key.x.size()) + " and " + std::to_string(key.y.size()) + ")");
}

// nullptr when the point is not on the curve; KeyError only for OpenSSL failing outright.
EvpPkeyPtr importPoint(const EcPublicKey &key)
{
    Bytes point;
    point.reserve(1 + 2 * coordinateSize);
    point.push_back(0x04); // uncompressed (SEC 1 section 2.3.3)
    point.insert(point.end(), key.x.begin(), key.x.end());
    point.insert(point.end(), key.y.begin(), key.y.end());

    OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder ||
        !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                         SN_X9_62_prime256v1, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size()))
        throw KeyError("cannot build EC key parameters: " + openSslError());
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
    if (!params)
        throw KeyError("cannot build EC key parameters: " + openSslError());

    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0)
        throw KeyError("cannot create an EC key context: " + openSslError());
    EVP_PKEY *raw = nullptr;
    // Import decodes the point and fails for one that is not on the curve.
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
        openSslError();
        return nullptr;
    }
    EvpPkeyPtr pkey(raw);

    // Belt and braces: the full public-key check (not infinity, on curve, in the subgroup).
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check)
        throw KeyError("cannot create an EC key context: " + openSslError());
    if (EVP_PKEY_public_check(check.get()) != 1) {
        openSslError();
        return nullptr;
    }
    return pkey;
}

Bytes decodeCoordinate(const nlohmann::json &jwk, const char *name)
{
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string())
        throw JwkError(std::string("JWK has no \"") + name + "\" string member");
    const auto decoded = base64UrlDecode(it->get_ref<const std::string &>());
    if (!decoded)
        throw JwkError(std::string("JWK \"") + name + "\" is not unpadded base64url");
    if (decoded->size() != coordinateSize)
        throw JwkError(std::string("JWK \"") + name + "\" decodes to " +
                       std::to_string(decoded->size()) + " bytes; P-256 needs 32");
    return *decoded;
}

} // namespace

nlohmann::json ecPublicJwk(const EcPublicKey &key)
{
    requireCoordinates(key);
    return nlohmann::json{{"crv", "P-256"},
                          {"kty", "EC"},
                          {"x", base64UrlEncode(key.x)},
                          {"y", base64UrlEncode(key.y)}};
}

std::string jwkThumbprint(const EcPublicKey &key)
{
    requireCoordinates(key);
    // Spelled out rather than dumped from a json object so that member order and the absence
    // of whitespace are fixed by this line, as RFC 7638 section 3 requires.
    const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + base64UrlEncode(key.x) +
                                  R"(","y":")" + base64UrlEncode(key.y) + R"("})";
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int digestSize = 0;
    if (EVP_Digest(canonical.data(), canonical.size(), digest.data(), &digestSize, EVP_sha256(),
                   nullptr) != 1)
        throw KeyError("SHA-256 failed: " + openSslError());
    return base64UrlEncode(std::span(digest.data(), digestSize));
}

EcPublicKey parseEcPublicJwk(const nlohmann::json &jwk)
{
    if (!jwk.is_object())
        throw JwkError("JWK is not a JSON object");
    const auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string())
        throw JwkError("JWK has no \"kty\" string member");
    if (kty->get_ref<const std::string &>() != "EC")
        throw JwkError("JWK key type (\"kty\") is not \"EC\"");
    const auto crv = jwk.find("crv");
    if (crv == jwk.end() || !crv->is_string())
        throw JwkError("JWK has no \"crv\" string member");
    if (crv->get_ref<const std::string &>() != "P-256")
        throw JwkError("JWK curve (\"crv\") is not \"P-256\"");
    // Checked before the coordinates: a private key must be refused whatever else is wrong.
    if (jwk.contains("d"))
        throw JwkError("JWK contains the private key member \"d\"; a public JWK must not");
    EcPublicKey key{decodeCoordinate(jwk, "x"), decodeCoordinate(jwk, "y")};
    if (!importPoint(key))
        throw JwkError("JWK \"x\" and \"y\" are not a point on P-256");
    return key;
}

EcPublicKey parseEcPublicJwk(std::string_view jsonText)
{
    const auto json = nlohmann::json::parse(jsonText, nullptr, false);
    if (json.is_discarded())
        throw JwkError("JWK is not valid JSON");
    return parseEcPublicJwk(json);
}

EvpPkeyPtr toEvpPkey(const EcPublicKey &key)
{
    requireCoordinates(key);
    auto pkey = importPoint(key);
    if (!pkey)
        throw KeyError("EC public key is not a point on P-256");
    return pkey;
}

EcPublicKey fromEvpPkey(const EVP_PKEY *pkey)
{
    if (!pkey || !EVP_PKEY_is_a(pkey, "EC"))
        throw KeyError("key is not an EC key");
    std::array<char, 64> group{};
    std::size_t groupLength = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &groupLength) != 1) {
        openSslError();
        throw KeyError("EC key has no named curve; expected P-256");
    }
    if (std::string_view(group.data(), groupLength) != SN_X9_62_prime256v1)
        throw KeyError("EC key is on curve " + std::string(group.data(), groupLength) +
                       ", expected P-256 (prime256v1)");

    EcPublicKey key;
    for (auto [name, out] : {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, &key.x},
                             std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, &key.y}}) {
        BIGNUM *raw = nullptr;
        if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1)
            throw KeyError("EC key has no public point: " + openSslError());
        BignumPtr value(raw);
        out->resize(coordinateSize);
        if (BN_bn2binpad(value.get(), out->data(), coordinateSize) != int(coordinateSize))
            throw KeyError("EC public coordinate does not fit 32 bytes");
    }
    return key;
}

} // namespace vigil::protocol
