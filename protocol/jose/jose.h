#pragma once

#include <stdexcept>

namespace vigil::protocol {

// A JWS, JWT or DPoP proof that is malformed or fails a check. The message names the part or
// claim at fault and never contains a token, signature or key.
class JoseError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace vigil::protocol
