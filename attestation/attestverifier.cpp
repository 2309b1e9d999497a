#include "attestation/attestverifier.h"

#include "attestation/tpmalgorithm.h"
#include "attestation/tpmpublic.h"
#include "attestation/tpmsignature.h"

#include <algorithm>
#include <tss2/tss2_mu.h>
#include <vector>

namespace vigil::attestation {

namespace {

[[noreturn]] void fail(EvidenceError error, const std::string &message)
{
    throw EvidenceException(error, message);
}

std::string typeName(TPMI_ST_ATTEST type)
{
    switch (type) {
    case TPM2_ST_ATTEST_QUOTE:
        return "quote";
    case TPM2_ST_ATTEST_CERTIFY:
        return "certify";
    case TPM2_ST_ATTEST_CREATION:
        return "creation";
    case TPM2_ST_ATTEST_TIME:
        return "time";
    case TPM2_ST_ATTEST_COMMAND_AUDIT:
        return "command audit";
    case TPM2_ST_ATTEST_SESSION_AUDIT:
        return "session audit";
    case TPM2_ST_ATTEST_NV:
        return "nv";
    default:
        return std::to_string(type);
    }
}

void expectType(const TPMS_ATTEST &attest, TPMI_ST_ATTEST type)
{
    if (attest.type != type)
        fail(EvidenceError::WrongType,
             "attestation is a " + typeName(attest.type) + ", not a " + typeName(type));
}

void expectExtraData(const TPMS_ATTEST &attest, std::span<const std::uint8_t> expected,
                     const char *what)
{
    const std::span<const std::uint8_t> extra(attest.extraData.buffer, attest.extraData.size);
    if (!std::ranges::equal(extra, expected))
        fail(EvidenceError::NonceMismatch,
             std::string("attested extraData is not the expected ") + what);
}

VerifiedAttest summary(const TPMS_ATTEST &attest)
{
    VerifiedAttest result;
    result.clockInfo.clock = attest.clockInfo.clock;
    result.clockInfo.resetCount = attest.clockInfo.resetCount;
    result.clockInfo.restartCount = attest.clockInfo.restartCount;
    result.clockInfo.safe = attest.clockInfo.safe == TPM2_YES;
    result.firmwareVersion = attest.firmwareVersion;
    result.qualifiedSigner.assign(attest.qualifiedSigner.name,
                                  attest.qualifiedSigner.name + attest.qualifiedSigner.size);
    return result;
}

TPMI_ALG_HASH schemeHash(const TPMT_PUBLIC &area)
{
    return area.type == TPM2_ALG_ECC ? area.parameters.eccDetail.scheme.details.anySig.hashAlg
                                     : area.parameters.rsaDetail.scheme.details.anySig.hashAlg;
}

TPMI_ALG_SIG_SCHEME schemeAlg(const TPMT_PUBLIC &area)
{
    return area.type == TPM2_ALG_ECC ? area.parameters.eccDetail.scheme.scheme
                                     : area.parameters.rsaDetail.scheme.scheme;
}

struct SignedAttest
{
    TPMS_ATTEST attest;
    TPMI_ALG_HASH hashAlg; // the AK's, which the signature used
};

SignedAttest verifySigned(std::span<const std::uint8_t> attest,
                          std::span<const std::uint8_t> signature, const AttestationKey &key)
{
    const TPMS_ATTEST parsed = parseAttest(attest);
    const TpmSignature sig = TpmSignature::parse(signature);
    const TpmPublic &ak = key.publicArea();
    if (sig.scheme() != schemeAlg(ak.area()) || sig.hashAlg() != schemeHash(ak.area()))
        fail(EvidenceError::BadSignature, "signature scheme " + tpmAlgorithmName(sig.scheme()) +
                                              "/" + tpmAlgorithmName(sig.hashAlg()) +
                                              " is not the attestation key's " +
                                              tpmAlgorithmName(schemeAlg(ak.area())) + "/" +
                                              tpmAlgorithmName(schemeHash(ak.area())));
    verifyTpmSignature(sig, key.key(), attest);
    return {parsed, sig.hashAlg()};
}

// For callers that hand over the AK as bytes: the attest and the signature are parsed before the
// AK, so that the first error reported is the same whichever form the AK comes in.
AttestationKey attestationKeyAfterParsing(std::span<const std::uint8_t> attest,
                                          std::span<const std::uint8_t> signature,
                                          std::span<const std::uint8_t> akPublic)
{
    parseAttest(attest);
    TpmSignature::parse(signature);
    return AttestationKey(akPublic);
}

} // namespace

AttestationKey::AttestationKey(std::span<const std::uint8_t> akPublic)
    : m_public(TpmPublic::parse(akPublic))
{
    // Only a restricted key guarantees that the TPM itself produced what starts with
    // TPM_GENERATED_VALUE; any other key signs whatever it is given.
    checkAttestationKey(m_public);
    m_key = m_public.publicKey();
}

TPMS_ATTEST parseAttest(std::span<const std::uint8_t> attest)
{
    TPMS_ATTEST parsed{};
    if (attest.empty()) // tss2-mu logs a warning for an empty buffer
        fail(EvidenceError::Malformed, "empty TPMS_ATTEST");
    std::size_t offset = 0;
    if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest.data(), attest.size(), &offset, &parsed) !=
        TSS2_RC_SUCCESS)
        fail(EvidenceError::Malformed,
             "TPMS_ATTEST does not unmarshal (" + std::to_string(attest.size()) + " bytes)");
    if (offset != attest.size())
        fail(EvidenceError::Malformed, "TPMS_ATTEST followed by " +
                                           std::to_string(attest.size() - offset) +
                                           " trailing bytes");
    if (parsed.magic != TPM2_GENERATED_VALUE)
        fail(EvidenceError::BadMagic, "TPMS_ATTEST magic is not TPM_GENERATED_VALUE");
    return parsed;
}

