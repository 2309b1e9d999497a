#include "attestation/tpm/tpm.h"

#include "attestation/tpm/esyshandle.h"
#include "attestation/tpm/tpmerror.h"
#include "attestation/tpm/tpmlogging.h"
#include "attestation/tpm/tpmmarshal.h"
#include "attestation/tpmalgorithm.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

namespace vigil::attestation {

using detail::bytesOf;
using detail::marshalled;
using detail::tpm2bFrom;
using detail::unmarshalExactly;

namespace {

constexpr const char *kernelResourceManager = "/dev/tpmrm0";
constexpr int quoteAttempts = 3;

// Checks that the device node can be opened before tss2 tries, because tss2's own message for
// EACCES does not say what to do about it.
void probeDevice(const std::string &path)
{
    const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return;
    }
    const int error = errno;
    if (error == ENOENT || error == ENODEV || error == ENXIO)
        throw TpmError(TpmError::Kind::NoTpm,
                       "no TPM: " + path +
                           " does not exist (no TPM 2.0 in this machine, TPM "
                           "disabled in the firmware setup, or its driver is not "
                           "loaded)");
    if (error == EACCES || error == EPERM)
        throw TpmError(TpmError::Kind::PermissionDenied,
                       "permission denied opening " + path +
                           ": add this user to the 'tss' group (usermod -aG tss <user>, then log "
                           "in again) or run as root");
    if (error == EBUSY)
        throw TpmError(TpmError::Kind::Other,
                       path + " is in use by another program; use the resource manager "
                              "device:/dev/tpmrm0");
    throw TpmError(TpmError::Kind::Other, "cannot open " + path + ": " + std::strerror(error));
}

std::string resolveTcti(const std::string &tcti)
{
    if (tcti == "auto" || tcti.empty()) {
        probeDevice(kernelResourceManager);
        return std::string("device:") + kernelResourceManager;
    }
    if (tcti.starts_with("device:")) {
        std::string path = tcti.substr(7);
        probeDevice(path.empty() ? std::string("/dev/tpm0") : path);
    } else if (tcti == "device") {
        probeDevice("/dev/tpm0");
    }
    return tcti;
}

std::string fourChars(std::uint32_t value)
{
    std::string text;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const char c = static_cast<char>(value >> shift & 0xff);
        if (c >= 0x20 && c < 0x7f)
            text.push_back(c);
    }
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    return text;
}

TPML_PCR_SELECTION sha256Selection(const std::vector<unsigned> &pcrs)
{
    TPML_PCR_SELECTION selection{};
    selection.count = 1;
    selection.pcrSelections[0].hash = TPM2_ALG_SHA256;
    selection.pcrSelections[0].sizeofSelect = 3;
    for (unsigned pcr : pcrs) {
        if (pcr > 23)
            throw TpmError(TpmError::Kind::Other,
                           "PCR " + std::to_string(pcr) + " does not exist (PCRs are 0-23)");
        selection.pcrSelections[0].pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
    }
    return selection;
}

} // namespace

Bytes marshalPublic(const TPM2B_PUBLIC &publicArea)
{
    return marshalled(publicArea, Tss2_MU_TPM2B_PUBLIC_Marshal, "TPM2B_PUBLIC");
}

Bytes p256Coordinate(const TPM2B_ECC_PARAMETER &value, const char *what, TpmError::Kind kind)
{
    // The TPM returns minimal-length integers; JOSE wants each P-256 value as exactly 32 bytes.
    if (value.size > 32)
        throw TpmError(kind, std::string(what) + " is longer than a P-256 value (" +
                                 std::to_string(value.size) + " bytes)");
    Bytes padded(32 - value.size, 0);
    padded.insert(padded.end(), value.buffer, value.buffer + value.size);
    return padded;
}

TPM2B_PUBLIC unmarshalPublic(const Bytes &bytes)
{
    return unmarshalExactly<TPM2B_PUBLIC>(bytes, Tss2_MU_TPM2B_PUBLIC_Unmarshal, "TPM2B_PUBLIC");
}

TpmObject::TpmObject(Tpm *tpm, ESYS_TR handle, Bytes publicArea)
    : m_tpm(tpm), m_handle(handle), m_publicArea(std::move(publicArea))
{
}

