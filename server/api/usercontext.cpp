#include "server/api/usercontext.h"

#include "core/bytes.h"
#include "protocol/jose/jwk.h"
#include "server/randomid.h"

Q_LOGGING_CATEGORY(lcUsers, "vigil.verifier.users")

namespace vigil::server {

namespace {

SecretBox openBox(const VerifierOptions &options)
{
    if (options.secretBoxKey.empty())
        return SecretBox(randomBytes(SecretBox::keySize));
    return SecretBox::loadOrCreate(options.secretBoxKey);
}

} // namespace

UserContext::UserContext(ServiceContext &context)
    : service(context), box(openBox(context.options)), totp(context.storage, box, context.clock),
      recovery(context.storage, box),
      proofs(context.options.dpopWindow, context.options.dpopReplayCache)
{
}

User UserContext::requireUser(const std::string &userId) const
{
    auto user = service.storage.user(userId);
    if (!user)
        throw ApiError("unknown_user", "no user " + userId + " on this verifier");
    if (user->disabledAt)
        throw ApiError("user_disabled", "user " + user->name + " is disabled");
    return std::move(*user);
}

UserDevice UserContext::requireUserKey(const User &user, const Device &device) const
{
    auto key = service.storage.userDevice(user.id, device.id);
    if (!key)
        throw ApiError("user_not_enrolled", "user " + user.name + " has no key on device " +
                                                device.id + ": enroll with an invite first");
    return std::move(*key);
}

protocol::ValidatedUserProof UserContext::checkUserProof(const HttpRequest &request,
                                                         const std::string &proof,
                                                         const UserDevice &key,
                                                         const Device &device) const
{
    try {
        const auto publicKey = protocol::parseEcPublicJwk(std::string_view(key.keyJwk));
        return proofs.check(proof, publicKey,
                            {key.userId, request.method, service.urlFor(request.path), device.jkt},
                            service.now());
    } catch (const protocol::JoseError &e) {
        throw ApiError("invalid_user_proof", e.what(), "/user_proof");
    } catch (const protocol::JwkError &e) {
        // Stored by this verifier after parsing: only a damaged database gets here.
        throw StorageError(std::string("stored user key does not parse: ") + e.what());
    }
}

void UserContext::recordUserProof(const protocol::ValidatedUserProof &proof)
{
    try {
        proofs.recordUse(proof, service.now());
    } catch (const protocol::UserProofError &e) {
        throw ApiError("invalid_user_proof", e.what(), "/user_proof");
    }
}

UserContext::Authenticated UserContext::requireUserProof(const HttpRequest &request,
                                                         const std::string &userId,
                                                         const std::string &proof)
{
    Authenticated who;
    who.device = service.requireDevice(request);
    who.user = requireUser(userId);
    who.key = requireUserKey(who.user, who.device);
    recordUserProof(checkUserProof(request, proof, who.key, who.device));
    return who;
}

ApiError UserContext::totpRefused(const TotpCheck &check)
{
    using Result = TotpCheck::Result;
    switch (check.result) {
    case Result::Accepted:
        break;
    case Result::RateLimited: {
        ApiError error("rate_limited", "too many wrong codes: wait before the next attempt");
        error.retryAfterSeconds =
            static_cast<int>(std::max<long long>(1, check.retryAfter.count()));
        return error;
    }
    case Result::Locked:
        return ApiError("user_locked", "too many wrong codes: this user's TOTP is locked until "
                                       "an administrator unlocks it");
    case Result::NoTotp:
        return ApiError("totp_not_pending", "this user has no TOTP secret waiting for a code");
    case Result::InvalidCode:
        break;
    }
    return ApiError("invalid_code", "the code is wrong, or was used already", "/code");
}

std::string UserContext::totpState(const std::string &userId) const
{
    const auto state = service.storage.userTotp(userId);
    if (!state)
        return "none";
    if (state->state == TotpState::Active)
        return "active";
    return state->pendingExpiresAt > service.now() ? "pending" : "none";
}

} // namespace vigil::server
