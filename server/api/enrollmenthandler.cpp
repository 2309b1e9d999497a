#include "server/api/enrollmenthandler.h"

#include "attestation/attestverifier.h"
#include "attestation/ekcertificate.h"
#include "attestation/evidenceerror.h"
#include "attestation/makecredential.h"
#include "attestation/tpmpublic.h"
#include "core/sha256.h"
#include "protocol/jose/jwk.h"
#include "protocol/messages.h"
#include "server/api/servicecontext.h"
#include "server/policy/policy.h"
#include "server/randomid.h"

#include <openssl/evp.h>

namespace vigil::server {
using attestation::EvidenceException;

namespace {

constexpr std::size_t secretBytes = 32;

ApiError evidenceRejected(const std::string &field, const EvidenceException &e)
{
    const std::string name(attestation::evidenceErrorName(e.error()));
    return ApiError("evidence_rejected", field + ": " + e.what(), field, name);
}

// The device key must live in the TPM and never leave it: the same attributes the TPM gives an
// AK, without restricted (a device key signs arbitrary digests, such as JWS inputs).
void checkDeviceKeyAttributes(const attestation::TpmPublic &key)
{
    const TPMA_OBJECT attributes = key.area().objectAttributes;
    std::string missing;
    const auto need = [&](TPMA_OBJECT bit, const char *name) {
        if (!(attributes & bit))
            missing += std::string(missing.empty() ? "" : ", ") + name;
    };
    need(TPMA_OBJECT_FIXEDTPM, "fixedTPM");
    need(TPMA_OBJECT_FIXEDPARENT, "fixedParent");
    need(TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin");
    need(TPMA_OBJECT_SIGN_ENCRYPT, "sign");
    if (!missing.empty())
        throw EvidenceException(attestation::EvidenceError::KeyAttributes,
                                "the device key lacks " + missing +
                                    ": it could leave the TPM or was not made by it");
    if (key.area().type != TPM2_ALG_ECC ||
        key.area().parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
        throw EvidenceException(attestation::EvidenceError::UnsupportedAlgorithm,
                                "the device key is not an ECC NIST P-256 key");
}

ApiError alreadyEnrolled(const std::optional<Device> &device)
{
    std::string detail = "this device key is already enrolled";
    if (device)
        detail += " as device " + device->id + (device->revokedAt ? ", which was revoked" : "");
    return ApiError("already_enrolled", detail + ": a device key enrolls once", "/device_key");
}

bool sameKey(const protocol::EcPublicKey &a, const protocol::EcPublicKey &b)
{
    return a.x == b.x && a.y == b.y;
}

} // namespace

EnrollmentHandler::EnrollmentHandler(ServiceContext &context) : m_context(context) {}

HttpResponse EnrollmentHandler::enroll(const HttpRequest &request)
{
    m_context.limitPeer(request.peerAddress, "enrollment requests");
    const auto enrollment = protocol::parseBody<protocol::EnrollmentRequest>(request.body);
    const auto proof = m_context.requireDpop(request);
    const auto deviceKey = protocol::parseEcPublicJwk(enrollment.deviceKey);
    const std::string jkt = protocol::jwkThumbprint(deviceKey);
    if (proof.jkt != jkt)
        throw ApiError("invalid_dpop_proof",
                       "the DPoP proof is not signed by the device key being enrolled");

    const auto policy = m_context.policy();
    const std::string assurance(protocol::assuranceName(enrollment.assurance));
    if (!policy->acceptsAssurance(assurance))
        throw ApiError("assurance_not_allowed",
                       "the policy does not accept devices with assurance '" + assurance + "'",
                       "/assurance");
    // Before the evidence and the token: a key that is enrolled already must not use up a
    // token on its way to the refusal.
    if (const auto enrolled = m_context.storage.deviceByJkt(jkt))
        throw alreadyEnrolled(*enrolled);

    const TimePoint now = m_context.now();
    Device device;
    device.id = randomUuid();
    device.jkt = jkt;
    device.deviceKeyJwk = protocol::ecPublicJwk(deviceKey).dump();
    device.assurance = assurance;
    device.hostname = enrollment.hostname;
    device.enrolledAt = now;

    const Bytes tokenHash = sha256(enrollment.enrollmentToken);
    std::optional<protocol::CredentialChallenge> challenge;
    Bytes secret;
    if (enrollment.tpm) {
        // Evidence first, token second: a device that sends bad evidence keeps its token and
        // can try again once fixed.
        secret = randomBytes(secretBytes);
        challenge = checkTpmEvidence(*enrollment.tpm, deviceKey, tokenHash, secret, now);
        device.ekPublic = enrollment.tpm->ekPublic;
        device.akPublic = enrollment.tpm->akPublic;
    }

    Admission admission;
    PendingEnrollment pending;
    if (challenge) {
        pending.id = randomUuid();
        pending.secretHash = sha256(secret);
        pending.expiresAt = now + m_context.options.enrollmentTtl;
        pending.device = device;
        admission = m_context.storage.admitPendingEnrollment(tokenHash, now, pending);
    } else {
        admission = m_context.storage.admitDevice(tokenHash, now, device);
    }
    if (admission.alreadyEnrolled)
        throw alreadyEnrolled(m_context.storage.deviceByJkt(jkt));
    switch (admission.token) {
    case TokenUse::Consumed:
        break;
    case TokenUse::Unknown:
        throw ApiError("invalid_enrollment_token", "the enrollment token is not known",
                       "/enrollment_token");
    case TokenUse::Expired:
        throw ApiError("invalid_enrollment_token", "the enrollment token has expired",
                       "/enrollment_token");
    case TokenUse::Exhausted:
        throw ApiError("invalid_enrollment_token",
                       "the enrollment token has been used as often as it allows",
                       "/enrollment_token");
    case TokenUse::Revoked:
        throw ApiError("invalid_enrollment_token", "the enrollment token was revoked",
                       "/enrollment_token");
    }
    if (!challenge)
        return jsonResponse(201, completion(device, *policy));

    protocol::EnrollmentChallenge response;
    response.enrollmentId = pending.id;
    response.expiresAt = pending.expiresAt;
    response.credential = *challenge;
    return jsonResponse(201, response.toJson());
}

protocol::CredentialChallenge
EnrollmentHandler::checkTpmEvidence(const protocol::TpmEnrollment &tpm,
                                    const protocol::EcPublicKey &deviceKey,
                                    const Bytes &tokenHash, const Bytes &secret, TimePoint now)
{
    if (!tpm.ekCertificate)
        throw ApiError("evidence_rejected",
                       "/tpm/ek_certificate: the TPM sent no EK certificate, so nothing shows it "
                       "is a TPM from a trusted manufacturer",
                       "/tpm/ek_certificate", "ek_certificate_missing");
    try {
        const auto trust =
            attestation::EkTrustStore::fromDirectory(m_context.options.ekCaDirectory);
        const auto certificate = attestation::EkCertificate::parse(*tpm.ekCertificate);
        attestation::verifyEkCertificate(certificate, trust, tpm.ekIntermediates, now);
        attestation::requireEkCertificateMatchesPublic(certificate, tpm.ekPublic);
    } catch (const attestation::EkCertificateException &e) {
        if (e.error() == attestation::EkCertificateError::NoTrustedCas)
            throw ApiError("ek_trust_unconfigured",
                           std::string("TPM enrollment is not set up on this verifier: ") +
                               e.what());
        throw ApiError("evidence_rejected", std::string("/tpm/ek_certificate: ") + e.what(),
                       "/tpm/ek_certificate",
                       std::string(attestation::ekCertificateErrorName(e.error())));
    }

    std::string field = "/tpm/ak_public";
    try {
        attestation::checkAttestationKey(attestation::TpmPublic::parse(tpm.akPublic));
        field = "/tpm/device_key_public";
        const auto devicePublic = attestation::TpmPublic::parse(tpm.deviceKeyPublic);
        checkDeviceKeyAttributes(devicePublic);
        const auto pkey = devicePublic.publicKey();
        if (!sameKey(protocol::fromEvpPkey(pkey.get()), deviceKey))
            throw ApiError("evidence_rejected",
                           "/device_key: the JWK is not the key in /tpm/device_key_public",
                           "/device_key", "key_mismatch");
        field = "/tpm/device_key_certify";
        attestation::verifyCertify(tpm.deviceKeyCertify, tpm.akPublic, tpm.deviceKeyPublic,
                                   tokenHash);
        field = "/tpm/ek_public";
        return attestation::makeCredential(tpm.ekPublic, attestation::tpmName(tpm.akPublic),
                                           secret);
    } catch (const EvidenceException &e) {
        throw evidenceRejected(field, e);
    }
}

HttpResponse EnrollmentHandler::activate(const HttpRequest &request,
                                         const std::string &enrollmentId)
{
    m_context.limitPeer(request.peerAddress, "enrollment requests");
    const auto activation = protocol::parseBody<protocol::ActivationRequest>(request.body);
    const auto proof = m_context.requireDpop(request);

    // Both sides hashed, so the comparison is constant-time over equal lengths whatever the
    // device sent.
    const Bytes secretHash = sha256(activation.secret);
    Device device;
    switch (m_context.storage.activateEnrollment(
        enrollmentId, proof.jkt, m_context.now(),
        [&](const PendingEnrollment &pending) {
            return constantTimeEqual(secretHash, pending.secretHash);
        },
        &device)) {
    case Activation::Activated:
        break;
    case Activation::Unknown:
        throw ApiError("unknown_enrollment",
                       "no enrollment " + enrollmentId +
                           " is waiting for activation (it expired, was answered already, or "
                           "never existed): enroll again");
    case Activation::WrongKey:
        throw ApiError("invalid_dpop_proof",
                       "the DPoP proof is not signed by the device key being enrolled");
    case Activation::Refused:
        throw ApiError("activation_failed",
                       "the secret does not match the credential: this TPM does not hold both "
                       "the EK and the AK it enrolled with; enroll again",
                       "/secret");
    case Activation::AlreadyEnrolled:
        throw alreadyEnrolled(m_context.storage.deviceByJkt(proof.jkt));
    }
    return jsonResponse(200, completion(device, *m_context.policy()));
}

nlohmann::json EnrollmentHandler::completion(const Device &device, const Policy &policy)
{
    protocol::EnrollmentComplete complete;
    complete.deviceId = device.id;
    complete.assurance = *protocol::assuranceFromName(device.assurance);
    const auto [nonce, expiresAt] = m_context.issueNonce(device.id, policy);
    complete.nonce = nonce;
    complete.nonceExpiresAt = expiresAt;
    complete.reportInterval = policy.reportInterval;
    complete.pcrs = policy.quotePcrs;
    return complete.toJson();
}

} // namespace vigil::server
