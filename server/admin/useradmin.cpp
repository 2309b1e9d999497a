#include "server/admin/useradmin.h"

#include "protocol/rfc3339.h"
#include "server/mfa/invitecodes.h"
#include "server/randomid.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

namespace vigil::server {

namespace {

std::string isoTime(TimePoint time)
{
    return protocol::formatRfc3339(time);
}

nlohmann::json optionalTime(const std::optional<TimePoint> &time)
{
    return time ? nlohmann::json(isoTime(*time)) : nlohmann::json(nullptr);
}

std::string column(std::string text, std::size_t width)
{
    if (text.size() > width)
        text = text.substr(0, width - 1) + "~";
    text.resize(width, ' ');
    return text;
}

// "none", "pending", "active" or "locked" (a lock outranks the rest: it is what to act on).
std::string totpState(const std::optional<UserTotp> &totp, TimePoint now)
{
    if (!totp)
        return "none";
    if (totp->locked)
        return "locked";
    if (totp->state == TotpState::Active)
        return "active";
    return totp->pendingExpiresAt > now ? "pending" : "none";
}

std::string userState(const User &user)
{
    return user.disabledAt ? "disabled" : "active";
}

std::string inviteState(const UserInvite &invite, TimePoint now)
{
    if (invite.usedAt)
        return "used";
    return invite.expiresAt > now ? "active" : "expired";
}

nlohmann::json userJson(const User &user)
{
    return {{"id", user.id},
            {"name", user.name},
            {"state", userState(user)},
            {"created_at", isoTime(user.createdAt)},
            {"disabled_at", optionalTime(user.disabledAt)}};
}

nlohmann::json inviteJson(const UserInvite &invite, TimePoint now)
{
    return {{"id", invite.id},
            {"created_at", isoTime(invite.createdAt)},
            {"expires_at", isoTime(invite.expiresAt)},
            {"used_at", optionalTime(invite.usedAt)},
            {"used_by_device", invite.usedByDevice.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(invite.usedByDevice)},
            {"state", inviteState(invite, now)}};
}

// The user, or a message on err naming the command that lists them.
std::optional<User> findUser(Storage &storage, const std::string &name, std::ostream &err)
{
    auto user = storage.userByName(name);
    if (!user)
        err << "vigil-verifier: no user " << name << " (see `vigil-verifier users list`)\n";
    return user;
}

} // namespace

int addUser(Storage &storage, const std::string &name, TimePoint now, bool json, std::ostream &out,
            std::ostream &err)
{
    const User user{randomUuid(), name, now, std::nullopt};
    if (!storage.addUser(user)) {
        err << "vigil-verifier: a user named " << name << " exists already\n";
        return 1;
    }
    if (json)
        out << userJson(user).dump(2) << "\n";
    else
        out << "Added user " << name << " (" << user.id << "). Invite them to a device with "
            << "`vigil-verifier users invite " << name << "`.\n";
    return 0;
}

int listUsers(Storage &storage, TimePoint now, bool json, std::ostream &out)
{
    const auto users = storage.users();
    nlohmann::json list = nlohmann::json::array();
    if (!json)
        out << column("NAME", 20) << column("ID", 38) << column("STATE", 10) << column("DEVICES", 9)
            << "TOTP\n";
    for (const auto &user : users) {
        const std::size_t devices = storage.userDevices(user.id).size();
        const std::string totp = totpState(storage.userTotp(user.id), now);
        if (json) {
            nlohmann::json entry = userJson(user);
            entry["devices"] = devices;
            entry["totp"] = totp;
            list.push_back(std::move(entry));
        } else {
            out << column(user.name, 20) << column(user.id, 38) << column(userState(user), 10)
                << column(std::to_string(devices), 9) << totp << "\n";
        }
    }
    if (json)
        out << list.dump(2) << "\n";
    return 0;
}

int showUser(Storage &storage, const std::string &name, TimePoint now, bool json, std::ostream &out,
             std::ostream &err)
{
    const auto user = findUser(storage, name, err);
    if (!user)
        return 1;
    nlohmann::json body = userJson(*user);

    nlohmann::json devices = nlohmann::json::array();
    for (const auto &key : storage.userDevices(user->id)) {
        const auto device = storage.device(key.deviceId);
        devices.push_back({{"device_id", key.deviceId},
                           {"hostname", device ? device->hostname : ""},
                           {"device_revoked", device && device->revokedAt},
                           {"local_account", key.localAccount},
                           {"key_assurance", key.keyAssurance},
                           {"key_jkt", key.keyJkt},
                           {"enrolled_at", isoTime(key.enrolledAt)}});
    }
    body["devices"] = devices;

    const auto totp = storage.userTotp(user->id);
    body["totp"] = {{"state", totpState(totp, now)},
                    {"consecutive_failures", totp ? totp->consecutiveFailures : 0},
                    {"last_failure_at", optionalTime(totp ? totp->lastFailureAt : std::nullopt)}};
    body["recovery_codes_left"] = storage.recoveryCodesLeft(user->id);

    nlohmann::json sessions = nlohmann::json::array();
    for (const auto &session : storage.activeUserSessions(user->id, now))
        sessions.push_back({{"device_id", session.deviceId},
                            {"auth_time", isoTime(session.authTime)},
                            {"expires_at", isoTime(session.expiresAt)},
                            {"amr", session.amr},
                            {"acr", session.acr}});
    body["sessions"] = sessions;

    nlohmann::json invites = nlohmann::json::array();
    for (const auto &invite : storage.userInvites(user->id))
        invites.push_back(inviteJson(invite, now));
    body["invites"] = invites;

    if (json) {
        out << body.dump(2) << "\n";
        return 0;
    }
    out << "User " << user->name << "\n"
        << "  id              " << user->id << "\n"
        << "  created         " << isoTime(user->createdAt) << "\n"
        << "  state           "
        << (user->disabledAt ? "disabled since " + isoTime(*user->disabledAt) : "active") << "\n"
        << "  TOTP            " << body["totp"]["state"].get<std::string>();
    if (totp && totp->consecutiveFailures > 0)
        out << " (" << totp->consecutiveFailures << " consecutive failures)";
    if (totp && totp->locked)
        out << ": `vigil-verifier users unlock " << user->name << "` unlocks it";
    out << "\n  recovery codes  " << body["recovery_codes_left"].get<int>() << " left\n";
    out << "Devices:\n";
    if (devices.empty())
        out << "  none\n";
    for (const auto &device : devices)
        out << "  " << device["device_id"].get<std::string>() << "  "
            << device["hostname"].get<std::string>()
            << (device["device_revoked"].get<bool>() ? " (revoked)" : "") << ", key "
            << device["key_assurance"].get<std::string>() << ", account "
            << device["local_account"].get<std::string>() << ", enrolled "
            << device["enrolled_at"].get<std::string>() << "\n";
    out << "Active sessions:\n";
    if (sessions.empty())
        out << "  none\n";
    for (const auto &session : sessions) {
        out << "  " << session["device_id"].get<std::string>() << "  since "
            << session["auth_time"].get<std::string>() << " until "
            << session["expires_at"].get<std::string>() << ", amr";
        for (const auto &method : session["amr"])
            out << " " << method.get<std::string>();
        out << "\n";
    }
    out << "Invites:\n";
    if (invites.empty())
        out << "  none\n";
    for (const auto &invite : invites) {
        out << "  " << invite["id"].get<std::string>() << "  "
            << invite["state"].get<std::string>();
        if (invite["used_at"].is_string())
            out << " " << invite["used_at"].get<std::string>() << " by device "
                << invite["used_by_device"].get<std::string>();
        else
            out << ", expires " << invite["expires_at"].get<std::string>();
        out << "\n";
    }
    return 0;
}

int disableUser(Storage &storage, const std::string &name, TimePoint now, std::ostream &out,
                std::ostream &err)
{
    const auto user = findUser(storage, name, err);
    if (!user)
        return 1;
    if (!storage.setUserDisabled(user->id, now)) {
        err << "vigil-verifier: user " << name << " is disabled already\n";
        return 1;
    }
    out << "Disabled user " << name
        << ": its sessions are revoked, and its invites, keys, TOTP and recovery codes are "
           "refused from now on\n";
    return 0;
}

int unlockUser(Storage &storage, const std::string &name, std::ostream &out, std::ostream &err)
{
    const auto user = findUser(storage, name, err);
    if (!user)
        return 1;
    if (!storage.unlockTotp(user->id)) {
        err << "vigil-verifier: user " << name << " has no TOTP lockout or failures to clear\n";
        return 1;
    }
    out << "Unlocked TOTP for user " << name << "\n";
    return 0;
}

int resetUserTotp(Storage &storage, const std::string &name, std::ostream &out, std::ostream &err)
{
    const auto user = findUser(storage, name, err);
    if (!user)
        return 1;
    if (!storage.resetTotp(user->id)) {
        err << "vigil-verifier: user " << name << " has no TOTP to reset\n";
        return 1;
    }
    out << "Reset TOTP for user " << name
        << ": they set up their authenticator app again at their next sign-in set-up\n";
    return 0;
}

int inviteUser(Storage &storage, const std::string &name, std::chrono::seconds ttl, TimePoint now,
               bool json, std::ostream &out, std::ostream &err)
{
    const auto user = findUser(storage, name, err);
    if (!user)
        return 1;
    if (user->disabledAt) {
        err << "vigil-verifier: user " << name << " is disabled: an invite would be refused\n";
        return 1;
    }
    const NewUserInvite made = makeUserInvite(user->id, now, ttl);
    storage.addUserInvite(made.invite);
    if (json) {
        nlohmann::json body = inviteJson(made.invite, now);
        body["user"] = name;
        body["user_id"] = user->id;
        body["code"] = made.code;
        out << body.dump(2) << "\n";
    } else {
        out << made.code << "\n"
            << "invite " << made.invite.id << " for " << name << ", one device, expires "
            << isoTime(made.invite.expiresAt) << ". Shown once: only its hash is stored.\n";
    }
    return 0;
}

} // namespace vigil::server
