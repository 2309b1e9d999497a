#pragma once

// A TPM object's public area as the verifier receives it: a marshalled TPM2B_PUBLIC with its
// 2-byte size prefix (what `tpm2_create -u` and `tpm2_createak -u` write).

#include "attestation/evidenceerror.h"
#include "core/bytes.h"
#include "core/opensslptr.h"

#include <span>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

class TpmPublic
{
public:
    // Throws EvidenceException(Malformed) for truncated input, trailing bytes, a size prefix that
    // disagrees with the contents or an invalid encoding.
    static TpmPublic parse(std::span<const std::uint8_t> marshalled);

    const TPMT_PUBLIC &area() const { return m_area; }
    // The TPMT_PUBLIC exactly as received, without the TPM2B size prefix: what the name hashes.
    const Bytes &marshalledArea() const { return m_marshalledArea; }

    // nameAlg (2 bytes, big-endian) || H_nameAlg(marshalled TPMT_PUBLIC). Throws
    // EvidenceException(UnsupportedAlgorithm) for a nameAlg other than SHA-1/256/384/512.
    Bytes name() const;

    // The public key: ECC on NIST P-256 or P-384, or RSA with 2048, 3072 or 4096 bits. Throws
    // EvidenceException: UnsupportedAlgorithm for another type, curve or size; Malformed for a
    // point that is not on its curve or a modulus of the wrong length.
    EvpPkeyPtr publicKey() const;

private:
    TPMT_PUBLIC m_area{};
    Bytes m_marshalledArea;
};

// Name of a marshalled TPM2B_PUBLIC; TpmPublic::parse(marshalled).name().
Bytes tpmName(std::span<const std::uint8_t> marshalledPublic);

// Whether a public area is usable as an attestation key: an ECC P-256 key with scheme ECDSA and
// SHA-256, or an RSA-2048 key with RSASSA or RSAPSS and SHA-256, with restricted, sign, fixedTPM,
// fixedParent and sensitiveDataOrigin set and decrypt clear. Throws EvidenceException:
// UnsupportedAlgorithm for another key type, curve or size; KeyAttributes naming every attribute
// that is wrong (or the scheme).
void checkAttestationKey(const TpmPublic &key);

} // namespace vigil::attestation
