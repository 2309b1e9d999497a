#include "server/mfa/invitecodes.h"

#include "core/sha256.h"
#include "server/randomid.h"

namespace vigil::server {

NewUserInvite makeUserInvite(const std::string &userId, TimePoint now, std::chrono::seconds ttl)
{
    NewUserInvite made;
    // 128 bits: enough against guessing through the API, whose every try is rate limited.
    made.code = "vui1." + base64UrlEncode(randomBytes(16));
    made.invite.id = "ui_" + toHex(randomBytes(8));
    made.invite.userId = userId;
    made.invite.codeHash = inviteCodeHash(made.code);
    made.invite.createdAt = now;
    made.invite.expiresAt = now + ttl;
    return made;
}

Bytes inviteCodeHash(std::string_view code)
{
    return sha256(code);
}

} // namespace vigil::server