TpmObject::~TpmObject()
{
    if (m_tpm && m_handle != ESYS_TR_NONE)
        m_tpm->flush(m_handle);
}

TpmObject::TpmObject(TpmObject &&other) noexcept
{
    *this = std::move(other);
}

TpmObject &TpmObject::operator=(TpmObject &&other) noexcept
{
    if (this != &other) {
        if (m_tpm && m_handle != ESYS_TR_NONE)
            m_tpm->flush(m_handle);
        m_tpm = std::exchange(other.m_tpm, nullptr);
        m_handle = std::exchange(other.m_handle, ESYS_TR_NONE);
        m_publicArea = std::move(other.m_publicArea);
    }
    return *this;
}

Tpm::Tpm(const std::string &tcti)
{
    m_tcti = resolveTcti(tcti);
    checkRc("open TCTI \"" + m_tcti + "\"",
            Tss2_TctiLdr_Initialize(m_tcti.c_str(), &m_tctiContext));
    const TSS2_RC rc = Esys_Initialize(&m_context, m_tctiContext, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
        Tss2_TctiLdr_Finalize(&m_tctiContext);
        throw TpmError::fromRc("initialize ESYS on \"" + m_tcti + "\"", rc);
    }
    // A kernel device is started by the firmware; a simulator may need TPM2_Startup.
    if (!m_tcti.starts_with("device")) {
        const TSS2_RC startup = Esys_Startup(m_context, TPM2_SU_CLEAR);
        if (startup != TSS2_RC_SUCCESS && tpmResponseCode(startup) != TPM2_RC_INITIALIZE) {
            Esys_Finalize(&m_context);
            Tss2_TctiLdr_Finalize(&m_tctiContext);
            throw TpmError::fromRc("TPM2_Startup on \"" + m_tcti + "\"", startup);
        }
    }
    qCDebug(lcTpm, "opened TCTI \"%s\"", m_tcti.c_str());
}

Tpm::~Tpm()
{
    Esys_Finalize(&m_context);
    Tss2_TctiLdr_Finalize(&m_tctiContext);
}

void Tpm::flush(ESYS_TR handle)
{
    std::lock_guard lock(m_mutex);
    // Runs in destructors, which can't throw: without this a failure would leave no trace of
    // the transient slot it keeps taken.
    if (const TSS2_RC rc = Esys_FlushContext(m_context, handle); rc != TSS2_RC_SUCCESS)
        qCWarning(lcTpm, "%s", TpmError::fromRc("flush a transient object", rc).what());
}

std::map<TPM2_PT, std::uint32_t> Tpm::readPropertiesLocked(TPM2_PT group)
{
    std::map<TPM2_PT, std::uint32_t> properties;
    TPM2_PT next = group;
    TPMI_YES_NO more = TPM2_YES;
    while (more == TPM2_YES) {
        EsysPtr<TPMS_CAPABILITY_DATA> data;
        checkRc("read TPM properties",
                Esys_GetCapability(m_context, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   TPM2_CAP_TPM_PROPERTIES, next, TPM2_MAX_TPM_PROPERTIES, &more,
                                   out(data)));
        const auto &list = data->data.tpmProperties;
        if (list.count == 0)
            break;
        for (UINT32 i = 0; i < list.count; ++i)
            properties[list.tpmProperty[i].property] = list.tpmProperty[i].value;
        next = list.tpmProperty[list.count - 1].property + 1;
        if (next >= group + TPM2_PT_GROUP)
            break;
    }
    return properties;
}

