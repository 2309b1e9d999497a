#pragma once

// The bodies of the verifier's user and MFA endpoints (docs/protocol.md sections 5.9 to 5.15)
// as typed structs, read as strictly as messages.h reads the device's: "version" 1, every
// required member present with its type, enumerations closed, every value capped, errors naming
// the member; members the contract does not define are ignored.

#include "protocol/evidence.h"
#include "protocol/jose/devicekey.h"
#include "protocol/messages.h"

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol {

namespace limits {
inline constexpr std::size_t maxInviteCode = 128;
inline constexpr std::size_t maxLocalAccount = 256;
inline constexpr std::size_t maxUserName = 256;
inline constexpr std::size_t maxUserProof = 8 * 1024;
inline constexpr std::size_t maxOtpauthUri = 2048;
inline constexpr std::size_t maxRecoveryCodes = 32;
inline constexpr std::size_t sessionHandleBytes = 32;
inline constexpr std::size_t maxAmr = 8;
inline constexpr std::size_t maxAcr = 128;
inline constexpr long long maxWarnBeforeSeconds = 3600;
} // namespace limits

// A recovery code as typed ("abcd efgh-ijkl", any case, spaces or dashes anywhere) in its
// canonical form "ABCD-EFGH-IJKL" (12 base32 characters), or nullopt when it cannot be one.
std::optional<std::string> canonicalRecoveryCode(std::string_view typed);
// Whether text is exactly 6 ASCII digits, the TOTP code form of docs/mfa.md.
bool isTotpCode(std::string_view text);

enum class TotpState
{
    None,
    Pending,
    Active
};
std::string_view totpStateName(TotpState state); // "none" | "pending" | "active"
std::optional<TotpState> totpStateFromName(std::string_view name);

// The TPM part of a user key: its public area and the AK's TPM2_Certify of it.
struct UserKeyTpm
{
    Bytes publicArea; // TPM2B_PUBLIC
    CertifyEvidence certify;
};

struct UserKey
{
    Assurance assurance = Assurance::Tpm;
    nlohmann::json jwk;            // public EC P-256 JWK, normalised to its RFC 7638 members
    std::optional<UserKeyTpm> tpm; // present exactly when assurance is Tpm

    EcPublicKey publicKey() const;
    nlohmann::json toJson() const;
    static UserKey fromJson(const nlohmann::json &json, const std::string &pointer);
};

// POST /v1/users/enrollments: with an invite, or with a user id and a recovery code (a new key
// for a forgotten PIN); exactly one of the two.
struct UserEnrollmentRequest
{
    std::optional<std::string> inviteCode;
    std::optional<std::string> userId;       // with recoveryCode
    std::optional<std::string> recoveryCode; // as sent (canonicalRecoveryCode accepts it)
    std::string localAccount;
    UserKey userKey;

    nlohmann::json toJson() const;
    static UserEnrollmentRequest fromJson(const nlohmann::json &json);
};

struct UserEnrollmentResponse
{
    std::string userId;
    std::string name;
    std::string deviceId;
    Assurance keyAssurance = Assurance::Tpm;
    TotpState totp = TotpState::None;

    nlohmann::json toJson() const;
    static UserEnrollmentResponse fromJson(const nlohmann::json &json);
};

// POST /v1/users/{id}/totp and /v1/users/{id}/recovery-codes: {"version":1,"user_proof":…}
struct UserProofBody
{
    std::string userProof;

    nlohmann::json toJson() const;
    static UserProofBody fromJson(const nlohmann::json &json);
};

struct TotpEnrollment
{
    std::string otpauthUri; // "otpauth://totp/…"
    TimePoint expiresAt;

    nlohmann::json toJson() const;
    static TotpEnrollment fromJson(const nlohmann::json &json);
};

// POST /v1/users/{id}/totp/activation
struct TotpActivationRequest
{
    std::string userProof;
    std::string code; // 6 digits

    nlohmann::json toJson() const;
    static TotpActivationRequest fromJson(const nlohmann::json &json);
};

// 200 to an activation and to POST /v1/users/{id}/recovery-codes.
struct RecoveryCodes
{
    std::vector<std::string> codes; // canonical, unique, 1..32

    nlohmann::json toJson() const;
    static RecoveryCodes fromJson(const nlohmann::json &json);
};

// POST /v1/users/{id}/sessions: a user proof (PIN factor), a TOTP code, or both.
struct SignInRequest
{
    std::optional<std::string> userProof;
    std::optional<std::string> otp;

    nlohmann::json toJson() const;
    static SignInRequest fromJson(const nlohmann::json &json);
};

// 201 to a sign-in.
struct UserSession
{
    std::string session; // base64url text of 32 bytes
    TimePoint authTime;
    TimePoint expiresAt;
    std::vector<std::string> amr;              // RFC 8176 values: hwk, swk, pin, otp, mfa
    std::string acr;                           // "urn:vigil:acr:…"
    std::vector<std::string> reauthenticateOn; // "unlock", "resume"
    std::chrono::seconds warnBefore{0};        // 0 .. 3600 s
    std::string accessToken;
    std::chrono::seconds expiresIn{0}; // 1 .. 600 s

    nlohmann::json toJson() const;
    static UserSession fromJson(const nlohmann::json &json);
};

// POST /v1/users/{id}/tokens and /v1/users/{id}/sessions/revocation: {"version":1,"session":…}.
// The 200 to a token request is a TokenResponse (messages.h).
struct SessionRequest
{
    std::string session;

    nlohmann::json toJson() const;
    static SessionRequest fromJson(const nlohmann::json &json);
};

} // namespace vigil::protocol
