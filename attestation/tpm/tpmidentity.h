#pragma once

#include "attestation/tpm/tpm.h"

#include <filesystem>
#include <memory>

namespace vigil::attestation {

// This device's keys in its TPM: the attestation key (AK) and the device key, both under a
// storage root key that is recreated from the owner seed, so Vigil takes no persistent handle.
// Their blobs live in a state directory (mode 0600 files) and are loaded once; both stay
// loaded while this object lives, which costs two transient slots and nothing per operation.
class TpmIdentity
{
public:
    // Loads <directory>/{ak,devicekey}.{pub,priv}, creating (and storing) a key whose two files
    // are both absent. Throws TpmError(BadState) when only one file of a key exists, a file's
    // mode or owner is wrong, or the blobs do not load into this TPM (another TPM, or cleared).
    TpmIdentity(std::shared_ptr<Tpm> tpm, const std::filesystem::path &directory);

    Tpm &tpm() { return *m_tpm; }
    const Bytes &attestationKeyPublic() const { return m_attestationKey.publicArea(); }
    const Bytes &deviceKeyPublic() const { return m_deviceKey.publicArea(); }
    bool createdKeys() const { return m_createdKeys; }
    // The loaded AK, for certifications that need more than certify() gives (a user key's
    // certification is authorized by its PIN: Tpm::certifyWithPin).
    const TpmObject &attestationKey() const { return m_attestationKey; }
    // On a TPM without resource manager (swtpm, /dev/tpm0), frees the device key's slot while
    // the lease lives, so that a user key (SRK + key) fits beside the AK; the device key must
    // not sign meanwhile. With a resource manager it frees nothing: none is needed.
    TpmSlotLease leaseDeviceKeySlot();

    protocol::QuoteEvidence quote(std::span<const std::uint8_t> nonce,
                                  const std::vector<unsigned> &pcrs);
    protocol::CertifyEvidence certifyDeviceKey(std::span<const std::uint8_t> qualifyingData);
    protocol::CertifyEvidence certify(const TpmObject &object,
                                      std::span<const std::uint8_t> qualifyingData);
    // Answers a verifier's MakeCredential challenge made for this AK and the given EK.
    Bytes activateCredential(EkType endorsementKey, const protocol::CredentialChallenge &challenge);
    Bytes signWithDeviceKey(std::span<const std::uint8_t> digest);

private:
    TpmObject loadOrCreate(const TpmObject &storageRootKey, const std::filesystem::path &directory,
                           const std::string &name, const TPM2B_PUBLIC &keyTemplate);

    std::shared_ptr<Tpm> m_tpm;
    TpmObject m_attestationKey;
    TpmObject m_deviceKey;
    bool m_createdKeys = false;
};

} // namespace vigil::attestation
