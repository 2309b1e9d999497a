#include "server/api/usersessionhandler.h"

#include "core/sha256.h"
#include "protocol/messages.h"
#include "protocol/usermessages.h"
#include "server/api/usercontext.h"
#include "server/policy/policy.h"
#include "server/randomid.h"

#include <algorithm>

namespace vigil::server {

namespace {

long long epochSeconds(TimePoint time)
{
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// docs/mfa.md, "Factors and amr": RFC 8176 values and Vigil's acr for each way to sign in.
void describeFactors(bool pin, bool hardwareKey, bool otp, UserSession &session)
{
    const std::string key = hardwareKey ? "hwk" : "swk";
    if (pin && otp) {
        session.amr = {key, "pin", "otp", "mfa"};
        session.acr = "urn:vigil:acr:" + key + "-pin-otp";
    } else if (pin) {
        session.amr = {key, "pin", "mfa"};
        session.acr = "urn:vigil:acr:" + key + "-pin";
    } else {
        session.amr = {"otp"};
        session.acr = "urn:vigil:acr:otp";
    }
}

std::string joined(const std::vector<std::string> &items)
{
    std::string text;
    for (const auto &item : items)
        text += (text.empty() ? "" : ",") + item;
    return text;
}

ApiError authenticationRequired()
{
    return ApiError("authentication_required",
                    "no live session of this user on this device has that handle: sign in "
                    "again");
}

} // namespace

UserSessionHandler::UserSessionHandler(UserContext &context) : m_context(context) {}

HttpResponse UserSessionHandler::signIn(const HttpRequest &request, const std::string &userId)
{
    const auto body = protocol::parseBody<protocol::SignInRequest>(request.body);
    ServiceContext &service = m_context.service;
    const Device device = service.requireDevice(request);
    const User user = m_context.requireUser(userId);
    const UserDevice key = m_context.requireUserKey(user, device);
    const auto policy = service.policy();

    const UserPolicy &rules = policy->users;
    if (body.userProof && !rules.acceptsFactor("pin"))
        throw ApiError("factor_not_accepted", "the policy does not accept the PIN factor",
                       "/user_proof");
    if (body.userProof && !rules.acceptsKeyAssurance(key.keyAssurance))
        throw ApiError("factor_not_accepted",
                       "the policy does not accept user keys with assurance '" + key.keyAssurance +
                           "'; enroll a TPM key",
                       "/user_proof");
    if (body.otp && !rules.acceptsFactor("otp"))
        throw ApiError("factor_not_accepted", "the policy does not accept TOTP codes", "/otp");

    // The proof first (it costs nothing to keep), then the device, then the code: a device
    // that may get no token must not spend the user's time step or count a failure.
    std::optional<protocol::ValidatedUserProof> proof;
    if (body.userProof)
        proof = m_context.checkUserProof(request, *body.userProof, key, device);
    service.requireTokenEligible(device, *policy);
    if (body.otp) {
        const TotpCheck check = m_context.totp.verify(user.id, *body.otp);
        if (check.result == TotpCheck::Result::NoTotp)
            throw ApiError("invalid_code", "user " + user.name + " has no active TOTP", "/otp");
        if (check.result != TotpCheck::Result::Accepted) {
            ApiError error = UserContext::totpRefused(check);
            if (error.code() == "invalid_code")
                throw ApiError("invalid_code", error.what(), "/otp");
            throw error;
        }
    }
    if (proof)
        m_context.recordUserProof(*proof);

    const Bytes handle = randomBytes(protocol::limits::sessionHandleBytes);
    UserSession session;
    session.handleHash = sha256(handle);
    session.userId = user.id;
    session.deviceId = device.id;
    session.authTime = std::chrono::floor<std::chrono::seconds>(service.now());
    session.expiresAt = session.authTime + rules.maxAuthenticationAge;
    describeFactors(body.userProof.has_value(), key.keyAssurance == "tpm", body.otp.has_value(),
                    session);
    service.storage.addUserSession(session);
    qCInfo(lcUsers).noquote() << QString::fromStdString("user " + user.name + " (" + user.id +
                                                        ") signed in on device " + device.id +
                                                        " with " + joined(session.amr));

    protocol::UserSession response;
    response.session = base64UrlEncode(handle);
    response.authTime = session.authTime;
    response.expiresAt = session.expiresAt;
    response.amr = session.amr;
    response.acr = session.acr;
    response.reauthenticateOn = rules.reauthenticateOn;
    response.warnBefore = rules.warnBefore;
    response.accessToken = userToken(user, device, session, &response.expiresIn);
    auto out = jsonResponse(201, response.toJson());
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

HttpResponse UserSessionHandler::token(const HttpRequest &request, const std::string &userId)
{
    const auto body = protocol::parseBody<protocol::SessionRequest>(request.body);
    ServiceContext &service = m_context.service;
    const Device device = service.requireDevice(request);
    const auto session = service.storage.userSession(sha256(*base64UrlDecode(body.session)));
    // Whose session it is, and whether it stands, all get one answer: the device signs in again.
    if (!session || session->userId != userId || session->deviceId != device.id ||
        session->revokedAt || service.now() >= session->expiresAt)
        throw authenticationRequired();
    const auto user = service.storage.user(userId);
    if (!user || user->disabledAt)
        throw ApiError("authentication_required", "the user is disabled");
    service.requireTokenEligible(device, *service.policy());

    protocol::TokenResponse response;
    response.accessToken = userToken(*user, device, *session, &response.expiresIn);
    auto out = jsonResponse(200, response.toJson());
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

HttpResponse UserSessionHandler::revoke(const HttpRequest &request, const std::string &userId)
{
    const auto body = protocol::parseBody<protocol::SessionRequest>(request.body);
    ServiceContext &service = m_context.service;
    const Device device = service.requireDevice(request);
    const Bytes hash = sha256(*base64UrlDecode(body.session));
    // Idempotent, and silent about sessions that are not this device's user's to end.
    const auto session = service.storage.userSession(hash);
    if (session && session->userId == userId && session->deviceId == device.id &&
        service.storage.revokeUserSession(hash, service.now()))
        qCInfo(lcUsers).noquote() << QString::fromStdString("user " + userId +
                                                            " signed out on device " + device.id);
    HttpResponse response;
    response.status = 204;
    response.contentType.clear();
    return response;
}

std::string UserSessionHandler::userToken(const User &user, const Device &device,
                                          const UserSession &session,
                                          std::chrono::seconds *expiresIn) const
{
    ServiceContext &service = m_context.service;
    const TimePoint now = std::chrono::floor<std::chrono::seconds>(service.now());
    const TimePoint expiresAt = std::min(now + service.policy()->tokenTtl, session.expiresAt);
    *expiresIn = std::chrono::duration_cast<std::chrono::seconds>(expiresAt - now);
    if (expiresIn->count() < 1)
        throw authenticationRequired();
    const nlohmann::json claims = {
        {"iss", service.options.publicUrl},
        {"sub", user.id},
        {"aud", "vigil"},
        {"preferred_username", user.name},
        {"client_id", device.id},
        {"iat", epochSeconds(now)},
        {"exp", epochSeconds(expiresAt)},
        {"jti", base64UrlEncode(randomBytes(16))},
        {"cnf", {{"jkt", device.jkt}}},
        {"amr", session.amr},
        {"acr", session.acr},
        {"auth_time", epochSeconds(session.authTime)},
        {"assurance", device.assurance},
        {"appraisal_id", device.lastAppraisalId},
    };
    return service.signAccessToken(claims);
}

} // namespace vigil::server
