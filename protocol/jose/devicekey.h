#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "core/keyerror.h"

namespace vigil::protocol {

enum class Assurance { Tpm, Software };

// "tpm" or "software", as reports and enrollment carry it.
std::string_view assuranceName(Assurance assurance);

// An uncompressed EC P-256 public point, both coordinates 32 bytes big-endian.
struct EcPublicKey {
    Bytes x;
    Bytes y;
};

// The device's ES256 signing key. Implementations: TpmDeviceKey (vigil_tpm, non-exportable)
// and SoftwareDeviceKey (OpenSSL, a 0600 PEM file) for machines without a usable TPM.
class DeviceKey
{
public:
    virtual ~DeviceKey() = default;

    virtual Assurance assurance() const = 0;
    virtual EcPublicKey publicKey() const = 0;
    // Signs a 32-byte SHA-256 digest; returns the 64-byte r||s form of RFC 7518 section 3.4
    // (not DER). Throws KeyError.
    virtual Bytes sign(std::span<const std::uint8_t> digest) = 0;

    // {"crv":"P-256","kty":"EC","x":…,"y":…} (RFC 7517/7518).
    nlohmann::json publicJwk() const;
    // RFC 7638 JWK thumbprint (SHA-256, base64url).
    std::string thumbprint() const;
};

} // namespace vigil::protocol
