#pragma once

#include "attestation/tpm/tpmerror.h"
#include "attestation/tpm/tpmtemplates.h"
#include "core/secretbytes.h"
#include "protocol/evidence.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tss2/tss2_esys.h>
#include <vector>

namespace vigil::attestation {

class Tpm;

// What `vigilctl tpm info` shows.
struct TpmInfo
{
    std::string manufacturer;    // TPM_PT_MANUFACTURER as its four ASCII characters, e.g. "IBM"
    std::string vendorString;    // TPM_PT_VENDOR_STRING_1..4
    std::string firmwareVersion; // e.g. "20191023.0.0.0" / "7.85.4555.0"
    std::string specification;   // e.g. "2.0 rev 1.64 (2019)"
    std::vector<std::string> pcrBanks; // banks with at least one PCR allocated, e.g. "sha256"
    bool inLockout = false;
    std::uint32_t lockoutCounter = 0;
    std::uint32_t maxAuthFail = 0;
    std::uint32_t lockoutInterval = 0; // seconds
    std::uint32_t lockoutRecovery = 0; // seconds
};

// The TPM's dictionary-attack protection (TPM 2.0 Part 1, "Dictionary Attack Protection"): each
// wrong authorization of an object without noDA raises `counter`; once it reaches `maxTries`
// the TPM refuses every such object (TPM_RC_LOCKOUT) until the counter falls, by one for each
// `recoveryTime` seconds the TPM is powered. The counter is the TPM's, shared by every key.
struct DictionaryAttackState
{
    bool inLockout = false;
    std::uint32_t counter = 0;         // TPM_PT_LOCKOUT_COUNTER
    std::uint32_t maxTries = 0;        // TPM_PT_MAX_AUTH_FAIL
    std::uint32_t recoveryTime = 0;    // TPM_PT_LOCKOUT_INTERVAL, seconds
    std::uint32_t lockoutRecovery = 0; // TPM_PT_LOCKOUT_RECOVERY, seconds (lockout hierarchy)

    // Wrong authorizations the TPM still takes before it locks out; 0 in lockout.
    std::uint32_t attemptsLeft() const
    {
        return inLockout || counter >= maxTries ? 0 : maxTries - counter;
    }
    // In lockout, at most how long until the TPM takes one attempt again: the TPM does not say
    // how far into the current interval it is, so this is the whole interval. 0 otherwise.
    std::uint32_t lockedOutForAtMostSeconds() const { return inLockout ? recoveryTime : 0; }
};

// A key's blobs as TPM2_Create returns them; the private part is encrypted by its parent and
// only usable inside the TPM that created it. Same byte format as tpm2-tools' -u/-r files.
struct TpmKeyBlobs
{
    Bytes publicArea;  // marshalled TPM2B_PUBLIC
    Bytes privateArea; // marshalled TPM2B_PRIVATE
};

// A transient object loaded in the TPM, flushed when this goes away. Must not outlive its Tpm,
// and must not be destroyed inside a Tpm method that holds its lock (flush() takes it).
class TpmObject
{
public:
    TpmObject() = default;
    TpmObject(Tpm *tpm, ESYS_TR handle, Bytes publicArea);
    ~TpmObject();
    TpmObject(TpmObject &&other) noexcept;
    TpmObject &operator=(TpmObject &&other) noexcept;

    ESYS_TR handle() const { return m_handle; }
    const Bytes &publicArea() const { return m_publicArea; } // marshalled TPM2B_PUBLIC
    explicit operator bool() const { return m_handle != ESYS_TR_NONE; }

private:
    friend class Tpm;
    friend class TpmSlotLease;
    Tpm *m_tpm = nullptr;
    ESYS_TR m_handle = ESYS_TR_NONE;
    Bytes m_publicArea;
};

// While a TpmSlotLease lives, its object is out of the TPM (TPM2_ContextSave, then flushed), so
// its transient slot is free; when the lease ends the object is loaded back (TPM2_ContextLoad)
// under a new handle, which its TpmObject follows. For a TPM without resource manager, which
// may have only three slots: an identity's two keys and a user key's SRK and key make four.
// The object must not be used, moved or destroyed while the lease lives. Should loading it back
// fail, that is logged and the object's operations throw from then on.
class TpmSlotLease
{
public:
    TpmSlotLease() = default; // frees nothing
    ~TpmSlotLease();
    TpmSlotLease(TpmSlotLease &&other) noexcept;
    TpmSlotLease &operator=(TpmSlotLease &&other) noexcept;

private:
    friend class Tpm;
    void restore() noexcept;

    Tpm *m_tpm = nullptr;
    TpmObject *m_object = nullptr;
    TPMS_CONTEXT m_context{};
};

// One ESYS context on one TCTI. Every operation is serialised by an internal mutex, so one
// Tpm can be shared between threads; objects and sessions it creates are always flushed.
//
// tss2 prints its own log of every failure unless TSS2_LOG says otherwise. A Tpm leaves the
// environment alone: setenv while another thread reads the environment is undefined behaviour
// (QtTest's watchdog thread crashed on it), so a program that wants tss2 quiet sets TSS2_LOG
// at the start of main, before it starts threads, as vigilctl does.
class Tpm
{
public:
    // tcti: "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321", "mssim:…", or "auto"
    // (the kernel resource manager /dev/tpmrm0). Throws TpmError: NoTpm, PermissionDenied (with
    // the tss-group fix), Failure, Other.
    explicit Tpm(const std::string &tcti = "auto");
    ~Tpm();
    Tpm(const Tpm &) = delete;
    Tpm &operator=(const Tpm &) = delete;

    const std::string &tcti() const { return m_tcti; }