TPMS_ATTEST verifySignedAttest(std::span<const std::uint8_t> attest,
                               std::span<const std::uint8_t> signature,
                               std::span<const std::uint8_t> akPublic)
{
    return verifySigned(attest, signature, attestationKeyAfterParsing(attest, signature, akPublic))
        .attest;
}

VerifiedAttest verifyQuote(const protocol::QuoteEvidence &evidence, std::span<const std::uint8_t> akPublic,
                           std::span<const std::uint8_t> expectedNonce)
{
    return verifyQuote(evidence,
                       attestationKeyAfterParsing(evidence.attest, evidence.signature, akPublic),
                       expectedNonce);
}

VerifiedAttest verifyQuote(const protocol::QuoteEvidence &evidence, const AttestationKey &ak,
                           std::span<const std::uint8_t> expectedNonce)
{
    const SignedAttest signedAttest = verifySigned(evidence.attest, evidence.signature, ak);
    const TPMS_ATTEST &attest = signedAttest.attest;
    expectType(attest, TPM2_ST_ATTEST_QUOTE);
    expectExtraData(attest, expectedNonce, "nonce");

    for (const auto &[index, value] : evidence.pcrs) {
        if (index > 23)
            fail(EvidenceError::PcrValueMalformed,
                 "PCR " + std::to_string(index) + " is outside 0-23");
        if (value.size() != 32)
            fail(EvidenceError::PcrValueMalformed, "PCR " + std::to_string(index) + " value has " +
                                                       std::to_string(value.size()) +
                                                       " bytes, not 32");
    }

    const TPMS_QUOTE_INFO &quote = attest.attested.quote;
    if (quote.pcrSelect.count != 1 || quote.pcrSelect.pcrSelections[0].hash != TPM2_ALG_SHA256)
        fail(EvidenceError::PcrSelectionMismatch,
             "quoted PCR selection is not exactly one SHA-256 bank");
    const TPMS_PCR_SELECTION &selection = quote.pcrSelect.pcrSelections[0];
    std::vector<unsigned> selected;
    for (unsigned byte = 0; byte < selection.sizeofSelect; ++byte)
        for (unsigned bit = 0; bit < 8; ++bit)
            if (selection.pcrSelect[byte] & (1u << bit))
                selected.push_back(byte * 8 + bit);
    std::vector<unsigned> supplied;
    for (const auto &entry : evidence.pcrs)
        supplied.push_back(entry.first);
    if (selected != supplied) {
        std::string quoted;
        for (unsigned index : selected)
            quoted += (quoted.empty() ? "" : ",") + std::to_string(index);
        std::string given;
        for (unsigned index : supplied)
            given += (given.empty() ? "" : ",") + std::to_string(index);
        fail(EvidenceError::PcrSelectionMismatch,
             "quoted PCRs {" + quoted + "} are not the supplied PCRs {" + given + "}");
    }

    // The TPM hashes the PCR values with the signing scheme's hash, not the bank's.
    Bytes concatenated;
    for (const auto &entry : evidence.pcrs)
        concatenated.insert(concatenated.end(), entry.second.begin(), entry.second.end());
    const Bytes digest = tpmHash(tpmHashFunction(signedAttest.hashAlg), concatenated);
    const std::span<const std::uint8_t> quoted(quote.pcrDigest.buffer, quote.pcrDigest.size);
    if (!std::ranges::equal(quoted, digest))
        fail(EvidenceError::PcrDigestMismatch,
             "quoted PCR digest is not the digest of the supplied PCR values");
    return summary(attest);
}

VerifiedAttest verifyCertify(const protocol::CertifyEvidence &evidence,
                             std::span<const std::uint8_t> akPublic,
                             std::span<const std::uint8_t> certifiedPublic,
                             std::span<const std::uint8_t> expectedQualifyingData)
{
    const TPMS_ATTEST attest =
        verifySigned(evidence.attest, evidence.signature,
                     attestationKeyAfterParsing(evidence.attest, evidence.signature, akPublic))
            .attest;
    expectType(attest, TPM2_ST_ATTEST_CERTIFY);
    expectExtraData(attest, expectedQualifyingData, "qualifying data");
    const Bytes name = tpmName(certifiedPublic);
    const TPM2B_NAME &certified = attest.attested.certify.name;
    if (!std::ranges::equal(std::span<const std::uint8_t>(certified.name, certified.size), name))
        fail(EvidenceError::NameMismatch,
             "certified name " +
                 toHex(std::span<const std::uint8_t>(certified.name, certified.size)) +
                 " is not the name of the given public " + toHex(name));
    return summary(attest);
}

} // namespace vigil::attestation
