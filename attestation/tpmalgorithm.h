#pragma once

// TPM algorithm identifiers as the verification code needs them: hash functions for names,
// signatures and PCR digests, and readable names for error messages.

#include "core/bytes.h"

#include <openssl/evp.h>
#include <span>
#include <string>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

// SHA-1, SHA-256, SHA-384 or SHA-512; nullptr for any other TPM_ALG_ID.
const EVP_MD *tpmHashFunction(TPM2_ALG_ID hashAlg);

// Digest of data with a function from tpmHashFunction().
Bytes tpmHash(const EVP_MD *md, std::span<const std::uint8_t> data);

// "sha256", "ecdsa", … for the algorithms Vigil meets, "0x%04x" otherwise.
std::string tpmAlgorithmName(TPM2_ALG_ID alg);

} // namespace vigil::attestation
