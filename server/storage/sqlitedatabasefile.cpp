#include "server/storage/sqlitedatabasefile.h"

#include "core/text.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::server::sqlite {
namespace {

// 'Vigl' in the database header, so that a SQLite file of another program is refused rather than
// having our tables added to it.
constexpr int applicationId = 0x5669676c;

// Each entry runs once, in its own transaction, in order; never edit one that has shipped —
// append a new one.
struct Migration
{
    int version;
    const char *sql;
};

constexpr Migration migrations[] = {
    {1, R"sql(
CREATE TABLE enrollment_tokens (
    id TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    max_uses INTEGER NOT NULL CHECK (max_uses >= 1),
    uses INTEGER NOT NULL CHECK (uses >= 0),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    jkt TEXT NOT NULL UNIQUE,
    device_key_jwk TEXT NOT NULL,
    assurance TEXT NOT NULL CHECK (assurance IN ('tpm', 'software')),
    hostname TEXT NOT NULL,
    ek_public BLOB NOT NULL,
    ak_public BLOB NOT NULL,
    enrollment_token_id TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT NOT NULL,
    tpm_clock INTEGER,
    tpm_reset_count INTEGER,
    tpm_restart_count INTEGER,
    last_appraisal_id TEXT NOT NULL,
    last_verdict TEXT NOT NULL
        CHECK (last_verdict IN ('', 'compliant', 'non_compliant', 'rejected')),
    last_appraised_at INTEGER,
    CHECK ((tpm_clock IS NULL) = (tpm_reset_count IS NULL)
           AND (tpm_clock IS NULL) = (tpm_restart_count IS NULL))
) STRICT;

-- The device row-to-be is kept whole (same columns as devices), so activation needs nothing
-- from the request but the secret.
CREATE TABLE pending_enrollments (
    id TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    jkt TEXT NOT NULL,
    device_key_jwk TEXT NOT NULL,
    assurance TEXT NOT NULL CHECK (assurance IN ('tpm', 'software')),
    hostname TEXT NOT NULL,
    ek_public BLOB NOT NULL,
    ak_public BLOB NOT NULL,
    enrollment_token_id TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT NOT NULL,
    tpm_clock INTEGER,
    tpm_reset_count INTEGER,
    tpm_restart_count INTEGER,
    last_appraisal_id TEXT NOT NULL,
    last_verdict TEXT NOT NULL,
    last_appraised_at INTEGER
) STRICT;

-- One B-tree (no rowid): a nonce is one insert and one delete of one row.
CREATE TABLE nonces (
    device_id TEXT NOT NULL REFERENCES devices (id),
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) STRICT, WITHOUT ROWID;

-- seq keeps the order of recording for appraisals within the same second.
CREATE TABLE appraisals (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL REFERENCES devices (id),
    appraised_at INTEGER NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('compliant', 'non_compliant', 'rejected')),
    checks_json TEXT NOT NULL,
    error TEXT NOT NULL,
    report_jti TEXT NOT NULL
) STRICT;
CREATE INDEX appraisals_by_device ON appraisals (device_id, appraised_at);
)sql"},
    // Users and MFA (docs/mfa.md). Codes and handles are stored as hashes, TOTP secrets sealed.
    {2, R"sql(
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
) STRICT;

CREATE TABLE user_invites (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by_device TEXT NOT NULL
) STRICT;
CREATE INDEX user_invites_by_user ON user_invites (user_id, created_at);

CREATE TABLE user_devices (
    user_id TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    local_account TEXT NOT NULL,
    key_assurance TEXT NOT NULL CHECK (key_assurance IN ('tpm', 'software')),
    key_jwk TEXT NOT NULL,
    key_jkt TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    sealed_secret BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    pending_expires_at INTEGER NOT NULL,
    last_accepted_step INTEGER,
    consecutive_failures INTEGER NOT NULL CHECK (consecutive_failures >= 0),
    last_failure_at INTEGER,
    locked INTEGER NOT NULL CHECK (locked IN (0, 1))
) STRICT;

CREATE TABLE user_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

-- amr: the methods separated by single spaces (RFC 8176 values have none).
CREATE TABLE user_sessions (
    handle_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX user_sessions_by_user ON user_sessions (user_id, expires_at);
CREATE INDEX user_sessions_by_expiry ON user_sessions (expires_at);
)sql"},
};

constexpr int knownVersion = migrations[std::size(migrations) - 1].version;

