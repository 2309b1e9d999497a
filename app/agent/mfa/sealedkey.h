#pragma once

// key.sealed, the software user key's one file: the PKCS#8 private key sealed with AES-256-GCM
// under a key that scrypt derives from the PIN, the public key, and the attempt counter.
//
//   {"version":1, "kdf":"scrypt", "n":32768, "r":8, "p":1, "salt":"<b64url 16 bytes>",
//    "cipher":"A256GCM", "nonce":"<b64url 12 bytes>", "sealed":"<b64url ciphertext || tag>",
//    "x":"<b64url 32>", "y":"<b64url 32>", "failures":0, "last_attempt_ms":0}
//
// The counter is outside the ciphertext: it changes before every attempt, when the key is not
// available to re-seal. It stops guesses made through vigild; whoever can read the file can
// guess offline, at scrypt's cost per guess, which is why the file is vigild's alone (0600 in a
// 0700 directory).

#include "app/agent/mfa/userkey.h"
#include "core/bytes.h"
#include "core/secretbytes.h"
#include "protocol/jose/devicekey.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil::agent {

struct SealedKey
{
    Bytes salt;   // 16 bytes
    Bytes nonce;  // 12 bytes
    Bytes sealed; // AES-256-GCM ciphertext of the PKCS#8 DER, then the 16-byte tag
    protocol::EcPublicKey publicKey;
    std::uint32_t failures = 0;     // consecutive wrong PINs, counted before each attempt
    std::int64_t lastAttemptMs = 0; // Unix time in ms of the last counted attempt; 0 for none
};

// scrypt parameters of docs/mfa.md; a file with others is refused.
inline constexpr std::uint64_t scryptN = 1u << 15;
inline constexpr std::uint32_t scryptR = 8;
inline constexpr std::uint32_t scryptP = 1;

// The 32-byte sealing key for pin and salt. Replaceable so that a test can watch (or stop) an
// attempt between the counter's write and the unsealing.
using DeriveSealingKey =
    std::function<SecretBytes(const SecretBytes &pin, std::span<const std::uint8_t> salt)>;
// scrypt(pin, salt, N=2^15, r=8, p=1) through OpenSSL's EVP_KDF "SCRYPT". Throws KeyError.
SecretBytes scryptSealingKey(const SecretBytes &pin, std::span<const std::uint8_t> salt);

// Seals pkcs8 under pin with a new random salt and nonce; counter fields zero.
SealedKey sealKey(const SecretBytes &pkcs8, const SecretBytes &pin,
                  const protocol::EcPublicKey &publicKey, const DeriveSealingKey &derive);
// The PKCS#8 DER, or nullopt when the tag does not verify: a wrong PIN (or an altered
// ciphertext, which cannot be told apart from one).
std::optional<SecretBytes> unsealKey(const SealedKey &key, const SecretBytes &pin,
                                     const DeriveSealingKey &derive);

std::string serializeSealedKey(const SealedKey &key);
// Strict: every member present with its exact type and size, version 1, the scrypt parameters
// above, a public key on P-256. Throws UserKeyError(Corrupt) naming file and member.
SealedKey parseSealedKey(std::string_view text, const std::string &file);

} // namespace vigil::agent
