// The verifier's parsers of TPM blobs from clients: TPMS_ATTEST, TPMT_SIGNATURE and TPM2B_PUBLIC
// with everything derived from a public area. Each input goes through all of them, so a seed of
// one kind also probes the others. Only EvidenceException is an expected outcome.
#include "attestation/attestverifier.h"
#include "attestation/tpmpublic.h"
#include "attestation/tpmsignature.h"

#include <cstdint>
#include <span>

using namespace vigil::attestation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::span<const std::uint8_t> input(data, size);
    try {
        parseAttest(input);
    } catch (const EvidenceException &) {
    }
    try {
        const TpmSignature signature = TpmSignature::parse(input);
        signature.hashAlg();
    } catch (const EvidenceException &) {
    }
    try {
        const TpmPublic pub = TpmPublic::parse(input);
        try {
            pub.name();
        } catch (const EvidenceException &) {
        }
        try {
            pub.publicKey();
        } catch (const EvidenceException &) {
        }
        checkAttestationKey(pub);
    } catch (const EvidenceException &) {
    }
    return 0;
}
