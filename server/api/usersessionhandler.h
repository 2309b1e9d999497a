#pragma once

// User sign-in and user tokens (docs/protocol.md 5.13-5.15): a sign-in with the user key's
// proof (the PIN factor), a TOTP code or both makes a session, whose handle the device trades
// for RFC 9068 user tokens (sub the user, cnf.jkt the device key, amr/acr/auth_time of the
// sign-in) while the device stays compliant and the session lasts.

#include "server/http/httpmessage.h"
#include "server/storage/storage.h"

#include <chrono>
#include <string>

namespace vigil::server {

struct UserContext;

class UserSessionHandler
{
public:
    explicit UserSessionHandler(UserContext &context);

    // POST /v1/users/{id}/sessions
    HttpResponse signIn(const HttpRequest &request, const std::string &userId);
    // POST /v1/users/{id}/tokens
    HttpResponse token(const HttpRequest &request, const std::string &userId);
    // POST /v1/users/{id}/sessions/revocation
    HttpResponse revoke(const HttpRequest &request, const std::string &userId);

private:
    // The user token for the session, valid until at most the session's expiry;
    // *expiresIn is its lifetime.
    std::string userToken(const User &user, const Device &device, const UserSession &session,
                          std::chrono::seconds *expiresIn) const;

    UserContext &m_context;
};

} // namespace vigil::server