TpmInfo Tpm::info()
{
    std::lock_guard lock(m_mutex);
    std::map<TPM2_PT, std::uint32_t> properties = readPropertiesLocked(TPM2_PT_FIXED);
    properties.merge(readPropertiesLocked(TPM2_PT_VAR));
    const auto property = [&](TPM2_PT pt) {
        const auto it = properties.find(pt);
        return it == properties.end() ? 0u : it->second;
    };

    TpmInfo info;
    info.manufacturer = fourChars(property(TPM2_PT_MANUFACTURER));
    for (TPM2_PT pt = TPM2_PT_VENDOR_STRING_1; pt <= TPM2_PT_VENDOR_STRING_4; ++pt)
        info.vendorString += fourChars(property(pt));
    const std::uint32_t firmware1 = property(TPM2_PT_FIRMWARE_VERSION_1);
    const std::uint32_t firmware2 = property(TPM2_PT_FIRMWARE_VERSION_2);
    info.firmwareVersion =
        std::to_string(firmware1 >> 16) + "." + std::to_string(firmware1 & 0xffff) + "." +
        std::to_string(firmware2 >> 16) + "." + std::to_string(firmware2 & 0xffff);
    const std::uint32_t revision = property(TPM2_PT_REVISION);
    info.specification = fourChars(property(TPM2_PT_FAMILY_INDICATOR)) + " level " +
                         std::to_string(property(TPM2_PT_LEVEL)) + " revision " +
                         std::to_string(revision / 100) + "." + (revision % 100 < 10 ? "0" : "") +
                         std::to_string(revision % 100) + " (" +
                         std::to_string(property(TPM2_PT_YEAR)) + ")";
    info.inLockout = (property(TPM2_PT_PERMANENT) & TPMA_PERMANENT_INLOCKOUT) != 0;
    info.lockoutCounter = property(TPM2_PT_LOCKOUT_COUNTER);
    info.maxAuthFail = property(TPM2_PT_MAX_AUTH_FAIL);
    info.lockoutInterval = property(TPM2_PT_LOCKOUT_INTERVAL);
    info.lockoutRecovery = property(TPM2_PT_LOCKOUT_RECOVERY);

    EsysPtr<TPMS_CAPABILITY_DATA> banks;
    TPMI_YES_NO more = TPM2_NO;
    checkRc("read PCR banks",
            Esys_GetCapability(m_context, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
                               0, 1, &more, out(banks)));
    const auto &assigned = banks->data.assignedPCR;
    for (UINT32 i = 0; i < assigned.count && i < TPM2_NUM_PCR_BANKS; ++i) {
        const auto &bank = assigned.pcrSelections[i];
        const bool any = std::any_of(bank.pcrSelect, bank.pcrSelect + bank.sizeofSelect,
                                     [](BYTE b) { return b != 0; });
        if (any)
            info.pcrBanks.push_back(tpmAlgorithmName(bank.hash));
    }
    return info;
}

std::optional<Bytes> Tpm::readNv(TPM2_HANDLE index)
{
    std::lock_guard lock(m_mutex);
    ESYS_TR raw = ESYS_TR_NONE;
    const TSS2_RC rc =
        Esys_TR_FromTPMPublic(m_context, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw);
    if (tpmResponseCode(rc) == TPM2_RC_HANDLE)
        return std::nullopt;
    checkRc("open NV index", rc);
    EsysHandle nv(m_context, raw, EsysHandle::Release::Close);

    EsysPtr<TPM2B_NV_PUBLIC> nvPublic;
    checkRc("read NV index public area",
            Esys_NV_ReadPublic(m_context, nv.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               out(nvPublic), nullptr));
    const TPMA_NV attributes = nvPublic->nvPublic.attributes;
    ESYS_TR authorization = nv.get();
    if (!(attributes & TPMA_NV_AUTHREAD)) {
        if (!(attributes & TPMA_NV_OWNERREAD))
            throw TpmError(TpmError::Kind::Other, "NV index is not readable with owner or "
                                                  "index authorization");
        authorization = ESYS_TR_RH_OWNER;
    }
    if (!(attributes & TPMA_NV_WRITTEN))
        return Bytes{};

    // TPM_PT_NV_BUFFER_MAX is at least 512 on every TPM; reading in 512-byte pieces avoids
    // another capability round trip.
    constexpr UINT16 chunk = 512;
    const UINT16 size = nvPublic->nvPublic.dataSize;
    Bytes contents;
    contents.reserve(size);
    for (UINT16 offset = 0; offset < size;) {
        const UINT16 length = std::min<UINT16>(chunk, static_cast<UINT16>(size - offset));
        EsysPtr<TPM2B_MAX_NV_BUFFER> data;
        checkRc("read NV index",
                Esys_NV_Read(m_context, authorization, nv.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, length, offset, out(data)));
        contents.insert(contents.end(), data->buffer, data->buffer + data->size);
        offset = static_cast<UINT16>(offset + length);
    }
    return contents;
}

