// SqliteStorage's users, invites, user keys, TOTP state, recovery codes and user sessions
// (docs/mfa.md). The tables are schema version 2 (sqlitedatabasefile.cpp).

#include "server/storage/sqlitestorageprivate.h"

#include <algorithm>
#include <cstdint>

namespace vigil::server {

using namespace sqlite;

namespace {

constexpr char sqlAddUser[] = "INSERT INTO users (id, name, created_at, disabled_at) "
                              "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
constexpr char sqlUser[] = "SELECT id, name, created_at, disabled_at FROM users WHERE id = ?";
constexpr char sqlUserByName[] =
    "SELECT id, name, created_at, disabled_at FROM users WHERE name = ?";
constexpr char sqlUsers[] = "SELECT id, name, created_at, disabled_at FROM users ORDER BY name";
constexpr char sqlDisableUser[] =
    "UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL";
constexpr char sqlRevokeUserSessions[] =
    "UPDATE user_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL";

#define VIGIL_INVITE_COLUMNS                                                                       \
    "id, user_id, code_hash, created_at, expires_at, used_at, used_by_device"
constexpr char sqlAddInvite[] =
    "INSERT INTO user_invites (" VIGIL_INVITE_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr char sqlInvites[] = "SELECT " VIGIL_INVITE_COLUMNS
                              " FROM user_invites WHERE user_id = ? ORDER BY created_at DESC, id";
// The conditions in the statement itself: two racing redemptions cannot both match.
constexpr char sqlRedeemInvite[] =
    "UPDATE user_invites SET used_at = ?, used_by_device = ? "
    "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING " VIGIL_INVITE_COLUMNS;

#define VIGIL_USER_DEVICE_COLUMNS                                                                  \
    "user_id, device_id, local_account, key_assurance, key_jwk, key_jkt, enrolled_at"
constexpr char sqlPutUserDevice[] =
    "INSERT INTO user_devices (" VIGIL_USER_DEVICE_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (user_id, device_id) DO UPDATE SET local_account = excluded.local_account, "
    "key_assurance = excluded.key_assurance, key_jwk = excluded.key_jwk, "
    "key_jkt = excluded.key_jkt, enrolled_at = excluded.enrolled_at";
constexpr char sqlUserDevice[] =
    "SELECT " VIGIL_USER_DEVICE_COLUMNS " FROM user_devices WHERE user_id = ? AND device_id = ?";
constexpr char sqlUserDevices[] = "SELECT " VIGIL_USER_DEVICE_COLUMNS
                                  " FROM user_devices WHERE user_id = ? ORDER BY enrolled_at, "
                                  "device_id";

#define VIGIL_TOTP_COLUMNS                                                                         \
    "user_id, sealed_secret, state, pending_expires_at, last_accepted_step, "                      \
    "consecutive_failures, last_failure_at, locked"
constexpr char sqlPutPendingTotp[] =
    "INSERT INTO user_totp (user_id, sealed_secret, state, pending_expires_at, "
    "consecutive_failures, locked) VALUES (?, ?, 'pending', ?, 0, 0) "
    "ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, "
    "pending_expires_at = excluded.pending_expires_at, last_accepted_step = NULL "
    "WHERE state = 'pending'";
constexpr char sqlTotp[] = "SELECT " VIGIL_TOTP_COLUMNS " FROM user_totp WHERE user_id = ?";
constexpr char sqlActivateTotp[] =
    "UPDATE user_totp SET state = 'active', last_accepted_step = ?, consecutive_failures = 0, "
    "last_failure_at = NULL WHERE user_id = ? AND state = 'pending' AND locked = 0 "
    "AND pending_expires_at > ?";
constexpr char sqlAcceptTotpStep[] =
    "UPDATE user_totp SET last_accepted_step = ?, consecutive_failures = 0, "
    "last_failure_at = NULL WHERE user_id = ? AND state = 'active' AND locked = 0 "
    "AND (last_accepted_step IS NULL OR last_accepted_step < ?)";
constexpr char sqlTotpFailure[] =
    "UPDATE user_totp SET consecutive_failures = consecutive_failures + 1, last_failure_at = ?, "
    "locked = (locked OR consecutive_failures + 1 >= ?) WHERE user_id = ? "
    "RETURNING " VIGIL_TOTP_COLUMNS;
constexpr char sqlUnlockTotp[] =
    "UPDATE user_totp SET locked = 0, consecutive_failures = 0, last_failure_at = NULL "
    "WHERE user_id = ? AND (locked = 1 OR consecutive_failures > 0)";

constexpr char sqlResetTotp[] = "DELETE FROM user_totp WHERE user_id = ?";
constexpr char sqlDeleteRecoveryCodes[] = "DELETE FROM user_recovery_codes WHERE user_id = ?";
constexpr char sqlAddRecoveryCode[] =
    "INSERT INTO user_recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)";
constexpr char sqlUseRecoveryCode[] = "UPDATE user_recovery_codes SET used_at = ? "
                                      "WHERE user_id = ? AND code_hash = ? AND used_at IS NULL";
constexpr char sqlRecoveryCodesLeft[] =
    "SELECT count(*) FROM user_recovery_codes WHERE user_id = ? AND used_at IS NULL";

#define VIGIL_SESSION_COLUMNS                                                                      \
    "handle_hash, user_id, device_id, auth_time, expires_at, amr, acr, revoked_at"
constexpr char sqlAddSession[] =
    "INSERT INTO user_sessions (" VIGIL_SESSION_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char sqlSession[] =
    "SELECT " VIGIL_SESSION_COLUMNS " FROM user_sessions WHERE handle_hash = ?";
constexpr char sqlActiveSessions[] =
    "SELECT " VIGIL_SESSION_COLUMNS " FROM user_sessions WHERE user_id = ? AND expires_at > ? "
    "AND revoked_at IS NULL ORDER BY auth_time, handle_hash";
constexpr char sqlRevokeSession[] =
    "UPDATE user_sessions SET revoked_at = ? WHERE handle_hash = ? AND revoked_at IS NULL";

User readUser(const Query &query)
{
    User user;
    user.id = query.text(0);
    user.name = query.text(1);
    user.createdAt = query.time(2);
    user.disabledAt = query.optionalTime(3);
    return user;
}

UserInvite readInvite(const Query &query)
{
    UserInvite invite;
    invite.id = query.text(0);
    invite.userId = query.text(1);
    invite.codeHash = query.blob(2);
    invite.createdAt = query.time(3);
    invite.expiresAt = query.time(4);
    invite.usedAt = query.optionalTime(5);
    invite.usedByDevice = query.text(6);
    return invite;
}

UserDevice readUserDevice(const Query &query)
{
    UserDevice device;
    device.userId = query.text(0);
    device.deviceId = query.text(1);
    device.localAccount = query.text(2);
    device.keyAssurance = query.text(3);
    device.keyJwk = query.text(4);
    device.keyJkt = query.text(5);
    device.enrolledAt = query.time(6);
    return device;
}

UserTotp readTotp(const Query &query)
{
    UserTotp totp;
    totp.userId = query.text(0);
    totp.sealedSecret = query.blob(1);
    totp.state = query.text(2) == "active" ? TotpState::Active : TotpState::Pending;
    totp.pendingExpiresAt = query.time(3);
    if (!query.isNull(4))
        totp.lastAcceptedStep = static_cast<std::uint64_t>(query.integer(4));
    totp.consecutiveFailures = static_cast<int>(query.integer(5));
    totp.lastFailureAt = query.optionalTime(6);
    totp.locked = query.integer(7) != 0;
    return totp;
}

std::string joinAmr(const std::vector<std::string> &amr)
{
    std::string text;
    for (const auto &method : amr) {
        if (method.empty() || method.find(' ') != std::string::npos)
            throw StorageError("an amr value is empty or holds a space: " + method);
        if (!text.empty())
            text += ' ';
        text += method;
    }
    return text;
}

std::vector<std::string> splitAmr(const std::string &text)
{
    std::vector<std::string> amr;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = std::min(text.find(' ', start), text.size());
        amr.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return amr;
}

UserSession readSession(const Query &query)
{
    UserSession session;
    session.handleHash = query.blob(0);
    session.userId = query.text(1);
    session.deviceId = query.text(2);
    session.authTime = query.time(3);
    session.expiresAt = query.time(4);
    session.amr = splitAmr(query.text(5));
    session.acr = query.text(6);
    session.revokedAt = query.optionalTime(7);
    return session;
}

// A TOTP step as SQLite's signed integer: steps are 30 s periods since 1970, far below 2^63.
std::int64_t stepValue(std::uint64_t step)
{
    if (step > static_cast<std::uint64_t>(INT64_MAX))
        throw StorageError("TOTP step out of range");
    return static_cast<std::int64_t>(step);
}

} // namespace

bool SqliteStorage::addUser(const User &user)
{
    constexpr const char *what = "adding a user";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlAddUser, what)
            .bind(user.id)
            .bind(user.name)
            .bind(user.createdAt)
            .bind(user.disabledAt)
            .run();
        return connection.changes() > 0;
    });
}

