#include "protocol/posturereport.h"

#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/json/objectreader.h"
#include "protocol/rfc3339.h"

#include <algorithm>
#include <openssl/rand.h>
#include <stdexcept>

namespace vigil::protocol {
using detail::ObjectReader;

namespace {

constexpr std::size_t ueidSize = 33;
constexpr std::uint8_t ueidTypeRand = 0x01;
constexpr std::size_t minNonceText = 10; // RFC 9711 section 4.1 (JSON: tstr .size (10..74))
constexpr std::size_t maxNonceText = 74;
constexpr std::size_t minJti = 16;
constexpr std::size_t maxJti = 64;
constexpr std::size_t maxSwField = 64;

bool isBase64UrlText(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

TimePoint numericDate(const ObjectReader &claims, std::string_view name)
{
    // The largest NumericDate a time_point holds (see rfc3339.h).
    const long long seconds =
        claims.integer(name, 0, toNumericDate(std::chrono::system_clock::time_point::max()));
    return *fromNumericDate(seconds);
}

TpmClaims tpmClaims(const ObjectReader &tpm)
{
    TpmClaims claims;
    claims.quote.attest = tpm.bytes("quote", limits::maxAttest);
    claims.quote.signature = tpm.bytes("signature", limits::maxTpmSignature);
    const ObjectReader pcrs = tpm.object("pcrs");
    const auto &pcrsJson = tpm.value("pcrs");
    if (pcrsJson.size() > limits::maxPcrIndex + 1)
        tpm.fail("pcrs", "more than " + std::to_string(limits::maxPcrIndex + 1) + " members");
    for (const auto &[key, value] : pcrsJson.items()) {
        const auto index = pcrIndex(key);
        if (!index)
            pcrs.fail(key, "not a PCR index 0 to 23 in decimal without leading zeros");
        claims.quote.pcrs[*index] = detail::bytesAt(value, pcrs.pointerTo(key), 32, 32);
    }
    if (tpm.has("event_log"))
        claims.eventLog = tpm.bytes("event_log", limits::maxEventLog);
    return claims;
}

} // namespace

std::optional<unsigned> pcrIndex(std::string_view key)
{
    if (key.empty() || key.size() > 2 || (key.size() == 2 && key[0] == '0'))
        return std::nullopt;
    unsigned index = 0;
    for (const char c : key) {
        if (c < '0' || c > '9')
            return std::nullopt;
        index = index * 10 + unsigned(c - '0');
    }
    if (index > limits::maxPcrIndex)
        return std::nullopt;
    return index;
}

nlohmann::json PostureReport::toClaims() const
{
    nlohmann::json claims = {
        {"eat_profile", postureReportProfile},
        {"eat_nonce", nonce},
        {"iat", toNumericDate(iat)},
        {"exp", toNumericDate(exp)},
        {"jti", jti},
        {"ueid", base64UrlEncode(ueid)},
        {"swname", swname},
        {"swversion", {swversion, swversionSchemeSemver}},
        {"posture", posture},
    };
    if (tpm) {
        nlohmann::json pcrs = nlohmann::json::object();
        for (const auto &[index, value] : tpm->quote.pcrs)
            pcrs[std::to_string(index)] = base64UrlEncode(value);
        nlohmann::json tpmJson = {
            {"quote", base64UrlEncode(tpm->quote.attest)},
            {"signature", base64UrlEncode(tpm->quote.signature)},
            {"pcrs", std::move(pcrs)},
        };
        if (tpm->eventLog)
            tpmJson["event_log"] = base64UrlEncode(*tpm->eventLog);
        claims["submods"] = {{"tpm", std::move(tpmJson)}};
    }
    return claims;
}

PostureReport PostureReport::fromClaims(nlohmann::json json)
{
    const ObjectReader claims(json, "");
    PostureReport report;
    if (claims.string("eat_profile", 256) != postureReportProfile)
        claims.fail("eat_profile", "must be \"" + std::string(postureReportProfile) + "\"");
    report.nonce = claims.string("eat_nonce", maxNonceText, minNonceText);
    if (!isBase64UrlText(report.nonce))
        claims.fail("eat_nonce", "must be base64url text");
    report.iat = numericDate(claims, "iat");
    report.exp = numericDate(claims, "exp");
    if (report.exp <= report.iat || report.exp - report.iat > maxPostureReportLifetime)
        claims.fail("exp", "must be 1 to " + std::to_string(maxPostureReportLifetime.count()) +
                               " seconds after iat");
    claims.bytes("jti", maxJti, minJti);
    report.jti = claims.value("jti").get<std::string>();
    report.ueid = claims.bytes("ueid", ueidSize, ueidSize);
    if (report.ueid[0] != ueidTypeRand)
        claims.fail("ueid", "must start with the type byte 0x01");
    report.swname = claims.string("swname", maxSwField);
    const auto &swversion = claims.array("swversion", 2);
    if (swversion.size() != 2)
        claims.fail("swversion", "must be [version, 16384]");
    report.swversion =
        detail::stringAt(swversion[0], claims.pointerTo("swversion") + "/0", maxSwField);
    detail::integerAt(swversion[1], claims.pointerTo("swversion") + "/1", swversionSchemeSemver,
                      swversionSchemeSemver);

    const ObjectReader posture = claims.object("posture");
    const auto &schemaVersion = posture.value("schema_version");
    if (!schemaVersion.is_number_integer() || schemaVersion != 1)
        posture.fail("schema_version", "must be 1, the schema this implementation supports");
    posture.object("checks");

    if (claims.has("submods")) {
        const ObjectReader submods = claims.object("submods");
        if (submods.has("tpm"))
            report.tpm = tpmClaims(submods.object("tpm"));
    }
    // Last: the readers above look into json.
    report.posture = std::move(json["posture"]);
    return report;
}

Bytes ueidForKey(const EcPublicKey &key)
{
    Bytes ueid{ueidTypeRand};
    const Bytes thumbprint = *base64UrlDecode(jwkThumbprint(key));
    ueid.insert(ueid.end(), thumbprint.begin(), thumbprint.end());
    return ueid;
}

std::string randomJti()
{
    Bytes bytes(16);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("the OpenSSL random generator failed");
    return base64UrlEncode(bytes);
}

std::string signPostureReport(const PostureReport &report, const std::string &deviceId,
                              DeviceKey &signer)
{
    if (report.ueid != ueidForKey(signer.publicKey()))
        throw std::invalid_argument("posture report ueid is not the signing key's");
    const nlohmann::json claims = report.toClaims();
    PostureReport::fromClaims(claims);
    return signJws({{"typ", postureReportType}, {"kid", deviceId}}, claims.dump(), signer);
}

} // namespace vigil::protocol