std::size_t Tpm::loadedTransientObjects()
{
    std::lock_guard lock(m_mutex);
    EsysPtr<TPMS_CAPABILITY_DATA> data;
    TPMI_YES_NO more = TPM2_NO;
    checkRc("list transient objects",
            Esys_GetCapability(m_context, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               TPM2_CAP_HANDLES, TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, &more,
                               out(data)));
    return data->data.handles.count;
}

TpmObject Tpm::createPrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC &keyTemplate, const char *what)
{
    std::lock_guard lock(m_mutex);
    const TPM2B_SENSITIVE_CREATE sensitive{};
    const TPM2B_DATA outsideInfo{};
    const TPML_PCR_SELECTION creationPcrs{};
    ESYS_TR handle = ESYS_TR_NONE;
    EsysPtr<TPM2B_PUBLIC> publicArea;
    checkRc(what,
            Esys_CreatePrimary(m_context, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                               &sensitive, &keyTemplate, &outsideInfo, &creationPcrs, &handle,
                               out(publicArea), nullptr, nullptr, nullptr));
    // Until the TpmObject owns it, a throw must flush the handle without taking the lock again.
    EsysHandle owner(m_context, handle, EsysHandle::Release::Flush);
    Bytes marshalled = marshalPublic(*publicArea);
    return TpmObject(this, owner.release(), std::move(marshalled));
}

TpmObject Tpm::createEndorsementKey(EkType type)
{
    return createPrimary(ESYS_TR_RH_ENDORSEMENT, endorsementKeyTemplate(type),
                         "create the endorsement key");
}

TpmObject Tpm::createStorageRootKey()
{
    return createPrimary(ESYS_TR_RH_OWNER, storageRootKeyTemplate(), "create the storage root key");
}

TpmKeyBlobs Tpm::createKey(const TpmObject &parent, const TPM2B_PUBLIC &keyTemplate)
{
    std::lock_guard lock(m_mutex);
    const TPM2B_SENSITIVE_CREATE sensitive{};
    const TPM2B_DATA outsideInfo{};
    const TPML_PCR_SELECTION creationPcrs{};
    EsysPtr<TPM2B_PRIVATE> privateArea;
    EsysPtr<TPM2B_PUBLIC> publicArea;
    checkRc("create key",
            Esys_Create(m_context, parent.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                        &sensitive, &keyTemplate, &outsideInfo, &creationPcrs, out(privateArea),
                        out(publicArea), nullptr, nullptr, nullptr));
    return TpmKeyBlobs{marshalPublic(*publicArea),
                       marshalled(*privateArea, Tss2_MU_TPM2B_PRIVATE_Marshal, "TPM2B_PRIVATE")};
}

TpmObject Tpm::loadKey(const TpmObject &parent, const TpmKeyBlobs &blobs)
{
    const TPM2B_PUBLIC publicArea = unmarshalPublic(blobs.publicArea);
    const TPM2B_PRIVATE privateArea = unmarshalExactly<TPM2B_PRIVATE>(
        blobs.privateArea, Tss2_MU_TPM2B_PRIVATE_Unmarshal, "TPM2B_PRIVATE");
    std::lock_guard lock(m_mutex);
    ESYS_TR handle = ESYS_TR_NONE;
    checkRc("load key", Esys_Load(m_context, parent.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &privateArea, &publicArea, &handle));
    EsysHandle owner(m_context, handle, EsysHandle::Release::Flush);
    Bytes marshalled = blobs.publicArea;
    return TpmObject(this, owner.release(), std::move(marshalled));
}

protocol::PcrValues Tpm::readPcrs(const std::vector<unsigned> &pcrs)
{
    std::lock_guard lock(m_mutex);
    return readPcrsLocked(pcrs);
}

