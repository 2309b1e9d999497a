#pragma once

#include "app/agent/mfa/sealedkey.h"
#include "app/agent/mfa/userkey.h"
#include "core/clock.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>

namespace vigil::agent {

struct SoftwareUserKeyOptions
{
    DeriveSealingKey derive = scryptSealingKey;
};

// The user key of a device without a TPM (assurance "software", which policy can refuse): an EC
// P-256 key sealed in key.sealed under a key scrypt derives from the PIN (sealedkey.h), with
// its own attempt counter in the same file. The counter is written, and flushed to disk, before
// each attempt, so a crash or kill while the PIN is being tried cannot give a free guess; a
// right PIN resets it. After freeAttempts consecutive failures each further attempt waits
// 2^(failures - freeAttempts) seconds after the one before (an early one is refused without
// counting); after maxFailures the key is locked for good and only a new key (recovery code or
// invite) replaces it. The clock is injectable so that tests can move through the delays.
class SoftwareUserKey final : public UserKey
{
public:
    static constexpr const char *fileName = "key.sealed";
    static constexpr std::uint32_t freeAttempts = 3;
    static constexpr std::uint32_t maxFailures = 10;

    using Options = SoftwareUserKeyOptions;

    // A new key that pin unlocks, written to <directory>/key.sealed (0600, atomically; the
    // directory is created 0700 if missing; an older file is replaced). Throws UserKeyError
    // (BadPin, Corrupt when the file cannot be written).
    static std::unique_ptr<SoftwareUserKey> create(const std::filesystem::path &directory,
                                                   const SecretBytes &pin, const Clock &clock,
                                                   Options options = {});
    // Throws UserKeyError(Corrupt) when the file is missing, not 0600 and ours, or malformed.
    static std::unique_ptr<SoftwareUserKey> open(const std::filesystem::path &directory,
                                                 const Clock &clock, Options options = {});

    protocol::Assurance assurance() const override { return protocol::Assurance::Software; }
    protocol::EcPublicKey publicKey() const override { return m_publicKey; }
    Bytes sign(std::span<const std::uint8_t> digest, const SecretBytes &pin) override;
    // Re-seals the key under newPin with a new salt and nonce.
    void changePin(const SecretBytes &oldPin, const SecretBytes &newPin) override;
    // From the file as it is now; attemptsLeft counts down to the permanent lock.
    PinAttempts attempts() override;

    const std::filesystem::path &path() const { return m_path; }

private:
    SoftwareUserKey(std::filesystem::path path, const Clock &clock, Options options,
                    protocol::EcPublicKey publicKey);
    SealedKey read() const;
    void write(const SealedKey &key) const;
    PinAttempts attemptsAt(const SealedKey &key, std::chrono::system_clock::time_point now) const;
    // One counted attempt: the PKCS#8 DER, or UserKeyError. state ends as written to disk.
    SecretBytes unlock(const SecretBytes &pin, SealedKey &state);

    std::mutex m_mutex; // one attempt at a time, so that each is counted
    std::filesystem::path m_path;
    const Clock &m_clock;
    Options m_options;
    protocol::EcPublicKey m_publicKey;
};

} // namespace vigil::agent
