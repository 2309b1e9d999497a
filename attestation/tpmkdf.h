#pragma once

// The TPM 2.0 key derivation functions (TPM 2.0 Library spec Part 1 section 11.4.10), with the
// TPM's exact byte layout so that keys derived here equal the ones a TPM derives.

#include "core/bytes.h"

#include <cstdint>
#include <span>
#include <string_view>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

// KDFa: SP 800-108 counter-mode KDF with HMAC(hashAlg). Each block is
//   HMAC(key, counter (BE32, from 1) || label || 0x00 || contextU || contextV || bits (BE32)).
// The label is given without its terminating NUL; an empty label contributes no bytes at all
// (not even the NUL), as in the TPM reference code. bits must be a positive multiple of 8 (every
// TPM use here is); throws std::invalid_argument otherwise or for an unsupported hashAlg
// (SHA-1, SHA-256, SHA-384, SHA-512 are supported).
Bytes kdfa(TPM2_ALG_ID hashAlg, std::span<const std::uint8_t> key, std::string_view label,
           std::span<const std::uint8_t> contextU, std::span<const std::uint8_t> contextV,
           std::uint32_t bits);

// KDFe: SP 800-56A concatenation KDF with hashAlg. Each block is
//   H(counter (BE32, from 1) || Z || label || 0x00 || partyUInfo || partyVInfo).
// Same label, bits and error rules as kdfa.
Bytes kdfe(TPM2_ALG_ID hashAlg, std::span<const std::uint8_t> z, std::string_view label,
           std::span<const std::uint8_t> partyUInfo, std::span<const std::uint8_t> partyVInfo,
           std::uint32_t bits);

} // namespace vigil::attestation
