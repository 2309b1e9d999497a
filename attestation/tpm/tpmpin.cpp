// Tpm's operations on keys whose authValue is a PIN (docs/mfa.md "User key", "PIN").
//
// The PIN must never cross the bus in clear, where an interposer on the LPC/SPI lines could read
// it. So every command that uses the key is authorized by an HMAC session (the TPM sees an HMAC
// keyed with the session key and the PIN, never the PIN), the session is salted with the storage
// root key (its session key comes from an ECDH exchange with that key, so an observer of the bus
// cannot compute it), and the commands that carry a PIN as a parameter (TPM2_Create's
// inSensitive, TPM2_ObjectChangeAuth's newAuth) encrypt it with AES-128-CFB under that session.
//
// Copies of the PIN this file makes (the TPM2B structures, ESYS's copy of an object's
// authValue) are wiped once the command is done; ESYS's marshalled command holds only the
// encrypted parameter. Out of reach: the HMAC key ESYS computes for the session (session key
// followed by the authValue) lives in its session state until the session is flushed, right
// after the command, and ESYS frees that memory without wiping it.
//
// tss2 logs that HMAC key, the session key and the salt at debug and trace level ("IESYS KDFa
// hmac key"); so no PIN operation runs while TSS2_LOG asks for either.

#include "attestation/tpm/esyshandle.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmmarshal.h"
#include "core/text.h"

#include <cstdlib>
#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>