protocol::PcrValues Tpm::readPcrsLocked(const std::vector<unsigned> &pcrs)
{
    TPML_PCR_SELECTION remaining = sha256Selection(pcrs);
    protocol::PcrValues values;
    // TPM2_PCR_Read returns at most 8 digests per call and says which ones it returned.
    for (int round = 0; round < 24; ++round) {
        const auto &wanted = remaining.pcrSelections[0].pcrSelect;
        if (!(wanted[0] | wanted[1] | wanted[2]))
            return values;
        EsysPtr<TPML_PCR_SELECTION> returned;
        EsysPtr<TPML_DIGEST> digests;
        checkRc("read PCRs", Esys_PCR_Read(m_context, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           &remaining, nullptr, out(returned), out(digests)));
        std::size_t next = 0;
        bool progress = false;
        for (UINT32 bank = 0; bank < returned->count; ++bank) {
            const auto &selection = returned->pcrSelections[bank];
            for (unsigned pcr = 0; pcr < 8u * selection.sizeofSelect && pcr < 24; ++pcr) {
                if (!(selection.pcrSelect[pcr / 8] & (1u << (pcr % 8))))
                    continue;
                if (next >= digests->count)
                    throw TpmError(TpmError::Kind::Other, "TPM2_PCR_Read returned fewer digests "
                                                          "than its selection names");
                if (selection.hash == TPM2_ALG_SHA256) {
                    values[pcr] = bytesOf(digests->digests[next]);
                    remaining.pcrSelections[0].pcrSelect[pcr / 8] &=
                        static_cast<BYTE>(~(1u << (pcr % 8)));
                    progress = true;
                }
                ++next;
            }
        }
        if (!progress) {
            std::string missing;
            for (unsigned pcr = 0; pcr < 24; ++pcr)
                if (wanted[pcr / 8] & (1u << (pcr % 8)))
                    missing += (missing.empty() ? "" : ",") + std::to_string(pcr);
            throw TpmError(TpmError::Kind::Other,
                           "the TPM's SHA-256 bank does not have PCR " + missing +
                               " allocated (tpm2_pcrallocate can enable the bank)");
        }
    }
    return values;
}

protocol::QuoteEvidence Tpm::quote(const TpmObject &attestationKey,
                                   std::span<const std::uint8_t> nonce,
                                   const std::vector<unsigned> &pcrs)
{
    if (pcrs.empty())
        throw TpmError(TpmError::Kind::Other, "a quote needs at least one PCR");
    const TPM2B_DATA qualifyingData = tpm2bFrom<TPM2B_DATA>(nonce, "the quote nonce");
    const TPML_PCR_SELECTION selection = sha256Selection(pcrs);
    const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL, .details = {}};

    std::lock_guard lock(m_mutex);
    for (int attempt = 0; attempt < quoteAttempts; ++attempt) {
        protocol::PcrValues values = readPcrsLocked(pcrs);
        EsysPtr<TPM2B_ATTEST> quoted;
        EsysPtr<TPMT_SIGNATURE> signature;
        checkRc("quote", Esys_Quote(m_context, attestationKey.handle(), ESYS_TR_PASSWORD,
                                    ESYS_TR_NONE, ESYS_TR_NONE, &qualifyingData, &scheme,
                                    &selection, out(quoted), out(signature)));
        protocol::QuoteEvidence evidence{
            bytesOf(*quoted),
            marshalled(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE"),
            std::move(values)};

        TPMS_ATTEST attest{};
        size_t offset = 0;
        checkRc("read the quote",
                Tss2_MU_TPMS_ATTEST_Unmarshal(evidence.attest.data(), evidence.attest.size(),
                                              &offset, &attest));
        Bytes concatenated;
        for (const auto &[pcr, value] : evidence.pcrs)
            concatenated.insert(concatenated.end(), value.begin(), value.end());
        // A PCR extended between the read and the quote would make the pair inconsistent.
        if (bytesOf(attest.attested.quote.pcrDigest) == tpmHash(EVP_sha256(), concatenated))
            return evidence;
    }
    throw TpmError(TpmError::Kind::Other, "PCRs kept changing while quoting (" +
                                              std::to_string(quoteAttempts) + " attempts)");
}

