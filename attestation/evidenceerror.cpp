#include "attestation/evidenceerror.h"

namespace vigil::attestation {

std::string_view evidenceErrorName(EvidenceError error)
{
    switch (error) {
    case EvidenceError::Malformed:
        return "malformed";
    case EvidenceError::BadMagic:
        return "bad_magic";
    case EvidenceError::WrongType:
        return "wrong_type";
    case EvidenceError::UnsupportedAlgorithm:
        return "unsupported_algorithm";
    case EvidenceError::KeyAttributes:
        return "key_attributes";
    case EvidenceError::BadSignature:
        return "bad_signature";
    case EvidenceError::NonceMismatch:
        return "nonce_mismatch";
    case EvidenceError::PcrSelectionMismatch:
        return "pcr_selection_mismatch";
    case EvidenceError::PcrValueMalformed:
        return "pcr_value_malformed";
    case EvidenceError::PcrDigestMismatch:
        return "pcr_digest_mismatch";
    case EvidenceError::NameMismatch:
        return "name_mismatch";
    }
    return "unknown";
}

} // namespace vigil::attestation
