#pragma once

// Verification of what the TPM signs about itself (TPMS_ATTEST): quotes over PCRs and
// certifications of other keys, each signed by an attestation key (AK). Pure functions over
// bytes; every failure is an EvidenceException whose kind names the check that failed.

#include "attestation/evidenceerror.h"
#include "attestation/tpmpublic.h"
#include "core/bytes.h"
#include "protocol/evidence.h"

#include <cstdint>
#include <span>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

struct ClockInfo
{
    std::uint64_t clock = 0; // milliseconds the TPM has been powered, never goes back
    std::uint32_t resetCount = 0;
    std::uint32_t restartCount = 0;
    bool safe = false;
};

// What a verified TPMS_ATTEST says about the TPM, for rollback and firmware checks. The values
// are as signed: for an AK outside the endorsement and platform hierarchies (e.g. under the
// owner's SRK) the TPM adds a per-key offset to resetCount, restartCount and firmwareVersion,
// so compare them only with earlier values from the same AK (and with wraparound in mind).
struct VerifiedAttest
{
    ClockInfo clockInfo;
    std::uint64_t firmwareVersion = 0;
    Bytes qualifiedSigner; // TPM2B_NAME contents: the AK's qualified name as the TPM saw it
};

// An attestation key checked once (checkAttestationKey) and imported into OpenSSL once, for a
// verifier that checks many quotes by the same AK: importing a public key costs about as much
// as verifying a signature with it.
class AttestationKey
{
public:
    // akPublic: marshalled TPM2B_PUBLIC. Throws EvidenceException: Malformed,
    // UnsupportedAlgorithm, KeyAttributes.
    explicit AttestationKey(std::span<const std::uint8_t> akPublic);

    const TpmPublic &publicArea() const { return m_public; }
    EVP_PKEY *key() const { return m_key.get(); }

private:
    TpmPublic m_public;
    EvpPkeyPtr m_key;
};

// Unmarshals a TPMS_ATTEST (no size prefix) consuming every byte and checks its magic.
// Throws Malformed, BadMagic.
TPMS_ATTEST parseAttest(std::span<const std::uint8_t> attest);

// parseAttest(), then that akPublic (marshalled TPM2B_PUBLIC) is an attestation key
// (checkAttestationKey), that the signature's scheme is the AK's and that it verifies over the
// attest bytes. Throws Malformed, BadMagic, UnsupportedAlgorithm, KeyAttributes, BadSignature.
TPMS_ATTEST verifySignedAttest(std::span<const std::uint8_t> attest,
                               std::span<const std::uint8_t> signature,
                               std::span<const std::uint8_t> akPublic);

// A TPM2_Quote: verifySignedAttest(), type ATTEST_QUOTE, extraData == expectedNonce, a PCR
// selection of exactly one SHA-256 bank naming exactly the PCRs in evidence.pcrs, and a PCR
// digest equal to the hash of those values in ascending index order. Throws the errors of
// verifySignedAttest() and WrongType, NonceMismatch, PcrValueMalformed, PcrSelectionMismatch,
// PcrDigestMismatch.
VerifiedAttest verifyQuote(const protocol::QuoteEvidence &evidence, std::span<const std::uint8_t> akPublic,
                           std::span<const std::uint8_t> expectedNonce);
// The same with an AK checked and imported before.
VerifiedAttest verifyQuote(const protocol::QuoteEvidence &evidence, const AttestationKey &ak,
                           std::span<const std::uint8_t> expectedNonce);

// A TPM2_Certify: verifySignedAttest(), type ATTEST_CERTIFY, extraData ==
// expectedQualifyingData and a certified name equal to the name of certifiedPublic (marshalled
// TPM2B_PUBLIC). Throws the errors of verifySignedAttest() and WrongType, NonceMismatch,
// NameMismatch (and Malformed or UnsupportedAlgorithm for certifiedPublic).
VerifiedAttest verifyCertify(const protocol::CertifyEvidence &evidence,
                             std::span<const std::uint8_t> akPublic,
                             std::span<const std::uint8_t> certifiedPublic,
                             std::span<const std::uint8_t> expectedQualifyingData);

} // namespace vigil::attestation
