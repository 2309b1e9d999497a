#pragma once

#include "core/opensslptr.h"

#include <string>
#include <string_view>

namespace vigil {

// "sha256:" + lower-case hex SHA-256 over a certificate's DER: how the verifier's CA is named
// by `vigil-verifier init` and pinned by agents (`vigilctl enroll --ca-fingerprint`). Throws
// std::runtime_error if OpenSSL cannot encode or hash it.
std::string certificateFingerprint(X509 *certificate);

} // namespace vigil
