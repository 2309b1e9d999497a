#pragma once

// A TPM signature as the verifier receives it: a marshalled TPMT_SIGNATURE (`tpm2_quote -s`,
// `tpm2_sign -o` in their default tss format).

#include "attestation/evidenceerror.h"
#include "core/bytes.h"

#include <openssl/evp.h>
#include <span>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

class TpmSignature
{
public:
    // Throws EvidenceException(Malformed) for truncated input, trailing bytes or an invalid
    // encoding (including a signature algorithm tss2-mu does not know).
    static TpmSignature parse(std::span<const std::uint8_t> marshalled);

    const TPMT_SIGNATURE &signature() const { return m_signature; }
    TPMI_ALG_SIG_SCHEME scheme() const { return m_signature.sigAlg; }
    // The hash algorithm the signer used; TPM2_ALG_NULL for a null signature.
    TPMI_ALG_HASH hashAlg() const;

private:
    TPMT_SIGNATURE m_signature{};
};

// Verifies the signature over message, hashed with the signature's own hash algorithm, with key.
// Supports ECDSA (r and s of any length up to the group order's, as TPMs may drop leading
// zeros), RSASSA-PKCS1-v1_5 and RSASSA-PSS (any salt length), each with SHA-256/384/512.
// Throws EvidenceException: UnsupportedAlgorithm for another scheme or hash; BadSignature when
// the scheme does not fit the key type or the signature does not verify.
void verifyTpmSignature(const TpmSignature &signature, EVP_PKEY *key,
                        std::span<const std::uint8_t> message);

} // namespace vigil::attestation
