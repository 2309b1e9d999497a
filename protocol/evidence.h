#pragma once

// The byte forms that travel between the TPM side (vigil_tpm) and the verification side
// (vigil_attestation, linked by the verifier). All TPM structures are in their TPM 2.0 wire
// (marshalled, big-endian) form so that any independent implementation can read them.

#include "core/bytes.h"

#include <map>

namespace vigil::protocol {

// SHA-256 bank only: PCR index (0-23) -> 32-byte value.
using PcrValues = std::map<unsigned, Bytes>;

struct QuoteEvidence
{
    Bytes attest;    // marshalled TPMS_ATTEST (the TPM2B_ATTEST contents, no size prefix)
    Bytes signature; // marshalled TPMT_SIGNATURE
    PcrValues pcrs;  // values read for exactly the quoted selection
};

struct CertifyEvidence
{
    Bytes attest;    // marshalled TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY
    Bytes signature; // marshalled TPMT_SIGNATURE
};

// What TPM2_MakeCredential produces and TPM2_ActivateCredential consumes.
struct CredentialChallenge
{
    Bytes credentialBlob;  // marshalled TPM2B_ID_OBJECT (with its size prefix)
    Bytes encryptedSecret; // marshalled TPM2B_ENCRYPTED_SECRET (with its size prefix)
};

} // namespace vigil::protocol
