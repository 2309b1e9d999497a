#pragma once

// The user key on the device, the first sign-in factor (docs/mfa.md "User key", "PIN"): one EC
// P-256 signing key per local user that only the user's PIN unlocks. Two kinds: TpmUserKey (in
// the TPM, whose dictionary-attack protection counts wrong PINs) and SoftwareUserKey (sealed
// under a key derived from the PIN, with its own attempt counter), for devices without a TPM.
//
// No message of this folder contains a PIN, and every copy of a PIN it makes is wiped.

#include "core/keyerror.h"
#include "core/secretbytes.h"
#include "protocol/jose/devicekey.h"

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

namespace vigil::agent {

// What the user may still try (mfa_status's pin_attempts_left and pin_locked_out_seconds).
struct PinAttempts
{
    // Wrong PINs still accepted before the key locks (TPM: before the TPM's lockout; software:
    // before the permanent lock). nullopt when unknown.
    std::optional<std::uint32_t> attemptsLeft;
    // How long until the next attempt is taken; zero when one can be made now. For a TPM in
    // lockout this is an upper bound (the TPM does not say how far into its interval it is).
    std::chrono::seconds lockedOutFor{0};
    // Locked for good: only a recovery code or a new invite (a new key) helps.
    bool locked = false;
};

class UserKeyError : public KeyError
{
public:
    enum class Kind
    {
        BadPin,      // not a PIN at all (length, encoding): never counted as an attempt
        WrongPin,    // counted; attempts() says how many are left
        LockedOut,   // too many wrong PINs: no attempt is taken for attempts().lockedOutFor
        Locked,      // a software key after too many wrong PINs: replaced only by a new key
        Corrupt,     // the key's files are damaged, altered or belong to another TPM
        Unavailable, // the TPM cannot be used now (absent, failure mode, out of memory)
    };

    UserKeyError(Kind kind, std::string message, PinAttempts attempts = {});

    Kind kind() const { return m_kind; }
    const PinAttempts &attempts() const { return m_attempts; }

private:
    Kind m_kind;
    PinAttempts m_attempts;
};

// "bad_pin", "wrong_pin", "locked_out", "locked", "corrupt", "unavailable".
std::string_view userKeyErrorKindName(UserKeyError::Kind kind);

// 6 to 32 bytes of UTF-8 without control characters (a NUL would also be trimmed by the TPM,
// which drops trailing zero bytes of an authValue). Throws UserKeyError(BadPin), naming the
// rule, never the PIN.
void checkPinFormat(const SecretBytes &pin);
inline constexpr std::size_t minPinBytes = 6;
inline constexpr std::size_t maxPinBytes = 32;

class UserKey
{
public:
    virtual ~UserKey() = default;

    virtual protocol::Assurance assurance() const = 0;
    virtual protocol::EcPublicKey publicKey() const = 0;
    // ES256 over a 32-byte SHA-256 digest, unlocked by pin: the 64-byte r||s JOSE uses.
    // Throws UserKeyError (WrongPin, LockedOut, Locked, BadPin, Corrupt, Unavailable).
    virtual Bytes sign(std::span<const std::uint8_t> digest, const SecretBytes &pin) = 0;
    // The old PIN authorizes; on success only newPin unlocks the key from now on.
    virtual void changePin(const SecretBytes &oldPin, const SecretBytes &newPin) = 0;
    virtual PinAttempts attempts() = 0;

    // "tpm" or "software".
    std::string_view assuranceName() const { return protocol::assuranceName(assurance()); }
    // {"crv":"P-256","kty":"EC","x":…,"y":…} and its RFC 7638 thumbprint (the user proof's kid).
    nlohmann::json publicJwk() const;
    std::string thumbprint() const;
};

// The message for a wrong PIN, as the IPC error wrong_pin carries it: "wrong PIN: 4 attempts
// left before the TPM locks the key" (or "... before the key is locked").
std::string wrongPinMessage(const PinAttempts &attempts, std::string_view locksWhat);

} // namespace vigil::agent
