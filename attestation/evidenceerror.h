#pragma once

// The single error vocabulary of TPM evidence verification. The verifier sends
// evidenceErrorName() to clients, so those strings are a stable part of the protocol.

#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::attestation {

enum class EvidenceError
{
    Malformed,            // truncated, trailing bytes, inconsistent sizes, invalid encoding
    BadMagic,             // TPMS_ATTEST.magic is not TPM_GENERATED_VALUE
    WrongType,            // TPMS_ATTEST of another type than the check expects
    UnsupportedAlgorithm, // key type, curve, key size, hash or signature scheme not supported
    KeyAttributes,        // a key's attributes or scheme do not make it an attestation key
    BadSignature,         // signature does not verify, or does not fit the key
    NonceMismatch,        // extraData differs from the expected nonce or qualifying data
    PcrSelectionMismatch, // quoted PCR selection differs from the PCR values supplied
    PcrValueMalformed,    // a supplied PCR value is not 32 bytes or its index is above 23
    PcrDigestMismatch,    // quoted PCR digest differs from the digest of the supplied values
    NameMismatch,         // certified name differs from the name of the given public
};

// Stable snake_case name, e.g. "nonce_mismatch".
std::string_view evidenceErrorName(EvidenceError error);

// Thrown by every verification function of this library; what() is a human-readable detail.
class EvidenceException : public std::runtime_error
{
public:
    EvidenceException(EvidenceError error, const std::string &message)
        : std::runtime_error(message), m_error(error)
    {
    }
    EvidenceError error() const { return m_error; }

private:
    EvidenceError m_error;
};

} // namespace vigil::attestation