std::optional<User> SqliteStorage::user(const std::string &id)
{
    return m_impl->read([&](Connection &connection) -> std::optional<User> {
        Query query(connection, sqlUser, "reading a user");
        if (!query.bind(id).step())
            return std::nullopt;
        return readUser(query);
    });
}

std::optional<User> SqliteStorage::userByName(const std::string &name)
{
    return m_impl->read([&](Connection &connection) -> std::optional<User> {
        Query query(connection, sqlUserByName, "reading a user");
        if (!query.bind(name).step())
            return std::nullopt;
        return readUser(query);
    });
}

std::vector<User> SqliteStorage::users()
{
    return m_impl->read([&](Connection &connection) {
        std::vector<User> users;
        Query query(connection, sqlUsers, "listing users");
        while (query.step())
            users.push_back(readUser(query));
        return users;
    });
}

bool SqliteStorage::setUserDisabled(const std::string &id, TimePoint now)
{
    constexpr const char *what = "disabling a user";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlDisableUser, what).bind(now).bind(id).run();
        if (connection.changes() == 0)
            return false;
        Query(connection, sqlRevokeUserSessions, what).bind(now).bind(id).run();
        return true;
    });
}

void SqliteStorage::addUserInvite(const UserInvite &invite)
{
    constexpr const char *what = "adding a user invite";
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlAddInvite, what)
            .bind(invite.id)
            .bind(invite.userId)
            .bind(invite.codeHash)
            .bind(invite.createdAt)
            .bind(invite.expiresAt)
            .bind(invite.usedAt)
            .bind(invite.usedByDevice)
            .run();
    });
}

