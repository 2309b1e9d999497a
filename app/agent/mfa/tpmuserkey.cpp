#include "app/agent/mfa/tpmuserkey.h"

#include "app/agent/agentlogging.h"
#include "attestation/userkeypublic.h"
#include "core/privatefile.h"
#include "core/text.h"

namespace vigil::agent {

using attestation::DictionaryAttackState;
using attestation::Tpm;
using attestation::TpmError;
using attestation::TpmKeyBlobs;
using attestation::TpmObject;

namespace {

namespace fs = std::filesystem;

constexpr std::string_view fileWhat = "user key";
// Marshalled TPM2B_PUBLIC/TPM2B_PRIVATE are a few hundred bytes.
constexpr std::size_t maxBlobSize = 64 * 1024;

PinAttempts attemptsOf(const DictionaryAttackState &state)
{
    PinAttempts attempts;
    attempts.attemptsLeft = state.attemptsLeft();
    attempts.lockedOutFor = std::chrono::seconds(state.lockedOutForAtMostSeconds());
    return attempts;
}

[[noreturn]] void throwUnavailable(const TpmError &error)
{
    throw UserKeyError(UserKeyError::Kind::Unavailable,
                       std::string("the TPM cannot use the user key: ") + error.what());
}

// What a failed PIN operation means to the user; the TpmError's own message goes along for
// the rest, and neither ever holds the PIN.
[[noreturn]] void throwPinFailure(Tpm &tpm, const TpmError &error, const fs::path &directory)
{
    PinAttempts attempts;
    try {
        attempts = attemptsOf(tpm.dictionaryAttackState());
    } catch (const TpmError &) {
        // The failure itself is what matters; the counts stay unknown.
    }
    // For the journal: which key, and how far the TPM's counter got; never the PIN.
    if (error.kind() == TpmError::Kind::AuthFailed || error.kind() == TpmError::Kind::Lockout)
        qCInfo(lcAgent, "TPM user key in %s: %s", quoted(directory).c_str(), error.what());
    switch (error.kind()) {
    case TpmError::Kind::AuthFailed:
        throw UserKeyError(UserKeyError::Kind::WrongPin,
                           wrongPinMessage(attempts, "the TPM locks the key"), attempts);
    case TpmError::Kind::Lockout:
        throw UserKeyError(UserKeyError::Kind::LockedOut,
                           "PIN locked: the TPM refuses the key after too many wrong PINs; it "
                           "takes another attempt within " +
                               std::to_string(attempts.lockedOutFor.count()) + " s",
                           attempts);
    case TpmError::Kind::BadState:
        throw UserKeyError(UserKeyError::Kind::Corrupt, error.what());
    default:
        throwUnavailable(error);
    }
}

protocol::EcPublicKey publicKeyOf(const Bytes &publicArea, const fs::path &directory)
{
    const std::string file = quoted(directory / TpmUserKey::publicFileName);
    try {
        const TPM2B_PUBLIC parsed = attestation::unmarshalPublic(publicArea);
        if (const std::string problem = attestation::userKeyPublicProblem(parsed.publicArea);
            !problem.empty())
            throw UserKeyError(UserKeyError::Kind::Corrupt,
                               "user key file " + file + " does not hold a PIN-protected user " +
                                   "key (" + problem + "); enroll again with a recovery code");
        const auto &point = parsed.publicArea.unique.ecc;
        return protocol::EcPublicKey{
            attestation::p256Coordinate(point.x, "user key x", TpmError::Kind::BadState),
            attestation::p256Coordinate(point.y, "user key y", TpmError::Kind::BadState)};
    } catch (const TpmError &e) {
        throw UserKeyError(UserKeyError::Kind::Corrupt, "user key file " + file + " is corrupt (" +
                                                            e.what() +
                                                            "); enroll again with a recovery code");
    }
}

} // namespace

TpmUserKey::TpmUserKey(std::shared_ptr<Tpm> tpm, fs::path directory, TpmKeyBlobs blobs)
    : m_tpm(std::move(tpm)), m_directory(std::move(directory)), m_blobs(std::move(blobs)),
      m_publicKey(publicKeyOf(m_blobs.publicArea, m_directory))
{
}

std::unique_ptr<TpmUserKey> TpmUserKey::create(std::shared_ptr<Tpm> tpm, const fs::path &directory,
                                               const SecretBytes &pin)
{
    checkPinFormat(pin);
    TpmKeyBlobs blobs;
    try {
        const TpmObject srk = tpm->createStorageRootKey();
        blobs = tpm->createPinKey(srk, pin);
    } catch (const TpmError &e) {
        throwUnavailable(e);
    }
    try {
        // Private part first: until key.pub is replaced too, a crash leaves a pair that does
        // not load (the TPM checks that they belong together), never a usable old key.
        writePrivateFile(directory / privateFileName, blobs.privateArea, Replace::Allowed,
                         fileWhat);
        writePrivateFile(directory / publicFileName, blobs.publicArea, Replace::Allowed, fileWhat);
    } catch (const UserKeyError &) {
        throw;
    } catch (const KeyError &e) {
        throw UserKeyError(UserKeyError::Kind::Corrupt, e.what());
    }
    return std::unique_ptr<TpmUserKey>(new TpmUserKey(std::move(tpm), directory, std::move(blobs)));
}

std::unique_ptr<TpmUserKey> TpmUserKey::open(std::shared_ptr<Tpm> tpm, const fs::path &directory)
{
    TpmKeyBlobs blobs;
    try {
        blobs.publicArea = readPrivateFile(directory / publicFileName, maxBlobSize, fileWhat);
        blobs.privateArea = readPrivateFile(directory / privateFileName, maxBlobSize, fileWhat);
    } catch (const KeyError &e) {
        throw UserKeyError(UserKeyError::Kind::Corrupt, e.what());
    }
    return std::unique_ptr<TpmUserKey>(new TpmUserKey(std::move(tpm), directory, std::move(blobs)));
}

template <typename F> auto TpmUserKey::withLoadedKey(F &&operation)
{
    TpmObject srk;
    TpmObject key;
    try {
        srk = m_tpm->createStorageRootKey();
    } catch (const TpmError &e) {
        throwUnavailable(e);
    }
    try {
        key = m_tpm->loadKey(srk, m_blobs);
    } catch (const TpmError &e) {
        if (e.kind() != TpmError::Kind::Other && e.kind() != TpmError::Kind::BadState)
            throwUnavailable(e);
        throw UserKeyError(UserKeyError::Kind::Corrupt,
                           "the user key in " + quoted(m_directory) +
                               " does not load into this TPM (its files were altered, another "
                               "TPM made them, or this TPM was cleared); enroll again with a "
                               "recovery code. " +
                               e.what());
    }
    try {
        return operation(srk, key);
    } catch (const TpmError &e) {
        throwPinFailure(*m_tpm, e, m_directory);
    }
}

Bytes TpmUserKey::sign(std::span<const std::uint8_t> digest, const SecretBytes &pin)
{
    checkPinFormat(pin);
    std::lock_guard lock(m_mutex);
    return withLoadedKey([&](const TpmObject &srk, const TpmObject &key) {
        return m_tpm->signWithPin(key, pin, srk, digest);
    });
}

void TpmUserKey::changePin(const SecretBytes &oldPin, const SecretBytes &newPin)
{
    checkPinFormat(oldPin);
    checkPinFormat(newPin);
    std::lock_guard lock(m_mutex);
    Bytes privateArea = withLoadedKey([&](const TpmObject &srk, const TpmObject &key) {
        return m_tpm->changePin(key, srk, oldPin, newPin);
    });
    try {
        // The rename replaces the old blob: from here only the new PIN unlocks the key.
        writePrivateFile(m_directory / privateFileName, privateArea, Replace::Allowed, fileWhat);
    } catch (const KeyError &e) {
        throw UserKeyError(UserKeyError::Kind::Corrupt,
                           std::string("the PIN was changed in the TPM but the new key file "
                                       "cannot be written, so the old PIN still applies: ") +
                               e.what());
    }
    m_blobs.privateArea = std::move(privateArea);
}

PinAttempts TpmUserKey::attempts()
{
    try {
        return attemptsOf(m_tpm->dictionaryAttackState());
    } catch (const TpmError &e) {
        throwUnavailable(e);
    }
}

protocol::CertifyEvidence TpmUserKey::certify(const TpmObject &attestationKey,
                                              std::span<const std::uint8_t> qualifyingData,
                                              const SecretBytes &pin)
{
    checkPinFormat(pin);
    std::lock_guard lock(m_mutex);
    return withLoadedKey([&](const TpmObject &srk, const TpmObject &key) {
        return m_tpm->certifyWithPin(key, pin, srk, attestationKey, qualifyingData);
    });
}

} // namespace vigil::agent
