#pragma once

// The results of the MFA methods of vigild's socket and the prompt the tray shows (docs/ipc.md
// sections 7.9 on and 9), as typed structs for the clients (vigilctl, the tray). Read as
// strictly as every other IPC message: an unknown member is an error.

#include "protocol/messages.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol::ipc {

enum class TotpState
{
    None,
    Pending, // made, waiting for its first code (mfa_totp_activate)
    Active,
};
std::string_view totpStateName(TotpState state);
std::optional<TotpState> totpStateFromName(std::string_view name);

// The authentication methods of RFC 8176 a Vigil session names (docs/mfa.md).
inline constexpr std::string_view knownAmrValues[] = {"hwk", "swk", "pin", "otp", "mfa"};

// The verifier's user session vigild holds for the caller.
struct MfaSessionInfo
{
    TimePoint authTime;
    TimePoint expiresAt;
    std::vector<std::string> amr; // each of knownAmrValues, at most once
    std::int64_t warnBeforeSeconds = 0;
};

// The caller's Vigil user on this device.
struct MfaUserInfo
{
    std::string userId; // the verifier's lower-case UUID
    std::string name;
    Assurance keyAssurance = Assurance::Tpm;
    std::optional<std::int64_t> pinAttemptsLeft;     // null when the TPM does not say
    std::optional<std::int64_t> pinLockedOutSeconds; // null unless the key is locked out
    TotpState totp = TotpState::None;
    std::optional<MfaSessionInfo> session; // signed in
};

// mfa_status, and the result of mfa_enroll, mfa_pin_reset and sign_in.
struct MfaStatus
{
    std::optional<MfaUserInfo> user; // enrolled

    nlohmann::json toJson() const;
    static MfaStatus fromJson(const nlohmann::json &json, const std::string &pointer);
};

// mfa_totp_begin: the new pending secret as an otpauth URI for an authenticator app. The URI
// holds the secret: clients show it (a QR code) and never log it.
struct TotpBeginResult
{
    std::string otpauthUri;
    TimePoint expiresAt;

    nlohmann::json toJson() const;
    static TotpBeginResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

// mfa_totp_activate and mfa_recovery_codes: the new recovery codes, XXXX-XXXX-XXXX, shown once.
struct RecoveryCodesResult
{
    static constexpr std::size_t maxCodes = 32;
    std::vector<std::string> recoveryCodes;

    nlohmann::json toJson() const;
    static RecoveryCodesResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

// user_token: an access token naming the caller's user, bound to the device key.
struct UserTokenResult
{
    static constexpr std::int64_t maxExpiresIn = 3600;
    std::string accessToken; // a secret: never logged
    std::int64_t expiresIn = 0;
    TimePoint authTime;
    std::vector<std::string> amr;

    nlohmann::json toJson() const; // token_type is always "DPoP"
    static UserTokenResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

// mfa_pin_change and sign_out: done; the result has no members.
struct EmptyResult
{
    nlohmann::json toJson() const { return nlohmann::json::object(); }
    static EmptyResult fromJson(const nlohmann::json &json, const std::string &pointer);
};

enum class PromptReason
{
    Unlock,   // the screen was unlocked and the policy drops the session then
    Resume,   // the machine woke from sleep, likewise
    Expired,  // the session's time is up
    Expiring, // it will be in warn_before_seconds
};
std::string_view promptReasonName(PromptReason reason);
std::optional<PromptReason> promptReasonFromName(std::string_view name);

enum class Factor
{
    Pin,
    Otp,
};
std::string_view factorName(Factor factor);

// What vigild asks the tray to ask the user: sign in again. kind is always "sign_in".
struct Prompt
{
    static constexpr std::size_t maxIdLength = 64;
    std::string id; // 1..64 of A-Z a-z 0-9 - _; prompt_closed names it
    PromptReason reason = PromptReason::Expired;
    std::vector<Factor> factors;        // the factors the policy accepts, 1..2, each once
    std::optional<TimePoint> expiresAt; // when the session ends (expiring)

    nlohmann::json toJson() const;
    static Prompt fromJson(const nlohmann::json &json, const std::string &pointer);
};
// Whether text may be a prompt's id.
bool isValidPromptId(std::string_view text);

} // namespace vigil::protocol::ipc
