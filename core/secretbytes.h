#pragma once

// A secret someone typed or the program derived (a PIN, a key wrapping key, a decrypted private
// key): one heap copy, wiped with OPENSSL_cleanse when it is released. Not copyable by accident
// (clone() is explicit), never printed, and compared in constant time. Whoever hands a secret in
// as a std::string or Bytes should use takeFrom(), which wipes the source too.

#include "core/bytes.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace vigil {

class SecretBytes
{
public:
    SecretBytes() = default;
    explicit SecretBytes(std::span<const std::uint8_t> bytes);
    explicit SecretBytes(std::string_view text);
    // A buffer of size zero bytes for the caller to fill (OpenSSL output, a file read).
    static SecretBytes zeroed(std::size_t size);
    // Copies source and wipes it (its characters zeroed, then cleared), so that the secret is
    // held here only.
    static SecretBytes takeFrom(std::string &source);
    static SecretBytes takeFrom(Bytes &source);

    ~SecretBytes() { wipe(); }
    SecretBytes(SecretBytes &&other) noexcept;
    SecretBytes &operator=(SecretBytes &&other) noexcept;
    SecretBytes(const SecretBytes &) = delete;
    SecretBytes &operator=(const SecretBytes &) = delete;
    // A second copy, wiped on its own when released.
    SecretBytes clone() const { return SecretBytes(span()); }

    const std::uint8_t *data() const { return m_data.get(); }
    std::uint8_t *data() { return m_data.get(); }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    std::span<const std::uint8_t> span() const { return {m_data.get(), m_size}; }
    std::span<std::uint8_t> span() { return {m_data.get(), m_size}; }
    std::string_view view() const { return {reinterpret_cast<const char *>(m_data.get()), m_size}; }

    // Zeroes the bytes and releases them; empty afterwards.
    void wipe() noexcept;

    // Constant time in the contents (lengths are not secret).
    friend bool operator==(const SecretBytes &a, const SecretBytes &b);

private:
    std::unique_ptr<std::uint8_t[]> m_data;
    std::size_t m_size = 0;
};

// Zeroes what text or bytes hold and clears them: for the copies a secret passed through on its
// way into a SecretBytes (a JSON string, a decoded buffer).
void wipe(std::string &text) noexcept;
void wipe(Bytes &bytes) noexcept;

} // namespace vigil