std::optional<std::string> accountName(uid_t uid)
{
    std::string buffer(16384, '\0');
    passwd entry{};
    passwd *found = nullptr;
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return std::nullopt;
    return std::string(found->pw_name);
}

std::string describeUser(uid_t uid)
{
    const auto name = accountName(uid);
    return (name ? *name + " " : std::string()) + "(uid " + std::to_string(uid) + ")";
}

// The database holds which keys are enrolled and which tokens and nonces are live: another user
// who could read it learns them, one who could write it could enroll a device.

int storedVersion(Connection &connection)
{
    Query query(connection, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                "reading the schema version");
    query.step();
    return static_cast<int>(query.integer(0));
}

// Refuses a SQLite file that is not ours and one written by a newer build, and gives a new
// file our application id and the migrations table.
void adopt(Connection &connection)
{
    Transaction transaction(connection, "opening");
    std::int64_t id = 0;
    {
        Query query(connection, "PRAGMA application_id", "opening");
        query.step();
        id = query.integer(0);
    }
    if (id != applicationId) {
        Query tables(connection, "SELECT count(*) FROM sqlite_schema", "opening");
        tables.step();
        if (id != 0 || tables.integer(0) != 0)
            throw StorageError(connection.path() +
                               " is a SQLite database of another program, not vigil-verifier's");
        const std::string sql = "PRAGMA application_id = " + std::to_string(applicationId) +
                                "; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                                " applied_at INTEGER NOT NULL) STRICT";
        connection.exec(sql.c_str(), "creating the schema");
    }
    const int version = storedVersion(connection);
    if (version > knownVersion)
        throw StorageError(
            connection.path() + ": created by a newer vigil-verifier: schema version " +
            std::to_string(version) + ", this build knows up to " + std::to_string(knownVersion));
    transaction.commit();
}

// Persistent in the file; a no-op when it already is in WAL mode.
void enableWal(Connection &connection)
{
    Query query(connection, "PRAGMA journal_mode = WAL", "enabling write-ahead logging");
    query.step();
    const std::string mode = query.text(0);
    if (mode != "wal")
        throw StorageError(connection.path() + ": cannot use write-ahead logging (journal mode " +
                           mode + ")");
}

void migrate(Connection &connection)
{
    for (const Migration &migration : migrations) {
        Transaction transaction(connection, "migrating the schema");
        // Read again inside the transaction: another process may have migrated meanwhile.
        if (storedVersion(connection) >= migration.version)
            continue;
        connection.exec(migration.sql, "migrating the schema");
        const auto now = unixSeconds(std::chrono::system_clock::now());
        Query record(connection,
                     "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                     "migrating the schema");
        record.bind(std::int64_t{migration.version}).bind(now).run();
        transaction.commit();
    }
}

} // namespace

void checkPrivateFile(const std::string &path, bool mustExist)
{
    struct stat status = {};
    if (lstat(path.c_str(), &status) != 0) {
        if (errno == ENOENT && !mustExist)
            return;
        throw StorageError(path + ": " + std::strerror(errno));
    }
    if (S_ISLNK(status.st_mode))
        throw StorageError(path + " is a symbolic link: give vigil-verifier the real path");
    if (!S_ISREG(status.st_mode))
        throw StorageError(path + " is not a regular file");
    if (status.st_uid != geteuid())
        throw StorageError(path + " is owned by " + describeUser(status.st_uid) + ", not by " +
                           describeUser(geteuid()) + " who runs vigil-verifier: run `chown " +
                           accountName(geteuid()).value_or(std::to_string(geteuid())) + " " + path +
                           "` or run vigil-verifier as its owner");
    if ((status.st_mode & 077) != 0)
        throw StorageError(path + " is accessible to group or others (mode " +
                           octalMode(status.st_mode) + "): run `chmod 600 " + path + "`");
}

void createPrivateFile(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return; // created meanwhile by someone else: checkPrivateFile judges it
        throw StorageError("cannot create " + path + ": " + std::strerror(errno));
    }
    // A umask such as 0277 would leave the file unwritable for ourselves.
    const int rc = fchmod(fd, 0600);
    const int error = errno;
    ::close(fd);
    if (rc != 0)
        throw StorageError("cannot set the mode of " + path + ": " + std::strerror(error));
}

void prepareSchema(Connection &connection)
{
    adopt(connection);
    enableWal(connection);
    migrate(connection);
}

int latestSchemaVersion()
{
    return knownVersion;
}

} // namespace vigil::server::sqlite
