#pragma once

// Recovery codes (docs/mfa.md): count codes of 60 random bits, shown as 12 base32 characters
// XXXX-XXXX-XXXX. Stored as HMAC-SHA-256 under a key derived from the SecretBox key rather than
// as plain hashes: 60 bits hashed plainly could be found by brute force from a copy of the
// database. Each works once; a new set invalidates the old.

#include "core/bytes.h"
#include "server/mfa/secretbox.h"
#include "server/storage/storage.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::server {

class RecoveryCodes
{
public:
    static constexpr int count = 10;

    RecoveryCodes(Storage &storage, const SecretBox &box);
    ~RecoveryCodes();
    RecoveryCodes(const RecoveryCodes &) = delete;
    RecoveryCodes &operator=(const RecoveryCodes &) = delete;

    // A new set for the user, replacing the old; the codes as shown to the user, once.
    std::vector<std::string> regenerate(const std::string &userId, TimePoint now);
    // Whether input (normalised) is an unused code of the user; it is used up.
    bool use(const std::string &userId, std::string_view input, TimePoint now);

    // The 12 upper-case base32 characters of input, ignoring case, dashes and spaces; nullopt
    // when anything else is left or their number is not 12.
    static std::optional<std::string> normalise(std::string_view input);
    // XXXX-XXXX-XXXX of 12 normalised characters.
    static std::string format(std::string_view normalised);

    // What is stored for the normalised code of the user.
    Bytes hash(const std::string &userId, std::string_view normalised) const;

private:
    Storage &m_storage;
    Bytes m_key;
};

} // namespace vigil::server
