#include "core/secretbytes.h"

#include <algorithm>
#include <openssl/crypto.h>
#include <utility>

namespace vigil {

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes)
    : m_data(bytes.empty() ? nullptr : new std::uint8_t[bytes.size()]), m_size(bytes.size())
{
    std::copy(bytes.begin(), bytes.end(), m_data.get());
}

SecretBytes::SecretBytes(std::string_view text)
    : SecretBytes(std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()))
{
}

SecretBytes SecretBytes::zeroed(std::size_t size)
{
    SecretBytes secret;
    if (size > 0) {
        secret.m_data.reset(new std::uint8_t[size]());
        secret.m_size = size;
    }
    return secret;
}

SecretBytes SecretBytes::takeFrom(std::string &source)
{
    SecretBytes secret(std::string_view{source});
    vigil::wipe(source);
    return secret;
}

SecretBytes SecretBytes::takeFrom(Bytes &source)
{
    SecretBytes secret(std::span<const std::uint8_t>{source});
    vigil::wipe(source);
    return secret;
}

SecretBytes::SecretBytes(SecretBytes &&other) noexcept
    : m_data(std::move(other.m_data)), m_size(std::exchange(other.m_size, 0))
{
}

SecretBytes &SecretBytes::operator=(SecretBytes &&other) noexcept
{
    if (this != &other) {
        wipe();
        m_data = std::move(other.m_data);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

void SecretBytes::wipe() noexcept
{
    if (m_data)
        OPENSSL_cleanse(m_data.get(), m_size);
    m_data.reset();
    m_size = 0;
}

bool operator==(const SecretBytes &a, const SecretBytes &b)
{
    return constantTimeEqual(a.span(), b.span());
}

void wipe(std::string &text) noexcept
{
    if (!text.empty())
        OPENSSL_cleanse(text.data(), text.size());
    text.clear();
}

void wipe(Bytes &bytes) noexcept
{
    if (!bytes.empty())
        OPENSSL_cleanse(bytes.data(), bytes.size());
    bytes.clear();
}

} // namespace vigil
