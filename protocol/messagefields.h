#pragma once

// Readers of members that several API bodies share (messages.h, usermessages.h), each failing
// through the reader with the member's JSON pointer.

#include "protocol/jose/devicekey.h"
#include "protocol/json/objectreader.h"

#include <string>
#include <string_view>

namespace vigil::protocol {

// A lower-case UUID (8-4-4-4-12 hex digits): device, user and enrollment ids.
std::string uuidAt(const detail::ObjectReader &reader, std::string_view name);
// "tpm" or "software".
Assurance assuranceAt(const detail::ObjectReader &reader, std::string_view name);

} // namespace vigil::protocol
