#include "app/agent/mfa/softwareuserkey.h"

#include "app/agent/agentlogging.h"
#include "core/privatefile.h"
#include "core/text.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"

#include <algorithm>
#include <cerrno>
#include <openssl/x509.h>

namespace vigil::agent {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

constexpr std::string_view fileWhat = "software user key";
constexpr std::size_t maxFileSize = 16 * 1024;

using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, OpenSslDeleter<PKCS8_PRIV_KEY_INFO_free>>;

SecretBytes pkcs8Of(EVP_PKEY *key)
{
    // PKCS8_PRIV_KEY_INFO_free clears the private key octets it holds.
    const Pkcs8Ptr info(EVP_PKEY2PKCS8(key));
    const int size = info ? i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr) : -1;
    if (size <= 0)
        throw KeyError("cannot encode the user key as PKCS#8: " + openSslError());
    SecretBytes der = SecretBytes::zeroed(std::size_t(size));
    unsigned char *out = der.data();
    if (i2d_PKCS8_PRIV_KEY_INFO(info.get(), &out) != size)
        throw KeyError("cannot encode the user key as PKCS#8: " + openSslError());
    return der;
}

EvpPkeyPtr keyOf(const SecretBytes &der, const std::string &file)
{
    const unsigned char *in = der.data();
    const Pkcs8Ptr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &in, long(der.size())));
    EvpPkeyPtr key(info && in == der.data() + der.size() ? EVP_PKCS82PKEY(info.get()) : nullptr);
    if (!key)
        throw UserKeyError(UserKeyError::Kind::Corrupt,
                           "software user key file " + file +
                               " unseals to something that is not a PKCS#8 private key");
    return key;
}

Bytes signDigest(EVP_PKEY *key, std::span<const std::uint8_t> digest)
{
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    std::size_t size = 0;
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0 ||
        EVP_PKEY_sign(ctx.get(), nullptr, &size, digest.data(), digest.size()) <= 0)
        throw KeyError("cannot sign with the user key: " + openSslError());
    Bytes der(size);
    if (EVP_PKEY_sign(ctx.get(), der.data(), &size, digest.data(), digest.size()) <= 0)
        throw KeyError("cannot sign with the user key: " + openSslError());
    der.resize(size);
    return protocol::ecdsaDerToRaw(der);
}

std::int64_t millisecondsOf(system_clock::time_point time)
{
    return std::max<std::int64_t>(0, duration_cast<milliseconds>(time.time_since_epoch()).count());
}

} // namespace

SoftwareUserKey::SoftwareUserKey(fs::path path, const Clock &clock, Options options,
                                 protocol::EcPublicKey publicKey)
    : m_path(std::move(path)), m_clock(clock), m_options(std::move(options)),
      m_publicKey(std::move(publicKey))
{
}

std::unique_ptr<SoftwareUserKey> SoftwareUserKey::create(const fs::path &directory,
                                                         const SecretBytes &pin, const Clock &clock,
                                                         Options options)
{
    checkPinFormat(pin);
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        throw KeyError("cannot generate an EC P-256 key: " + openSslError());
    const protocol::EcPublicKey publicKey = protocol::fromEvpPkey(key.get());
    const SealedKey sealed = sealKey(pkcs8Of(key.get()), pin, publicKey, options.derive);
    std::unique_ptr<SoftwareUserKey> userKey(
        new SoftwareUserKey(directory / fileName, clock, std::move(options), publicKey));
    userKey->write(sealed);
    return userKey;
}

std::unique_ptr<SoftwareUserKey> SoftwareUserKey::open(const fs::path &directory,
                                                       const Clock &clock, Options options)
{
    std::unique_ptr<SoftwareUserKey> userKey(
        new SoftwareUserKey(directory / fileName, clock, std::move(options), {}));
    userKey->m_publicKey = userKey->read().publicKey;
    return userKey;
}

SealedKey SoftwareUserKey::read() const
{
    Bytes text;
    try {
        text = readPrivateFile(m_path, maxFileSize, fileWhat);
    } catch (const KeyError &e) {
        throw UserKeyError(UserKeyError::Kind::Corrupt, e.what());
    }
    return parseSealedKey(
        std::string_view(reinterpret_cast<const char *>(text.data()), text.size()), quoted(m_path));
}

void SoftwareUserKey::write(const SealedKey &key) const
{
    const std::string text = serializeSealedKey(key);
    try {
        writePrivateFile(
            m_path, std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()),
            Replace::Allowed, fileWhat);
    } catch (const KeyError &e) {
        throw UserKeyError(UserKeyError::Kind::Corrupt, e.what());
    }
}