    TpmInfo info();
    // NV index contents; nullopt when the index is not defined.
    std::optional<Bytes> readNv(TPM2_HANDLE index);
    // Number of transient objects currently loaded (all clients, if there is no resource
    // manager): lets tests and diagnostics prove nothing leaks.
    std::size_t loadedTransientObjects();

    TpmObject createEndorsementKey(EkType type);
    TpmObject createStorageRootKey();
    TpmKeyBlobs createKey(const TpmObject &parent, const TPM2B_PUBLIC &keyTemplate);
    TpmObject loadKey(const TpmObject &parent, const TpmKeyBlobs &blobs);

    // SHA-256 bank; any PCRs 0-23, read in as many TPM2_PCR_Read calls as needed.
    protocol::PcrValues readPcrs(const std::vector<unsigned> &pcrs);
    // TPM2_Quote by a restricted signing key with the nonce as qualifying data, and the PCR
    // values that produced its digest (re-read if a PCR was extended in between).
    protocol::QuoteEvidence quote(const TpmObject &attestationKey,
                                  std::span<const std::uint8_t> nonce,
                                  const std::vector<unsigned> &pcrs);
    protocol::CertifyEvidence certify(const TpmObject &object, const TpmObject &attestationKey,
                                      std::span<const std::uint8_t> qualifyingData);
    // TPM2_ActivateCredential with the EK authorized by PolicySecret(TPM_RH_ENDORSEMENT).
    Bytes activateCredential(const TpmObject &credentialKey, const TpmObject &endorsementKey,
                             const protocol::CredentialChallenge &challenge);
    // ECDSA over a 32-byte digest with a non-restricted key; raw r||s, each 32 bytes.
    Bytes sign(const TpmObject &key, std::span<const std::uint8_t> digest);

    // Keys whose authValue is a PIN (docs/mfa.md "User key"; implemented in tpmpin.cpp). The
    // PIN reaches the TPM only inside an HMAC session salted with saltKey (a loaded decrypt key:
    // the storage root key) and, where the command carries it as a parameter, encrypted with
    // AES-128-CFB; the TPM's dictionary-attack protection counts every wrong PIN. A wrong PIN
    // throws TpmError(AuthFailed) and, once the TPM locks out, TpmError(Lockout), both saying
    // how many attempts are left or how long the lockout lasts; no message contains the PIN.
    // A PIN is 6 to 32 bytes (the TPM takes at most the name algorithm's digest size).
    static constexpr std::size_t minPinSize = 6;
    static constexpr std::size_t maxPinSize = 32;

    // A new key from userKeyTemplate() under storageRootKey, which also salts the session.
    TpmKeyBlobs createPinKey(const TpmObject &storageRootKey, const SecretBytes &pin);
    // As sign(), with the key authorized by the PIN.
    Bytes signWithPin(const TpmObject &key, const SecretBytes &pin, const TpmObject &saltKey,
                      std::span<const std::uint8_t> digest);
    // TPM2_ObjectChangeAuth: the old PIN authorizes, the new one travels encrypted. Returns the
    // new marshalled TPM2B_PRIVATE; the public area does not change. The old private blob still
    // loads and still works with the old PIN in this TPM: the caller must replace (delete)
    // every copy of it, or the old PIN stays good.
    Bytes changePin(const TpmObject &key, const TpmObject &parent, const SecretBytes &oldPin,
                    const SecretBytes &newPin);
    // TPM2_Certify of a PIN key by an attestation key: certifying uses the key (admin role), so
    // it takes the PIN like signing does and a wrong one counts the same.
    protocol::CertifyEvidence certifyWithPin(const TpmObject &key, const SecretBytes &pin,
                                             const TpmObject &saltKey,
                                             const TpmObject &attestationKey,
                                             std::span<const std::uint8_t> qualifyingData);
    DictionaryAttackState dictionaryAttackState();

    // True when the TCTI is the kernel's resource manager (/dev/tpmrm*), which swaps objects in
    // and out itself, so that slots never run out.
    bool hasResourceManager() const { return m_tcti.starts_with("device:/dev/tpmrm"); }
    // Frees object's transient slot for the lease's lifetime (see TpmSlotLease).
    TpmSlotLease leaseSlotOf(TpmObject &object);

private:
    friend class TpmObject;
    friend class TpmSlotLease;
    void flush(ESYS_TR handle);
    TpmObject createPrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC &keyTemplate, const char *what);
    protocol::PcrValues readPcrsLocked(const std::vector<unsigned> &pcrs);
    // Every TPM property of a group (TPM2_PT_FIXED, TPM2_PT_VAR).
    std::map<TPM2_PT, std::uint32_t> readPropertiesLocked(TPM2_PT group);
    DictionaryAttackState dictionaryAttackStateLocked();
    // The error for a failed PIN operation: AuthFailed and Lockout carry the DA state.
    TpmError pinError(std::string_view operation, TSS2_RC rc);

    std::mutex m_mutex;
    std::string m_tcti;
    TSS2_TCTI_CONTEXT *m_tctiContext = nullptr;
    ESYS_CONTEXT *m_context = nullptr;
};

// Marshalling helpers shared by the TPM code.
Bytes marshalPublic(const TPM2B_PUBLIC &publicArea);
TPM2B_PUBLIC unmarshalPublic(const Bytes &bytes); // throws TpmError(BadState) if malformed
// An ECC coordinate or ECDSA component left-padded to the 32 bytes JOSE uses for P-256; throws
// TpmError of the given kind naming `what` if it is longer.
Bytes p256Coordinate(const TPM2B_ECC_PARAMETER &value, const char *what,
                     TpmError::Kind kind = TpmError::Kind::Other);

} // namespace vigil::attestation
