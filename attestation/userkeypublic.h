#pragma once

// What a user key's public area must be (docs/mfa.md "User key", contract 5.9), for both sides:
// vigild refuses a key.pub that is not one, the verifier refuses to enroll one. Pure, like the
// rest of vigil_attestation.

#include <string>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

// "" when area is a user key as userKeyTemplate() makes it: ECC NIST P-256, scheme ECDSA with
// SHA-256, name algorithm SHA-256, fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth and
// sign set, noDA, restricted, decrypt and adminWithPolicy clear, no authPolicy. Otherwise every difference,
// "; "-separated, for a message ("lacks userWithAuth; has noDA").
std::string userKeyPublicProblem(const TPMT_PUBLIC &area);

} // namespace vigil::attestation
