#pragma once

// Files that hold key material (a software key's PEM, TPM key blobs): written atomically with
// mode 0600, in directories created 0700, and read only when nobody but their owner could have
// read or replaced them. The one implementation of these rules; callers add what the file holds.
//
// Every failure throws KeyError. Messages name the file by `what` ("device key" gives "device key
// file '<path>' has mode 0644, ...; fix: chmod 600 '<path>'"), say what was found and the fix,
// and never contain the file's contents.

#include "core/bytes.h"
#include "core/keyerror.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace vigil {

enum class Replace
{
    Allowed,   // an existing file at path is replaced atomically
    Forbidden, // an existing file at path (or anything else there) is left alone
};

// Creates the missing parent directories with mode 0700 whatever the umask (existing ones keep
// their mode: they may be shared), writes contents to a randomly named temporary file in the same
// directory (O_EXCL, mode 0600), fsyncs it, moves it to path and fsyncs the directory, so a crash
// leaves the old file or the new one and at worst a stray dot-file. With Replace::Forbidden the
// move never replaces (renameat2 RENAME_NOREPLACE, or link(2) where that is unsupported) and
// false is returned when path already exists; otherwise true.
bool writePrivateFile(const std::filesystem::path &path, std::span<const std::uint8_t> contents,
                      Replace replace = Replace::Allowed, std::string_view what = "key");

// Reads path into buffer without following a symlink and without blocking on a FIFO; refuses
// (KeyError) anything but a regular file owned by the effective user with no group or other
// permission bits, and a file larger than buffer.size() (also when it grew after fstat). Returns
// the number of bytes read. The caller owns buffer, so it can wipe secret contents; nothing else
// holds them.
std::size_t readPrivateFile(const std::filesystem::path &path, std::span<std::uint8_t> buffer,
                            std::string_view what = "key");

// The same into a new buffer of at most maxSize bytes. A buffer that held bytes of a refused
// file is wiped before the exception leaves.
Bytes readPrivateFile(const std::filesystem::path &path, std::size_t maxSize = 64 * 1024,
                      std::string_view what = "key");

} // namespace vigil
