#pragma once

// Text that is a secret of the person at the keyboard (a PIN, a TOTP or recovery code, an
// invite): wiped from memory when it goes, and with no way to print it. Only what holds it
// (the std::string inside) is wiped: the caller keeps copies it makes (the request line, the
// JSON it was parsed from) as short-lived as it can and wipes them too (wipeJsonStrings).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vigil::protocol::ipc {

// Overwrites text's bytes, up to its capacity, then empties it.
void wipeString(std::string &text);
// Wipes every string in json (members' values, array items), then leaves json null.
void wipeJsonStrings(nlohmann::json &json);

class SecretText
{
public:
    SecretText() = default;
    explicit SecretText(std::string text) : m_text(std::move(text)) {}
    ~SecretText() { wipeString(m_text); }

    SecretText(const SecretText &other) = default;
    SecretText &operator=(const SecretText &other)
    {
        if (this != &other) {
            wipeString(m_text);
            m_text = other.m_text;
        }
        return *this;
    }
    // A short string's bytes stay in the source's inline buffer after a move: wiped here.
    SecretText(SecretText &&other) noexcept : m_text(std::move(other.m_text))
    {
        wipeString(other.m_text);
    }
    SecretText &operator=(SecretText &&other) noexcept
    {
        if (this != &other) {
            wipeString(m_text);
            m_text = std::move(other.m_text);
            wipeString(other.m_text);
        }
        return *this;
    }

    // For the one place that uses the secret (the TPM, the verifier's body, the request line).
    std::string_view reveal() const { return m_text; }
    std::size_t size() const { return m_text.size(); }
    bool empty() const { return m_text.empty(); }

    bool operator==(const SecretText &other) const { return m_text == other.m_text; }

private:
    std::string m_text;
};

} // namespace vigil::protocol::ipc