PinAttempts SoftwareUserKey::attemptsAt(const SealedKey &key, system_clock::time_point now) const
{
    PinAttempts attempts;
    if (key.failures >= maxFailures) {
        attempts.attemptsLeft = 0;
        attempts.locked = true;
        return attempts;
    }
    attempts.attemptsLeft = maxFailures - key.failures;
    if (key.failures >= freeAttempts) {
        const milliseconds delay = seconds(1ll << (key.failures - freeAttempts));
        const milliseconds elapsed = milliseconds(millisecondsOf(now) - key.lastAttemptMs);
        // A clock set back (elapsed < 0) waits at most one whole delay, never longer.
        const milliseconds remaining = std::min(delay, delay - elapsed);
        if (remaining > milliseconds(0))
            attempts.lockedOutFor = std::chrono::ceil<seconds>(remaining);
    }
    return attempts;
}

PinAttempts SoftwareUserKey::attempts()
{
    std::lock_guard lock(m_mutex);
    return attemptsAt(read(), m_clock.now());
}

SecretBytes SoftwareUserKey::unlock(const SecretBytes &pin, SealedKey &state)
{
    checkPinFormat(pin);
    state = read();
    const system_clock::time_point now = m_clock.now();
    const PinAttempts before = attemptsAt(state, now);
    if (before.locked || before.lockedOutFor.count() > 0)
        qCInfo(lcAgent, "software user key %s: attempt refused, %u wrong PINs in a row",
               quoted(m_path).c_str(), unsigned(state.failures));
    if (before.locked)
        throw UserKeyError(UserKeyError::Kind::Locked,
                           "PIN locked: after " + std::to_string(maxFailures) +
                               " wrong PINs the software user key is locked for good; a "
                               "recovery code or a new invite replaces it",
                           before);
    if (before.lockedOutFor.count() > 0)
        throw UserKeyError(UserKeyError::Kind::LockedOut,
                           "PIN locked for " + std::to_string(before.lockedOutFor.count()) +
                               " s more after repeated wrong PINs",
                           before);

    // Counted first, on disk: whatever happens while the PIN is tried, it was an attempt.
    ++state.failures;
    state.lastAttemptMs = millisecondsOf(now);
    write(state);

    std::optional<SecretBytes> pkcs8 = unsealKey(state, pin, m_options.derive);
    if (!pkcs8) {
        const PinAttempts after = attemptsAt(state, now);
        qCInfo(lcAgent, "software user key %s: wrong PIN, %u in a row (locked at %u)",
               quoted(m_path).c_str(), unsigned(state.failures), unsigned(maxFailures));
        throw UserKeyError(UserKeyError::Kind::WrongPin,
                           wrongPinMessage(after, "the key is locked"), after);
    }
    state.failures = 0;
    state.lastAttemptMs = 0;
    write(state);
    return std::move(*pkcs8);
}

Bytes SoftwareUserKey::sign(std::span<const std::uint8_t> digest, const SecretBytes &pin)
{
    if (digest.size() != 32)
        throw KeyError("digest to sign is " + std::to_string(digest.size()) +
                       " bytes; ES256 signs a 32-byte SHA-256 digest");
    std::lock_guard lock(m_mutex);
    SealedKey state;
    const SecretBytes pkcs8 = unlock(pin, state);
    const EvpPkeyPtr key = keyOf(pkcs8, quoted(m_path));
    // The public key in the file is outside the ciphertext: it must be this key's.
    const protocol::EcPublicKey actual = protocol::fromEvpPkey(key.get());
    if (actual.x != state.publicKey.x || actual.y != state.publicKey.y ||
        actual.x != m_publicKey.x || actual.y != m_publicKey.y)
        throw UserKeyError(UserKeyError::Kind::Corrupt,
                           "software user key file " + quoted(m_path) +
                               " names a public key that is not its private key's");
    return signDigest(key.get(), digest);
}

void SoftwareUserKey::changePin(const SecretBytes &oldPin, const SecretBytes &newPin)
{
    checkPinFormat(newPin);
    std::lock_guard lock(m_mutex);
    SealedKey state;
    const SecretBytes pkcs8 = unlock(oldPin, state);
    keyOf(pkcs8, quoted(m_path)); // refuse to re-seal something that is not a key
    write(sealKey(pkcs8, newPin, state.publicKey, m_options.derive));
}

} // namespace vigil::agent
