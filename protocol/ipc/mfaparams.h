#pragma once

// The params of the MFA methods of vigild's socket (docs/ipc.md section 7.9 on): each PIN, code
// and invite is a SecretText, so that it is wiped when the request goes and never printed. The
// readers are strict: a PIN is 6 to 32 bytes of UTF-8 without control characters, a TOTP code
// exactly 6 ASCII digits, a recovery code 12 base32 characters (dashes and case as the user
// typed them; written back as XXXX-XXXX-XXXX), an invite 1 to 128 printable ASCII characters.
// No error message ever quotes the value it refuses.

#include "protocol/ipc/secrettext.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol::detail {
class ObjectReader;
}

namespace vigil::protocol::ipc {

inline constexpr std::size_t minPinLength = 6;   // bytes
inline constexpr std::size_t maxPinLength = 32;  // bytes
inline constexpr std::size_t totpCodeLength = 6; // ASCII digits
inline constexpr std::size_t maxInviteCodeLength = 128;
// What a user may type for a recovery code: 12 characters, dashes and spaces between them.
inline constexpr std::size_t maxRecoveryCodeInputLength = 32;

// mfa_enroll: a first enrollment of the caller's user on this device with an administrator's
// invite; the PIN becomes the new user key's.
struct MfaEnrollParams
{
    SecretText inviteCode;
    SecretText pin;
};

// mfa_pin_change: the user key's PIN, from pin to newPin.
struct PinChangeParams
{
    SecretText pin;
    SecretText newPin;
};

// mfa_pin_reset: a forgotten PIN: a new user key under newPin, allowed by a recovery code
// (normalised to XXXX-XXXX-XXXX upper case).
struct PinResetParams
{
    SecretText recoveryCode;
    SecretText newPin;
};

// mfa_totp_begin and mfa_recovery_codes: the user key signs the request after its PIN.
struct PinParams
{
    SecretText pin;
};

// mfa_totp_activate: the first code of the new TOTP secret, and the PIN for the user proof.
struct TotpActivateParams
{
    SecretText pin;
    SecretText code;
};

// sign_in: the factors the user gave, at least one.
struct SignInParams
{
    std::optional<SecretText> pin;
    std::optional<SecretText> otp;
};

// A recovery code as typed ("abcd efgh-ijkl") in the form the verifier issued it
// ("ABCD-EFGH-IJKL"), or nullopt when it is not 12 base32 characters.
std::optional<std::string> normaliseRecoveryCode(std::string_view typed);
// Whether text is 6 to 32 bytes with no control character (the JSON reader checked UTF-8).
bool isValidPin(std::string_view text);
// Whether text is exactly 6 ASCII digits.
bool isValidTotpCode(std::string_view text);

namespace mfareaders {
// The readers behind parseRequest; they throw MessageError naming the member.
MfaEnrollParams mfaEnrollParams(const protocol::detail::ObjectReader &reader);
PinChangeParams pinChangeParams(const protocol::detail::ObjectReader &reader);
PinResetParams pinResetParams(const protocol::detail::ObjectReader &reader);
PinParams pinParams(const protocol::detail::ObjectReader &reader);
TotpActivateParams totpActivateParams(const protocol::detail::ObjectReader &reader);
SignInParams signInParams(const protocol::detail::ObjectReader &reader);
} // namespace mfareaders

} // namespace vigil::protocol::ipc
