#pragma once

// Protocol step 3, access tokens: RFC 9068 JWTs bound to the device key (cnf.jkt, RFC 9449),
// issued only while the device's latest appraisal is compliant and fresh; the JWKS that
// publishes the signing key; and /v1/whoami, the demo resource that accepts a token only with
// a DPoP proof from the key it is bound to.

#include "core/opensslptr.h"
#include "server/http/httpmessage.h"

#include <string>

namespace vigil::server {

struct ServiceContext;

class TokenHandler
{
public:
    explicit TokenHandler(ServiceContext &context);

    // POST /v1/tokens
    HttpResponse token(const HttpRequest &request);
    // GET /v1/whoami
    HttpResponse whoami(const HttpRequest &request);
    // GET /.well-known/jwks.json
    HttpResponse jwks() const;

    // The audience of every access token.
    static constexpr const char *audience = "vigil";

private:
    ServiceContext &m_context;
    EvpPkeyPtr m_verifyKey; // its public half, imported once
};

} // namespace vigil::server