protocol::CertifyEvidence Tpm::certify(const TpmObject &object, const TpmObject &attestationKey,
                                       std::span<const std::uint8_t> qualifyingData)
{
    const TPM2B_DATA qualifying = tpm2bFrom<TPM2B_DATA>(qualifyingData, "the qualifying data");
    const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL, .details = {}};
    std::lock_guard lock(m_mutex);
    EsysPtr<TPM2B_ATTEST> certified;
    EsysPtr<TPMT_SIGNATURE> signature;
    checkRc("certify", Esys_Certify(m_context, object.handle(), attestationKey.handle(),
                                    ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE, &qualifying,
                                    &scheme, out(certified), out(signature)));
    return protocol::CertifyEvidence{
        bytesOf(*certified),
        marshalled(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE")};
}

Bytes Tpm::activateCredential(const TpmObject &credentialKey, const TpmObject &endorsementKey,
                              const protocol::CredentialChallenge &challenge)
{
    const auto credentialBlob = unmarshalExactly<TPM2B_ID_OBJECT>(
        challenge.credentialBlob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, "credential blob");
    const auto secret = unmarshalExactly<TPM2B_ENCRYPTED_SECRET>(
        challenge.encryptedSecret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, "encrypted secret");

    std::lock_guard lock(m_mutex);
    const TPMT_SYM_DEF noEncryption{.algorithm = TPM2_ALG_NULL, .keyBits = {}, .mode = {}};
    ESYS_TR rawSession = ESYS_TR_NONE;
    checkRc("start the endorsement policy session",
            Esys_StartAuthSession(m_context, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &noEncryption,
                                  TPM2_ALG_SHA256, &rawSession));
    EsysHandle session(m_context, rawSession, EsysHandle::Release::Flush);
    EsysPtr<TPM2B_TIMEOUT> timeout;
    EsysPtr<TPMT_TK_AUTH> ticket;
    checkRc("PolicySecret(endorsement)",
            Esys_PolicySecret(m_context, ESYS_TR_RH_ENDORSEMENT, session.get(), ESYS_TR_PASSWORD,
                              ESYS_TR_NONE, ESYS_TR_NONE, nullptr, nullptr, nullptr, 0,
                              out(timeout), out(ticket)));
    EsysPtr<TPM2B_DIGEST> certInfo;
    checkRc("activate credential",
            Esys_ActivateCredential(m_context, credentialKey.handle(), endorsementKey.handle(),
                                    ESYS_TR_PASSWORD, session.get(), ESYS_TR_NONE, &credentialBlob,
                                    &secret, out(certInfo)));
    Bytes recovered = bytesOf(*certInfo);
    OPENSSL_cleanse(certInfo->buffer, certInfo->size);
    return recovered;
}

Bytes Tpm::sign(const TpmObject &key, std::span<const std::uint8_t> digest)
{
    const detail::EcdsaSignInputs inputs = detail::ecdsaSignInputs(digest);
    std::lock_guard lock(m_mutex);
    EsysPtr<TPMT_SIGNATURE> signature;
    checkRc("sign", Esys_Sign(m_context, key.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                              &inputs.digest, &inputs.scheme, &inputs.validation, out(signature)));
    return detail::rawEcdsaSignature(*signature);
}

detail::EcdsaSignInputs detail::ecdsaSignInputs(std::span<const std::uint8_t> digest)
{
    if (digest.size() != 32)
        throw TpmError(TpmError::Kind::Other, "ES256 signs a 32-byte SHA-256 digest, got " +
                                                  std::to_string(digest.size()) + " bytes");
    EcdsaSignInputs inputs{};
    inputs.digest = tpm2bFrom<TPM2B_DIGEST>(digest, "the digest");
    inputs.scheme.scheme = TPM2_ALG_ECDSA;
    inputs.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    // A non-restricted key signs any digest; the null ticket says so.
    inputs.validation.tag = TPM2_ST_HASHCHECK;
    inputs.validation.hierarchy = TPM2_RH_NULL;
    return inputs;
}

Bytes detail::rawEcdsaSignature(const TPMT_SIGNATURE &signature)
{
    if (signature.sigAlg != TPM2_ALG_ECDSA)
        throw TpmError(TpmError::Kind::Other, "the TPM returned a non-ECDSA signature");
    Bytes raw = p256Coordinate(signature.signature.ecdsa.signatureR, "ECDSA r");
    const Bytes s = p256Coordinate(signature.signature.ecdsa.signatureS, "ECDSA s");
    raw.insert(raw.end(), s.begin(), s.end());
    return raw;
}

} // namespace vigil::attestation
