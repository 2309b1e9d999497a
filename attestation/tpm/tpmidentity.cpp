#include "attestation/tpm/tpmidentity.h"

#include "attestation/tpm/tpmerror.h"
#include "attestation/tpm/tpmlogging.h"
#include "core/privatefile.h"

namespace vigil::attestation {

namespace {

// For messages: "TPM key file '<dir>/ak.priv' has mode 0644, ...".
constexpr std::string_view keyFileWhat = "TPM key";
// Marshalled TPM2B_PUBLIC/TPM2B_PRIVATE are a few hundred bytes.
constexpr std::size_t tpmKeyFileMaxSize = 64 * 1024;

} // namespace

TpmIdentity::TpmIdentity(std::shared_ptr<Tpm> tpm, const std::filesystem::path &directory)
    : m_tpm(std::move(tpm))
{
    // The SRK is only needed to load (or create) the two keys; flushing it right after keeps
    // within the three transient slots a TPM without resource manager guarantees.
    const TpmObject storageRootKey = m_tpm->createStorageRootKey();
    m_attestationKey = loadOrCreate(storageRootKey, directory, "ak", attestationKeyTemplate());
    m_deviceKey = loadOrCreate(storageRootKey, directory, "devicekey", signingKeyTemplate());
}

TpmObject TpmIdentity::loadOrCreate(const TpmObject &storageRootKey,
                                    const std::filesystem::path &directory, const std::string &name,
                                    const TPM2B_PUBLIC &keyTemplate)
{
    const auto publicPath = directory / (name + ".pub");
    const auto privatePath = directory / (name + ".priv");
    std::error_code error;
    const bool hasPublic =
        std::filesystem::exists(std::filesystem::symlink_status(publicPath, error));
    const bool hasPrivate =
        std::filesystem::exists(std::filesystem::symlink_status(privatePath, error));

    if (!hasPublic && !hasPrivate) {
        const TpmKeyBlobs blobs = m_tpm->createKey(storageRootKey, keyTemplate);
        writePrivateFile(privatePath, blobs.privateArea, Replace::Allowed, keyFileWhat);
        writePrivateFile(publicPath, blobs.publicArea, Replace::Allowed, keyFileWhat);
        m_createdKeys = true;
        qCDebug(lcTpm, "created TPM key %s in %s", name.c_str(), directory.c_str());
        return m_tpm->loadKey(storageRootKey, blobs);
    }
    if (!hasPublic || !hasPrivate)
        throw TpmError(TpmError::Kind::BadState,
                       "incomplete TPM key in " + directory.string() + ": " +
                           (hasPublic ? privatePath : publicPath).string() +
                           " is missing; remove " +
                           (hasPublic ? publicPath : privatePath).string() +
                           " to create a new key (the device then has to enroll again)");
    TpmKeyBlobs blobs;
    try {
        blobs.publicArea = readPrivateFile(publicPath, tpmKeyFileMaxSize, keyFileWhat);
        blobs.privateArea = readPrivateFile(privatePath, tpmKeyFileMaxSize, keyFileWhat);
    } catch (const TpmError &) {
        throw;
    } catch (const KeyError &e) {
        throw TpmError(TpmError::Kind::BadState, e.what());
    }
    try {
        return m_tpm->loadKey(storageRootKey, blobs);
    } catch (const TpmError &e) {
        if (e.kind() == TpmError::Kind::BadState)
            throw TpmError(TpmError::Kind::BadState, "the TPM key files " + name +
                                                         ".pub/.priv in " + directory.string() +
                                                         " are corrupt (" + e.what() +
                                                         "); remove both to create a new "
                                                         "key and enroll again");
        if (e.kind() != TpmError::Kind::Other)
            throw;
        throw TpmError(TpmError::Kind::BadState,
                       "the TPM key in " + publicPath.string() +
                           " does not load into this TPM (it was made by another TPM, or this "
                           "TPM was cleared); remove " +
                           name + ".pub and " + name +
                           ".priv to create a new key and enroll again. " + e.what(),
                       e.rc());
    }
}

protocol::QuoteEvidence TpmIdentity::quote(std::span<const std::uint8_t> nonce,
                                           const std::vector<unsigned> &pcrs)
{
    return m_tpm->quote(m_attestationKey, nonce, pcrs);
}

protocol::CertifyEvidence
TpmIdentity::certifyDeviceKey(std::span<const std::uint8_t> qualifyingData)
{
    return m_tpm->certify(m_deviceKey, m_attestationKey, qualifyingData);
}

protocol::CertifyEvidence TpmIdentity::certify(const TpmObject &object,
                                               std::span<const std::uint8_t> qualifyingData)
{
    return m_tpm->certify(object, m_attestationKey, qualifyingData);
}

Bytes TpmIdentity::activateCredential(EkType endorsementKey,
                                      const protocol::CredentialChallenge &challenge)
{
    const TpmObject ek = m_tpm->createEndorsementKey(endorsementKey);
    return m_tpm->activateCredential(m_attestationKey, ek, challenge);
}

TpmSlotLease TpmIdentity::leaseDeviceKeySlot()
{
    if (m_tpm->hasResourceManager())
        return {};
    return m_tpm->leaseSlotOf(m_deviceKey);
}

Bytes TpmIdentity::signWithDeviceKey(std::span<const std::uint8_t> digest)
{
    return m_tpm->sign(m_deviceKey, digest);
}

} // namespace vigil::attestation