namespace vigil::attestation {

namespace {

// A TPM structure that held a PIN, wiped when it goes out of scope.
template <typename T> struct Wiped
{
    T value{};
    Wiped() = default;
    ~Wiped() { OPENSSL_cleanse(&value, sizeof value); }
    Wiped(const Wiped &) = delete;
    Wiped &operator=(const Wiped &) = delete;
};

// TSS2_LOG is "module+level" pairs separated by commas ("all+NONE", "esys+trace,tcti+error").
void refuseVerboseTss2Log()
{
    const char *value = std::getenv("TSS2_LOG");
    std::string text = value ? value : "";
    for (char &c : text)
        c = asciiLower(c);
    if (text.find("+debug") != std::string::npos || text.find("+trace") != std::string::npos)
        throw TpmError(TpmError::Kind::Other,
                       "refusing to use a PIN while TSS2_LOG asks tss2 to log at debug or trace "
                       "level, where it writes secrets derived from the PIN; unset TSS2_LOG or "
                       "set it to all+NONE");
}

// Whether pin may be sent now: the log is quiet enough and the PIN's size is one the TPM takes.
void checkPinUse(const SecretBytes &pin)
{
    refuseVerboseTss2Log();
    // The size only, never the value: an error message must not narrow the PIN down.
    if (pin.size() < Tpm::minPinSize || pin.size() > Tpm::maxPinSize)
        throw TpmError(TpmError::Kind::Other, "a PIN must be " + std::to_string(Tpm::minPinSize) +
                                                  " to " + std::to_string(Tpm::maxPinSize) +
                                                  " bytes long");
}

void copyPin(const SecretBytes &pin, TPM2B_AUTH &auth)
{
    static_assert(sizeof auth.buffer >= Tpm::maxPinSize);
    auth.size = static_cast<UINT16>(pin.size());
    std::copy(pin.span().begin(), pin.span().end(), auth.buffer);
}

// ESYS keeps an object's authValue to compute the session HMACs; this sets it for one command
// and overwrites ESYS's copy with an empty one afterwards.
class ObjectAuth
{
public:
    ObjectAuth(ESYS_CONTEXT *context, ESYS_TR object, const SecretBytes &pin)
        : m_context(context), m_object(object)
    {
        Wiped<TPM2B_AUTH> auth;
        copyPin(pin, auth.value);
        checkRc("set the key's authorization", Esys_TR_SetAuth(m_context, m_object, &auth.value));
    }
    ~ObjectAuth()
    {
        const TPM2B_AUTH empty{};
        Esys_TR_SetAuth(m_context, m_object, &empty);
    }
    ObjectAuth(const ObjectAuth &) = delete;
    ObjectAuth &operator=(const ObjectAuth &) = delete;

private:
    ESYS_CONTEXT *m_context;
    ESYS_TR m_object;
};

// An unbound HMAC session salted with saltKey, SHA-256, AES-128-CFB for parameter encryption.
// attributes say which parameters this command encrypts (DECRYPT: the command's first,
// ENCRYPT: the response's first; each only where that parameter is a TPM2B).
EsysHandle startSaltedSession(ESYS_CONTEXT *context, ESYS_TR saltKey, TPMA_SESSION attributes)
{
    TPMT_SYM_DEF aes{};
    aes.algorithm = TPM2_ALG_AES;
    aes.keyBits.aes = 128;
    aes.mode.aes = TPM2_ALG_CFB;
    ESYS_TR raw = ESYS_TR_NONE;
    checkRc("start a salted session",
            Esys_StartAuthSession(context, saltKey, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  ESYS_TR_NONE, nullptr, TPM2_SE_HMAC, &aes, TPM2_ALG_SHA256,
                                  &raw));
    EsysHandle session(context, raw, EsysHandle::Release::Flush);
    // continueSession: the session outlives the command whatever its outcome, so that the
    // EsysHandle always has a session to flush.
    checkRc(
        "set the session's attributes",
        Esys_TRSess_SetAttributes(context, raw, attributes | TPMA_SESSION_CONTINUESESSION, 0xff));
    return session;
}

constexpr TPMA_SESSION encryptBoth = TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT;

} // namespace

DictionaryAttackState Tpm::dictionaryAttackState()
{
    std::lock_guard lock(m_mutex);
    return dictionaryAttackStateLocked();
}

DictionaryAttackState Tpm::dictionaryAttackStateLocked()
{
    const auto properties = readPropertiesLocked(TPM2_PT_VAR);
    const auto property = [&](TPM2_PT pt) {
        const auto it = properties.find(pt);
        return it == properties.end() ? 0u : it->second;
    };
    DictionaryAttackState state;
    state.inLockout = (property(TPM2_PT_PERMANENT) & TPMA_PERMANENT_INLOCKOUT) != 0;
    state.counter = property(TPM2_PT_LOCKOUT_COUNTER);
    state.maxTries = property(TPM2_PT_MAX_AUTH_FAIL);
    state.recoveryTime = property(TPM2_PT_LOCKOUT_INTERVAL);
    state.lockoutRecovery = property(TPM2_PT_LOCKOUT_RECOVERY);
    return state;
}

TpmError Tpm::pinError(std::string_view operation, TSS2_RC rc)
{
    TpmError error = TpmError::fromRc(operation, rc);
    if (error.kind() != TpmError::Kind::AuthFailed && error.kind() != TpmError::Kind::Lockout)
        return error;
    DictionaryAttackState state;
    try {
        state = dictionaryAttackStateLocked();
    } catch (const TpmError &) {
        return error; // the first failure is the one to report
    }
    const std::string counter = " (the TPM's dictionary-attack counter is " +
                                std::to_string(state.counter) + " of " +
                                std::to_string(state.maxTries) + ")";
    if (error.kind() == TpmError::Kind::AuthFailed) {
        const std::uint32_t left = state.attemptsLeft();
        return TpmError(TpmError::Kind::AuthFailed,
                        std::string(operation) + ": wrong PIN; " +
                            (left == 0
                                 ? std::string("the TPM now refuses further attempts")
                                 : std::to_string(left) + (left == 1 ? " attempt" : " attempts") +
                                       " left before the TPM locks out") +
                            counter,
                        rc);
    }
    return TpmError(TpmError::Kind::Lockout,
                    std::string(operation) +
                        ": the TPM is in dictionary-attack lockout after too many wrong PINs; it "
                        "takes another attempt within " +
                        std::to_string(state.lockedOutForAtMostSeconds()) +
                        " s (an administrator can end the lockout with the lockout "
                        "authorization: tpm2_dictionarylockout --clear-lockout)" +
                        counter,
                    rc);
}

TpmKeyBlobs Tpm::createPinKey(const TpmObject &storageRootKey, const SecretBytes &pin)
{
    checkPinUse(pin);
    Wiped<TPM2B_SENSITIVE_CREATE> sensitive;
    copyPin(pin, sensitive.value.sensitive.userAuth);
    const TPM2B_PUBLIC keyTemplate = userKeyTemplate();
    const TPM2B_DATA outsideInfo{};
    const TPML_PCR_SELECTION creationPcrs{};

    std::lock_guard lock(m_mutex);
    const EsysHandle session = startSaltedSession(m_context, storageRootKey.handle(), encryptBoth);
    EsysPtr<TPM2B_PRIVATE> privateArea;
    EsysPtr<TPM2B_PUBLIC> publicArea;
    checkRc("create the user key",
            Esys_Create(m_context, storageRootKey.handle(), session.get(), ESYS_TR_NONE,
                        ESYS_TR_NONE, &sensitive.value, &keyTemplate, &outsideInfo, &creationPcrs,
                        out(privateArea), out(publicArea), nullptr, nullptr, nullptr));
    return TpmKeyBlobs{
        marshalPublic(*publicArea),
        detail::marshalled(*privateArea, Tss2_MU_TPM2B_PRIVATE_Marshal, "TPM2B_PRIVATE")};
}

Bytes Tpm::signWithPin(const TpmObject &key, const SecretBytes &pin, const TpmObject &saltKey,
                       std::span<const std::uint8_t> digest)
{
    checkPinUse(pin);
    const detail::EcdsaSignInputs inputs = detail::ecdsaSignInputs(digest);
    std::lock_guard lock(m_mutex);
    // No parameter encryption: the digest is no secret, and the response's first parameter (a
    // TPMT_SIGNATURE) is not a TPM2B, which the TPM refuses to encrypt.
    const EsysHandle session = startSaltedSession(m_context, saltKey.handle(), 0);
    const ObjectAuth auth(m_context, key.handle(), pin);
    EsysPtr<TPMT_SIGNATURE> signature;
    const TSS2_RC rc =
        Esys_Sign(m_context, key.handle(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                  &inputs.digest, &inputs.scheme, &inputs.validation, out(signature));
    if (rc != TSS2_RC_SUCCESS)
        throw pinError("sign with the user key", rc);
    return detail::rawEcdsaSignature(*signature);
}

Bytes Tpm::changePin(const TpmObject &key, const TpmObject &parent, const SecretBytes &oldPin,
                     const SecretBytes &newPin)
{
    checkPinUse(oldPin);
    checkPinUse(newPin);
    Wiped<TPM2B_AUTH> newAuth;
    copyPin(newPin, newAuth.value);
    std::lock_guard lock(m_mutex);
    const EsysHandle session = startSaltedSession(m_context, parent.handle(), encryptBoth);
    const ObjectAuth auth(m_context, key.handle(), oldPin);
    EsysPtr<TPM2B_PRIVATE> privateArea;
    const TSS2_RC rc =
        Esys_ObjectChangeAuth(m_context, key.handle(), parent.handle(), session.get(), ESYS_TR_NONE,
                              ESYS_TR_NONE, &newAuth.value, out(privateArea));
    if (rc != TSS2_RC_SUCCESS)
        throw pinError("change the user key's PIN", rc);
    return detail::marshalled(*privateArea, Tss2_MU_TPM2B_PRIVATE_Marshal, "TPM2B_PRIVATE");
}

protocol::CertifyEvidence Tpm::certifyWithPin(const TpmObject &key, const SecretBytes &pin,
                                              const TpmObject &saltKey,
                                              const TpmObject &attestationKey,
                                              std::span<const std::uint8_t> qualifyingData)
{
    checkPinUse(pin);
    const TPM2B_DATA qualifying =
        detail::tpm2bFrom<TPM2B_DATA>(qualifyingData, "the qualifying data");
    const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL, .details = {}};
    std::lock_guard lock(m_mutex);
    const EsysHandle session = startSaltedSession(m_context, saltKey.handle(), 0);
    const ObjectAuth auth(m_context, key.handle(), pin);
    EsysPtr<TPM2B_ATTEST> certified;
    EsysPtr<TPMT_SIGNATURE> signature;
    const TSS2_RC rc = Esys_Certify(m_context, key.handle(), attestationKey.handle(), session.get(),
                                    ESYS_TR_PASSWORD, ESYS_TR_NONE, &qualifying, &scheme,
                                    out(certified), out(signature));
    if (rc != TSS2_RC_SUCCESS)
        throw pinError("certify the user key", rc);
    return protocol::CertifyEvidence{
        detail::bytesOf(*certified),
        detail::marshalled(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE")};
}

} // namespace vigil::attestation
