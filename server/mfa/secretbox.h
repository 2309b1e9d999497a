#pragma once

// Secrets the verifier must read back (TOTP secrets) are sealed at rest with AES-256-GCM under a
// key kept in the data directory, outside the database: a copy of verifier.db alone reveals no
// TOTP secret. Each sealing binds its owner's id as associated data, so a sealed secret moved to
// another user's row does not open.
//
// Sealed form: version byte 1 | 12-byte random nonce | ciphertext | 16-byte tag. The key file
// is 32 raw bytes, mode 0600 (DataDirectory::secretBoxKey()).

#include "core/bytes.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string_view>

namespace vigil::server {

class SecretBoxError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class SecretBox
{
public:
    static constexpr std::size_t keySize = 32;

    // Writes a new random key to path, which must not exist (mode 0600 whatever the umask).
    // Throws SecretBoxError naming the file.
    static void createKeyFile(const std::filesystem::path &path);
    // The box for the key in path. Throws SecretBoxError, naming the file and the fix, when it
    // is missing, a symbolic link, not a regular file, owned by another user, open to group or
    // others, or not exactly keySize bytes.
    static SecretBox load(const std::filesystem::path &path);
    // load(), after creating the key file when it does not exist (a data directory made before
    // the key was).
    static SecretBox loadOrCreate(const std::filesystem::path &path);

    // For tests and tools: a box around a given key (keySize bytes, else std::invalid_argument).
    explicit SecretBox(std::span<const std::uint8_t> key);
    ~SecretBox();
    SecretBox(const SecretBox &other);
    SecretBox &operator=(const SecretBox &other);

    Bytes seal(std::span<const std::uint8_t> plaintext, std::string_view associatedData) const;
    // The plaintext; throws SecretBoxError (never a wrong plaintext) when sealed is malformed,
    // was sealed under another key or other associated data, or was changed.
    Bytes open(std::span<const std::uint8_t> sealed, std::string_view associatedData) const;

    // A 32-byte key for another purpose, derived from this one (HKDF-SHA-256, label as info):
    // such keys change with the box's key and reveal nothing of it.
    Bytes deriveKey(std::string_view label) const;

private:
    Bytes m_key;
};

} // namespace vigil::server
