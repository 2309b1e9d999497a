#pragma once

#include "attestation/tpm/tpm.h"

#include <optional>

namespace vigil::attestation {

// The TPM's endorsement key as enrollment sends it: its public area and the manufacturer's
// certificate for it.
struct EndorsementKey
{
    EkType type = EkType::Rsa2048;
    Bytes publicArea;                 // marshalled TPM2B_PUBLIC
    std::optional<Bytes> certificate; // DER, padding removed; absent if the TPM has none
};

// Reads the EK certificate from NV (RSA 2048 first, then ECC P-256), recreates that EK from the
// TCG default template and checks that the certificate certifies exactly this key. Without any
// certificate the RSA EK is returned alone (some firmware TPMs ship none; the verifier's policy
// decides). Throws TpmError: Other when a certificate is unreadable or certifies another key
// (a TPM whose EK template is not the default one).
EndorsementKey readEndorsementKey(Tpm &tpm);

} // namespace vigil::attestation
