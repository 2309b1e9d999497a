#pragma once

// User invite codes: 128 random bits as "vui1." + base64url, the way enrollment tokens are
// written ("vet1."); stored as the SHA-256 of the text, so a copy of the database enrolls no
// one.

#include "core/bytes.h"
#include "server/storage/storage.h"

#include <chrono>
#include <string>
#include <string_view>

namespace vigil::server {

inline constexpr std::chrono::hours defaultInviteLifetime{24};

struct NewUserInvite
{
    std::string code;  // shown once
    UserInvite invite; // what to store
};

// A new invite for userId valid from now for ttl (not stored).
NewUserInvite makeUserInvite(const std::string &userId, TimePoint now,
                             std::chrono::seconds ttl = defaultInviteLifetime);
// The hash an invite with this code text is stored under (redeemUserInvite's argument).
Bytes inviteCodeHash(std::string_view code);

} // namespace vigil::server
