#pragma once

#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

enum class EkType
{
    Rsa2048,
    EccP256
};

// TCG EK Credential Profile 2.0, templates L-1 (RSA 2048) and L-2 (ECC NIST P-256): the EK the
// manufacturer certified, recreated bit for bit from the endorsement primary seed.
TPM2B_PUBLIC endorsementKeyTemplate(EkType type);

// TCG TPM v2.0 Provisioning Guidance, storage root key: ECC NIST P-256, AES-128-CFB, noDA.
// Recreated from the owner seed whenever needed, so no persistent handle is ever taken.
TPM2B_PUBLIC storageRootKeyTemplate();

// Restricted ECDSA P-256/SHA-256 signing key: the attestation key (quotes and certifications).
// noDA: its authValue is empty, so dictionary-attack protection guards nothing, while a
// lockout (users' wrong PINs, which the TPM counts for the whole chip) would stop attestation.
TPM2B_PUBLIC attestationKeyTemplate();

// Non-restricted ECDSA P-256/SHA-256 signing key: signs anything, i.e. JWS and DPoP proofs.
// noDA, for the same reason as the attestation key.
TPM2B_PUBLIC signingKeyTemplate();

// The user key (docs/mfa.md "User key"): a non-restricted ECDSA P-256/SHA-256 signing key whose
// authValue is the user's PIN, with userWithAuth (the PIN authorizes its use) and, on purpose,
// without noDA, so that the TPM's dictionary-attack protection counts wrong PINs.
TPM2B_PUBLIC userKeyTemplate();

// NV indices of the EK certificates (TCG EK Credential Profile, section 2.2.1.5).
inline constexpr TPM2_HANDLE ekCertificateIndexRsa2048 = 0x01c00002;
inline constexpr TPM2_HANDLE ekCertificateIndexEccP256 = 0x01c0000a;

} // namespace vigil::attestation
