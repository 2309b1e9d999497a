#pragma once

#include "core/bytes.h"

#include <cstdint>
#include <span>
#include <string_view>

namespace vigil {

// SHA-256 of the bytes, 32 bytes long.
Bytes sha256(std::span<const std::uint8_t> data);
Bytes sha256(std::string_view text);

} // namespace vigil
