#pragma once

#include "app/agent/mfa/userkey.h"
#include "attestation/tpm/tpm.h"

#include <filesystem>
#include <memory>
#include <mutex>

namespace vigil::agent {

// A user key in the TPM: its authValue is the PIN and it lacks noDA, so the TPM's
// dictionary-attack protection counts wrong PINs and locks out (Tpm::createPinKey). Its blobs
// are key.pub and key.priv in the user's state directory; they are useless outside this TPM.
// Every operation loads the key under a storage root key recreated from the owner seed and
// flushes both after, so nothing stays in the TPM between sign-ins.
//
// Each operation needs two transient slots (SRK and key) at once. Through the kernel's resource
// manager that is never a problem; on a TPM without one (swtpm, /dev/tpm0), which may have three
// slots, a process that holds a TpmIdentity (two) must lease the device key's slot around each
// operation: TpmIdentity::leaseDeviceKeySlot().
//
// The TPM's counter is the TPM's, not the key's: wrong authorizations of any DA-protected
// object (another user's PIN included) use up the same attempts.
class TpmUserKey final : public UserKey
{
public:
    static constexpr const char *publicFileName = "key.pub";
    static constexpr const char *privateFileName = "key.priv";

    // A new key that pin unlocks, its blobs written to directory (created 0700 if missing;
    // files 0600, each written atomically, an older key's replaced). Throws UserKeyError:
    // BadPin, Unavailable, Corrupt (the files cannot be written).
    static std::unique_ptr<TpmUserKey> create(std::shared_ptr<attestation::Tpm> tpm,
                                              const std::filesystem::path &directory,
                                              const SecretBytes &pin);
    // The key whose blobs are in directory. Throws UserKeyError(Corrupt) when a file is missing,
    // has the wrong owner or mode, is malformed, or is not a user key (noDA set, say); blobs
    // that do not load into this TPM are found at the first use.
    static std::unique_ptr<TpmUserKey> open(std::shared_ptr<attestation::Tpm> tpm,
                                            const std::filesystem::path &directory);

    protocol::Assurance assurance() const override { return protocol::Assurance::Tpm; }
    protocol::EcPublicKey publicKey() const override { return m_publicKey; }
    Bytes sign(std::span<const std::uint8_t> digest, const SecretBytes &pin) override;
    // TPM2_ObjectChangeAuth, then key.priv is replaced by the new blob. The old blob would
    // still work with the old PIN in this TPM: replacing the file is what retires it (a copy
    // kept elsewhere, a backup, would not be retired).
    void changePin(const SecretBytes &oldPin, const SecretBytes &newPin) override;
    PinAttempts attempts() override;

    // For enrollment (contract 5.9, "tpm"): the marshalled TPM2B_PUBLIC, and its TPM2_Certify
    // by the device's AK with the caller's qualifying data, authorized by the PIN (a wrong one
    // counts like any other).
    const Bytes &tpmPublic() const { return m_blobs.publicArea; }
    protocol::CertifyEvidence certify(const attestation::TpmObject &attestationKey,
                                      std::span<const std::uint8_t> qualifyingData,
                                      const SecretBytes &pin);

private:
    TpmUserKey(std::shared_ptr<attestation::Tpm> tpm, std::filesystem::path directory,
               attestation::TpmKeyBlobs blobs);
    // Loads the key under a new SRK and runs operation(srk, key); TpmErrors become
    // UserKeyErrors.
    template <typename F> auto withLoadedKey(F &&operation);

    // One operation at a time: changePin replaces the private blob the others load.
    std::mutex m_mutex;
    std::shared_ptr<attestation::Tpm> m_tpm;
    std::filesystem::path m_directory;
    attestation::TpmKeyBlobs m_blobs; // publicArea never changes
    protocol::EcPublicKey m_publicKey;
};

} // namespace vigil::agent