std::vector<UserInvite> SqliteStorage::userInvites(const std::string &userId)
{
    return m_impl->read([&](Connection &connection) {
        std::vector<UserInvite> invites;
        Query query(connection, sqlInvites, "listing user invites");
        query.bind(userId);
        while (query.step())
            invites.push_back(readInvite(query));
        return invites;
    });
}

std::optional<UserInvite> SqliteStorage::redeemUserInvite(const Bytes &codeHash, TimePoint now,
                                                          const std::string &deviceId)
{
    constexpr const char *what = "redeeming a user invite";
    return m_impl->write(what, [&](Connection &connection) -> std::optional<UserInvite> {
        Query query(connection, sqlRedeemInvite, what);
        query.bind(now).bind(deviceId).bind(codeHash).bind(now);
        if (!query.step())
            return std::nullopt;
        UserInvite invite = readInvite(query);
        query.run();
        return invite;
    });
}

void SqliteStorage::putUserDevice(const UserDevice &device)
{
    constexpr const char *what = "storing a user key";
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlPutUserDevice, what)
            .bind(device.userId)
            .bind(device.deviceId)
            .bind(device.localAccount)
            .bind(device.keyAssurance)
            .bind(device.keyJwk)
            .bind(device.keyJkt)
            .bind(device.enrolledAt)
            .run();
    });
}

std::optional<UserDevice> SqliteStorage::userDevice(const std::string &userId,
                                                    const std::string &deviceId)
{
    return m_impl->read([&](Connection &connection) -> std::optional<UserDevice> {
        Query query(connection, sqlUserDevice, "reading a user key");
        if (!query.bind(userId).bind(deviceId).step())
            return std::nullopt;
        return readUserDevice(query);
    });
}

std::vector<UserDevice> SqliteStorage::userDevices(const std::string &userId)
{
    return m_impl->read([&](Connection &connection) {
        std::vector<UserDevice> devices;
        Query query(connection, sqlUserDevices, "listing user keys");
        query.bind(userId);
        while (query.step())
            devices.push_back(readUserDevice(query));
        return devices;
    });
}

bool SqliteStorage::putPendingTotp(const std::string &userId, const Bytes &sealedSecret,
                                   TimePoint pendingExpiresAt)
{
    constexpr const char *what = "storing a pending TOTP secret";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlPutPendingTotp, what)
            .bind(userId)
            .bind(sealedSecret)
            .bind(pendingExpiresAt)
            .run();
        return connection.changes() > 0;
    });
}

