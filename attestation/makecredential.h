#pragma once

// TPM2_MakeCredential in software (TPM 2.0 Library spec Part 1 section 24, Part 3 section 12.6),
// so that a verifier without a TPM can challenge one: only the TPM that holds the EK's private
// key, and holds the named object, gets the secret back from TPM2_ActivateCredential.

#include "core/bytes.h"
#include "protocol/evidence.h"

#include <span>

namespace vigil::attestation {

// ekPublic: the EK's marshalled TPM2B_PUBLIC (with its size prefix), an RSA (2048, 3072, 4096
// bits) or ECC (NIST P-256, P-384) restricted decryption key whose symmetric definition is AES
// in CFB mode, with nameAlg SHA-1, SHA-256, SHA-384 or SHA-512 — every TCG EK template.
// objectName: the TPM2B_NAME contents of the object to be activated (the AK), nameAlg (2 bytes,
// big-endian) || digest.
// secret: 1 to digest-size-of-the-EK's-nameAlg bytes (32 for SHA-256), the TPM's own limit.
//
// The seed is fresh randomness, protected for the EK with RSA-OAEP (label "IDENTITY") or with
// an ephemeral ECDH key and KDFe (Part 1 annexes B.10.4 and C.6.1).
//
// Throws EvidenceException for an EK public that is not acceptable: Malformed (truncated,
// trailing bytes, bad size prefix, invalid key), UnsupportedAlgorithm (key type, size, curve,
// nameAlg or symmetric algorithm), KeyAttributes (not a restricted decryption key: restricted
// or decrypt clear, or sign set). Throws std::invalid_argument for an objectName that is not a
// digest name or a secret of the wrong length (caller errors, not evidence), and
// std::runtime_error if OpenSSL fails.
protocol::CredentialChallenge makeCredential(std::span<const std::uint8_t> ekPublic,
                                   std::span<const std::uint8_t> objectName,
                                   std::span<const std::uint8_t> secret);

} // namespace vigil::attestation
