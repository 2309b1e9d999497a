#pragma once

// Files that hold key material (a software key's PEM, TPM key blobs): written atomically with
// mode 0600 in a 0700 directory, and read only when nobody but their owner could have read or
// replaced them.

#include "bytes.h"

#include <filesystem>
#include <span>

namespace vigil::attestation {

// Creates the parent directory (0700) if needed, writes a temporary file with O_EXCL and mode
// 0600, fsyncs it and renames it over path, so a crash leaves the old file or the new one.
// Throws KeyError naming the path and the system error.
void writePrivateFile(const std::filesystem::path &path, std::span<const std::uint8_t> contents);

// Reads path without following a symlink; throws KeyError unless it is a regular file owned by
// this user with no group or other permission bits, and at most maxSize bytes. The message says
// what was found and the fix (chmod 600 / chown).
Bytes readPrivateFile(const std::filesystem::path &path, std::size_t maxSize = 64 * 1024);

} // namespace vigil::attestation
