#pragma once

#include "core/bytes.h"

#include <string>

namespace vigil::server {

// Cryptographically random values from OpenSSL's DRBG; throw std::runtime_error if it fails.
Bytes randomBytes(std::size_t count);
// RFC 9562 version 4 UUID, lower case: device, enrollment and appraisal ids.
std::string randomUuid();

} // namespace vigil::server
