#pragma once

// Conversions between TPM2B structures and bytes, shared by the files that implement Tpm
// (tpm.cpp, tpmpin.cpp). Internal to attestation/tpm.

#include "attestation/tpm/tpmerror.h"
#include "core/bytes.h"

#include <algorithm>
#include <span>
#include <string>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation::detail {

template <typename Tpm2b> Bytes bytesOf(const Tpm2b &value)
{
    return Bytes(value.buffer, value.buffer + value.size);
}

inline Bytes bytesOf(const TPM2B_ATTEST &value)
{
    return Bytes(value.attestationData, value.attestationData + value.size);
}

template <typename Tpm2b> Tpm2b tpm2bFrom(std::span<const std::uint8_t> bytes, const char *what)
{
    Tpm2b value{};
    if (bytes.size() > sizeof value.buffer)
        throw TpmError(TpmError::Kind::Other, std::string(what) +
                                                  " is longer than the TPM accepts (" +
                                                  std::to_string(bytes.size()) + " > " +
                                                  std::to_string(sizeof value.buffer) + " bytes)");
    value.size = static_cast<UINT16>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), value.buffer);
    return value;
}

// The TPM wire form of value; sizeof(T) always suffices, marshalled forms are never larger.
template <typename T>
Bytes marshalled(const T &value, TSS2_RC (*marshal)(const T *, uint8_t *, size_t, size_t *),
                 const char *what)
{
    Bytes bytes(sizeof(T));
    size_t offset = 0;
    checkRc(std::string("marshal ") + what, marshal(&value, bytes.data(), bytes.size(), &offset));
    bytes.resize(offset);
    return bytes;
}

template <typename T>
T unmarshalExactly(const Bytes &bytes, TSS2_RC (*unmarshal)(const uint8_t *, size_t, size_t *, T *),
                   const char *what)
{
    T value{};
    size_t offset = 0;
    if (unmarshal(bytes.data(), bytes.size(), &offset, &value) != TSS2_RC_SUCCESS ||
        offset != bytes.size())
        throw TpmError(TpmError::Kind::BadState, std::string(what) + " is malformed (" +
                                                     std::to_string(bytes.size()) + " bytes)");
    return value;
}

// What TPM2_Sign takes to sign a 32-byte digest with ECDSA/SHA-256 by a non-restricted key;
// throws TpmError(Other) for another digest size. Defined in tpm.cpp.
struct EcdsaSignInputs
{
    TPM2B_DIGEST digest;
    TPMT_SIG_SCHEME scheme;
    TPMT_TK_HASHCHECK validation;
};
EcdsaSignInputs ecdsaSignInputs(std::span<const std::uint8_t> digest);
// The signature as JOSE's r||s, each 32 bytes; throws TpmError(Other) if it is not ECDSA.
Bytes rawEcdsaSignature(const TPMT_SIGNATURE &signature);

} // namespace vigil::attestation::detail
