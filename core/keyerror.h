#pragma once

#include <stdexcept>

namespace vigil {

// Thrown when a key, or a file that holds one, cannot be created, loaded or used; the message
// names the cause and, where there is one, the fix. Never contains key material.
class KeyError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace vigil
