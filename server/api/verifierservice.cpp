#include "server/api/verifierservice.h"

#include "protocol/messages.h"
#include "protocol/problem.h"
#include "server/api/enrollmenthandler.h"
#include "server/api/reporthandler.h"
#include "server/api/servicecontext.h"
#include "server/api/tokenhandler.h"
#include "server/api/usercontext.h"
#include "server/api/userhandler.h"
#include "server/api/usersessionhandler.h"

#include <QLoggingCategory>
#include <regex>

Q_LOGGING_CATEGORY(lcVerifier, "vigil.verifier")

namespace vigil::server {

namespace {

HttpResponse methodNotAllowed(const std::string &allowed)
{
    HttpResponse response = problemResponse(
        ApiError("method_not_allowed", "this resource allows " + allowed + " only"));
    response.headers.emplace_back("Allow", allowed);
    return response;
}

} // namespace

VerifierService::VerifierService(Storage &storage, PolicyStore &policies,
                                 protocol::DeviceKey &tokenKey, const Clock &clock,
                                 VerifierOptions options)
    : m_context(
          std::make_unique<ServiceContext>(storage, policies, tokenKey, clock, std::move(options))),
      m_enrollment(std::make_unique<EnrollmentHandler>(*m_context)),
      m_reports(std::make_unique<ReportHandler>(*m_context)),
      m_tokens(std::make_unique<TokenHandler>(*m_context)),
      m_userContext(std::make_unique<UserContext>(*m_context)),
      m_users(std::make_unique<UserHandler>(*m_userContext)),
      m_userSessions(std::make_unique<UserSessionHandler>(*m_userContext))
{
}

VerifierService::~VerifierService() = default;

HttpResponse VerifierService::handle(const HttpRequest &request)
{
    try {
        return route(request);
    } catch (const ApiError &e) {
        return problemResponse(e);
    } catch (const protocol::MessageError &e) {
        return problemResponse(protocol::problemFor(e));
    } catch (const StorageError &e) {
        qCCritical(lcVerifier) << "storage failed:" << e.what();
        return problemResponse(ApiError("internal_error", "the verifier's database failed"));
    } catch (const std::exception &e) {
        qCCritical(lcVerifier) << request.method.c_str() << request.path.c_str()
                               << "failed:" << e.what();
        return problemResponse(ApiError("internal_error", "the verifier failed; see its log"));
    }
}

HttpResponse VerifierService::route(const HttpRequest &request)
{
    const std::string &path = request.path;
    const std::string &method = request.method;
    const auto only = [&](const char *allowed) { return method == allowed; };

    if (path == "/v1/reports")
        return only("POST") ? m_reports->report(request) : methodNotAllowed("POST");
    if (path == "/v1/nonces")
        return only("POST") ? m_reports->nonce(request) : methodNotAllowed("POST");
    if (path == "/v1/tokens")
        return only("POST") ? m_tokens->token(request) : methodNotAllowed("POST");
    if (path == "/v1/whoami")
        return only("GET") ? m_tokens->whoami(request) : methodNotAllowed("GET");
    if (path == "/.well-known/jwks.json")
        return only("GET") ? m_tokens->jwks() : methodNotAllowed("GET");
    if (path == "/v1/health")
        return only("GET") ? health() : methodNotAllowed("GET");
    if (path == "/v1/enrollments")
        return only("POST") ? m_enrollment->enroll(request) : methodNotAllowed("POST");

    if (path == "/v1/users/enrollments")
        return only("POST") ? m_users->enroll(request) : methodNotAllowed("POST");

    static const std::regex activation("/v1/enrollments/([0-9a-f-]{36})/activation");
    std::smatch match;
    if (std::regex_match(path, match, activation))
        return only("POST") ? m_enrollment->activate(request, match[1].str())
                            : methodNotAllowed("POST");
    // /v1/users/{user_id}/...: the id as the UUID it must be, so that nothing else reaches a
    // handler or a log line.
    static const std::regex userResource(
        "/v1/users/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/"
        "(totp|totp/activation|recovery-codes|sessions|tokens|sessions/revocation)");
    if (std::regex_match(path, match, userResource)) {
        if (!only("POST"))
            return methodNotAllowed("POST");
        const std::string userId = match[1].str();
        const std::string resource = match[2].str();
        if (resource == "totp")
            return m_users->beginTotp(request, userId);
        if (resource == "totp/activation")
            return m_users->activateTotp(request, userId);
        if (resource == "recovery-codes")
            return m_users->recoveryCodes(request, userId);
        if (resource == "sessions")
            return m_userSessions->signIn(request, userId);
        if (resource == "tokens")
            return m_userSessions->token(request, userId);
        return m_userSessions->revoke(request, userId);
    }
    throw ApiError("not_found", "no resource " + path + " on this verifier");
}

HttpResponse VerifierService::health()
{
    try {
        m_context->storage.checkWritable();
    } catch (const StorageError &e) {
        qCWarning(lcVerifier) << "health: the database takes no write:" << e.what();
        throw ApiError("storage_unavailable",
                       "the database takes no write (read-only, or the disk is full); see the "
                       "verifier's log");
    }
    return jsonResponse(200, protocol::Health{}.toJson());
}

} // namespace vigil::server