std::optional<UserTotp> SqliteStorage::userTotp(const std::string &userId)
{
    return m_impl->read([&](Connection &connection) -> std::optional<UserTotp> {
        Query query(connection, sqlTotp, "reading a user's TOTP");
        if (!query.bind(userId).step())
            return std::nullopt;
        return readTotp(query);
    });
}

bool SqliteStorage::activateTotp(const std::string &userId, std::uint64_t step, TimePoint now)
{
    constexpr const char *what = "activating TOTP";
    const std::int64_t value = stepValue(step);
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlActivateTotp, what).bind(value).bind(userId).bind(now).run();
        return connection.changes() > 0;
    });
}

bool SqliteStorage::acceptTotpStep(const std::string &userId, std::uint64_t step, TimePoint)
{
    constexpr const char *what = "accepting a TOTP code";
    const std::int64_t value = stepValue(step);
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlAcceptTotpStep, what).bind(value).bind(userId).bind(value).run();
        return connection.changes() > 0;
    });
}

std::optional<UserTotp> SqliteStorage::recordTotpFailure(const std::string &userId, TimePoint now,
                                                         int lockAt)
{
    constexpr const char *what = "counting a TOTP failure";
    return m_impl->write(what, [&](Connection &connection) -> std::optional<UserTotp> {
        Query query(connection, sqlTotpFailure, what);
        query.bind(now).bind(std::int64_t{lockAt}).bind(userId);
        if (!query.step())
            return std::nullopt;
        UserTotp totp = readTotp(query);
        query.run();
        return totp;
    });
}

bool SqliteStorage::unlockTotp(const std::string &userId)
{
    constexpr const char *what = "unlocking TOTP";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlUnlockTotp, what).bind(userId).run();
        return connection.changes() > 0;
    });
}

bool SqliteStorage::resetTotp(const std::string &userId)
{
    constexpr const char *what = "resetting TOTP";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlResetTotp, what).bind(userId).run();
        return connection.changes() > 0;
    });
}

void SqliteStorage::replaceRecoveryCodes(const std::string &userId,
                                         const std::vector<Bytes> &hashes, TimePoint now)
{
    constexpr const char *what = "replacing recovery codes";
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlDeleteRecoveryCodes, what).bind(userId).run();
        for (const Bytes &hash : hashes)
            Query(connection, sqlAddRecoveryCode, what).bind(userId).bind(hash).bind(now).run();
    });
}

bool SqliteStorage::useRecoveryCode(const std::string &userId, const Bytes &hash, TimePoint now)
{
    constexpr const char *what = "using a recovery code";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlUseRecoveryCode, what).bind(now).bind(userId).bind(hash).run();
        return connection.changes() > 0;
    });
}

int SqliteStorage::recoveryCodesLeft(const std::string &userId)
{
    return m_impl->read([&](Connection &connection) {
        Query query(connection, sqlRecoveryCodesLeft, "counting recovery codes");
        query.bind(userId).step();
        return static_cast<int>(query.integer(0));
    });
}

void SqliteStorage::addUserSession(const UserSession &session)
{
    constexpr const char *what = "adding a user session";
    const std::string amr = joinAmr(session.amr);
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlAddSession, what)
            .bind(session.handleHash)
            .bind(session.userId)
            .bind(session.deviceId)
            .bind(session.authTime)
            .bind(session.expiresAt)
            .bind(amr)
            .bind(session.acr)
            .bind(session.revokedAt)
            .run();
    });
}

std::optional<UserSession> SqliteStorage::userSession(const Bytes &handleHash)
{
    return m_impl->read([&](Connection &connection) -> std::optional<UserSession> {
        Query query(connection, sqlSession, "reading a user session");
        if (!query.bind(handleHash).step())
            return std::nullopt;
        return readSession(query);
    });
}

std::vector<UserSession> SqliteStorage::activeUserSessions(const std::string &userId, TimePoint now)
{
    return m_impl->read([&](Connection &connection) {
        std::vector<UserSession> sessions;
        Query query(connection, sqlActiveSessions, "listing user sessions");
        query.bind(userId).bind(now);
        while (query.step())
            sessions.push_back(readSession(query));
        return sessions;
    });
}

bool SqliteStorage::revokeUserSession(const Bytes &handleHash, TimePoint now)
{
    constexpr const char *what = "revoking a user session";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlRevokeSession, what).bind(now).bind(handleHash).run();
        return connection.changes() > 0;
    });
}

} // namespace vigil::server
