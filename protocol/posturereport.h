#pragma once

// The posture report: an EAT (RFC 9711) in a JWT signed ES256 by the device key, answering one
// server nonce. Claims (docs/protocol.md):
//   eat_profile  postureReportProfile
//   eat_nonce    the server nonce, base64url text exactly as received (10..74 characters)
//   iat, exp     NumericDate, exp - iat in 1..600 s
//   jti          base64url of 16..64 random bytes
//   ueid         base64url of 0x01 || SHA-256 JWK thumbprint of the device key (33 bytes)
//   swname       "vigil"; swversion [version, 16384] (16384: semantic versioning)
//   posture      PostureSnapshot::toJson(): schema_version 1, collected_at, duration_ms, checks
//   submods.tpm  quote, signature, pcrs {"<index>": 32 bytes}, optional event_log; absent for
//                software-assurance devices

#include "protocol/evidence.h"
#include "protocol/jose/devicekey.h"
#include "protocol/messages.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol {

inline constexpr std::string_view postureReportProfile = "tag:vigil.dev,2026:posture-report/v1";
inline constexpr std::string_view postureReportType = "eat+jwt";
inline constexpr std::chrono::seconds maxPostureReportLifetime{600};
// CoSWID version-scheme "semver" (RFC 9393), the second element of swversion.
inline constexpr int swversionSchemeSemver = 16384;

struct TpmClaims
{
    QuoteEvidence quote; // attest, signature, SHA-256 PCR values
    std::optional<Bytes> eventLog;
};

struct PostureReport
{
    std::string nonce;
    TimePoint iat;
    TimePoint exp;
    std::string jti;
    Bytes ueid;
    std::string swname = "vigil";
    std::string swversion;
    nlohmann::json posture; // PostureSnapshot::toJson()
    std::optional<TpmClaims> tpm;

    // The claim set; times floored to whole seconds.
    nlohmann::json toClaims() const;
    // Strict: every claim above present with its type, form and size; unknown claims and
    // unknown submods are ignored. Only the frame of posture is checked here (an object with
    // schema_version 1 and a "checks" object): the verifier parses it fully with
    // posture::PostureSnapshot::fromJson, which protocol/ does not link. Does not look at the
    // clock: jwt.h's validateJwt does. Throws MessageError naming the claim as a JSON pointer
    // ("/eat_nonce", "/submods/tpm/pcrs/7"); a verifier answers it with invalid_report. Takes
    // the claim set by value so that a caller done with it moves it in, and posture with it.
    static PostureReport fromClaims(nlohmann::json claims);
};

// A PCR index written as a JSON member name ("pcrs" here, the policy's reference values):
// "0".."23", decimal without leading zeros; nullopt for anything else.
std::optional<unsigned> pcrIndex(std::string_view key);

// 0x01 (RFC 9711 UEID type RAND) || the 32 bytes of the key's RFC 7638 thumbprint.
Bytes ueidForKey(const EcPublicKey &key);

// 16 random bytes, base64url: a fresh jti.
std::string randomJti();

// The compact JWS: header {"alg":"ES256","kid":deviceId,"typ":"eat+jwt"}, payload toClaims().
// Refuses (std::invalid_argument) a report whose ueid is not ueidForKey(signer's key), and
// (MessageError) one that fromClaims would reject, so a device never sends a report the
// verifier must refuse for its form. KeyError when signing fails.
std::string signPostureReport(const PostureReport &report, const std::string &deviceId,
                              DeviceKey &signer);

} // namespace vigil::protocol
