// Threading: one connection behind a mutex, plus a checkpointer thread with a connection of its
// own. Chosen by measurement (bench/storage_bench, release build, 2 shared cores, ext4; figures
// are ranges over runs, the machine being busy):
//
// - SQLite lets one writer in at a time whatever we do, and the posture path writes (then as
//   three calls: use the nonce, record the appraisal, add the next nonce). A pool of 4
//   connections, writers queued on an in-process mutex (SQLite's busy handler would sleep in
//   millisecond steps), gave the posture path nothing: 8 threads 3,600-3,900/s against
//   3,700-6,700/s for one connection. It did scale reads (deviceByJkt, 8 threads:
//   180,000-350,000/s against 180,000-220,000/s), but a read costs 3-7 us of CPU either way,
//   which no request notices. A connection per thread (thread_local) is the pool again, plus
//   connections that outlive their storage. So: one connection, one page cache, one set of
//   prepared statements.
// - What one connection did cost was the checkpoint: SQLite's runs inside the COMMIT that
//   crosses 1,000 log pages, copying them and syncing twice while every other request waits
//   for the mutex. Checkpointer copies in the background instead: posture 1 thread
//   4,300-5,500/s against 3,200-3,700/s, 8 threads 6,300-7,000/s against 4,000/s.
// - Those three calls became one transaction (recordReport): 69-74 us of CPU per appraisal
//   with the checkpoint's share (median latency 47 us), against 85-120 us before.
//
// Other processes (the admin CLI) open the same file: SQLite's locks and the 5 s busy timeout
// keep them apart. That is also why the locking mode is not EXCLUSIVE: it would save the ~6
// fcntl calls each transaction makes, but lock the CLI out.

#include "sqlitestorage.h"

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <unordered_map>

namespace vigil::server {
namespace {

// 'Vigl' in the database header, so that a SQLite file of another program is refused rather than
// having our tables added to it.
constexpr int applicationId = 0x5669676c;

constexpr std::chrono::milliseconds busyTimeout{5000};

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
};

constexpr int knownVersion = migrations[std::size(migrations) - 1].version;

// Every column of a device but its id, in the order bindDevice and readDevice use.
#define VIGIL_DEVICE_COLUMNS                                                                       \
    "jkt, device_key_jwk, assurance, hostname, ek_public, ak_public, enrollment_token_id, "        \
    "enrolled_at, revoked_at, revoke_reason, tpm_clock, tpm_reset_count, tpm_restart_count, "      \
    "last_appraisal_id, last_verdict, last_appraised_at"
#define VIGIL_DEVICE_PARAMETERS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

// The statements, each prepared once per connection and found again by its address.
constexpr char sqlBegin[] = "BEGIN IMMEDIATE";
constexpr char sqlCommit[] = "COMMIT";
constexpr char sqlRollback[] = "ROLLBACK";

constexpr char sqlAddToken[] =
    "INSERT INTO enrollment_tokens (id, secret_hash, label, max_uses, uses, created_at, "
    "expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char sqlTokens[] =
    "SELECT id, secret_hash, label, max_uses, uses, created_at, "
    "expires_at, revoked_at FROM enrollment_tokens ORDER BY created_at, id";
constexpr char sqlTokenByHash[] =
    "SELECT id, secret_hash, label, max_uses, uses, created_at, expires_at, revoked_at "
    "FROM enrollment_tokens WHERE secret_hash = ?";
constexpr char sqlUseToken[] = "UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ?";
constexpr char sqlRevokeToken[] =
    "UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";

constexpr char sqlDeviceWithJktExists[] = "SELECT 1 FROM devices WHERE jkt = ?";
constexpr char sqlAddPending[] =
    "INSERT INTO pending_enrollments (id, secret_hash, expires_at, device_id, " VIGIL_DEVICE_COLUMNS
    ") VALUES (?, ?, ?, ?, " VIGIL_DEVICE_PARAMETERS ")";
constexpr char sqlTakePending[] = "DELETE FROM pending_enrollments WHERE id = ? RETURNING id, "
                                  "secret_hash, expires_at, device_id, " VIGIL_DEVICE_COLUMNS;
constexpr char sqlAddDevice[] =
    "INSERT INTO devices (id, " VIGIL_DEVICE_COLUMNS ") VALUES (?, " VIGIL_DEVICE_PARAMETERS
    ") ON CONFLICT (jkt) DO NOTHING";
constexpr char sqlDevice[] = "SELECT id, " VIGIL_DEVICE_COLUMNS " FROM devices WHERE id = ?";
constexpr char sqlDeviceByJkt[] = "SELECT id, " VIGIL_DEVICE_COLUMNS " FROM devices WHERE jkt = ?";
constexpr char sqlDevices[] =
    "SELECT id, " VIGIL_DEVICE_COLUMNS " FROM devices ORDER BY enrolled_at, id";
constexpr char sqlRevokeDevice[] = "UPDATE devices SET revoked_at = ?, revoke_reason = ? "
                                   "WHERE id = ? AND revoked_at IS NULL";
constexpr char sqlDeleteDeviceNonces[] = "DELETE FROM nonces WHERE device_id = ?";

constexpr char sqlAddNonce[] = "INSERT INTO nonces (device_id, nonce, expires_at) VALUES (?, ?, ?)";
constexpr char sqlUseNonce[] =
    "DELETE FROM nonces WHERE device_id = ? AND nonce = ? RETURNING expires_at";

constexpr char sqlLatestAppraisal[] =
    "UPDATE devices SET last_appraisal_id = ?, last_verdict = ?, last_appraised_at = ? "
    "WHERE id = ?";
constexpr char sqlLatestAppraisalAndCounters[] =
    "UPDATE devices SET last_appraisal_id = ?, last_verdict = ?, last_appraised_at = ?, "
    "tpm_clock = ?, tpm_reset_count = ?, tpm_restart_count = ? WHERE id = ?";
constexpr char sqlAddAppraisal[] =
    "INSERT INTO appraisals (id, device_id, appraised_at, verdict, checks_json, error, "
    "report_jti) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr char sqlAppraisals[] =
    "SELECT id, device_id, appraised_at, verdict, checks_json, error, report_jti FROM appraisals "
    "WHERE device_id = ? ORDER BY appraised_at DESC, seq DESC LIMIT ?";

constexpr char sqlPurgeNonces[] = "DELETE FROM nonces WHERE expires_at <= ?";
constexpr char sqlPurgePending[] = "DELETE FROM pending_enrollments WHERE expires_at <= ?";

std::int64_t unixSeconds(TimePoint time)
{
    return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

TimePoint fromUnixSeconds(std::int64_t seconds)
{
    return TimePoint(std::chrono::seconds(seconds));
}

struct DatabaseDeleter
{
    void operator()(sqlite3 *db) const { sqlite3_close_v2(db); }
};
using DatabasePtr = std::unique_ptr<sqlite3, DatabaseDeleter>;

struct StatementDeleter
{
    void operator()(sqlite3_stmt *statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

std::string damagedHint(int code)
{
    const int primary = code & 0xff;
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
        return " (the file is not a vigil-verifier database or is damaged: restore it from a "
               "backup or move it away)";
    return {};
}

class Connection
{
public:
    explicit Connection(const std::string &path) : m_path(path)
    {
        sqlite3 *db = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &db,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                           SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
                                       nullptr);
        m_db.reset(db);
        if (rc != SQLITE_OK) {
            if (!db)
                throw StorageError(path + ": cannot open: out of memory");
            fail(rc, "opening");
        }
        sqlite3_busy_timeout(db, static_cast<int>(busyTimeout.count()));
    }

    sqlite3 *db() const { return m_db.get(); }
    const std::string &path() const { return m_path; }

    [[noreturn]] void fail(int code, const char *what) const
    {
        throw StorageError(m_path + ": " + what + ": " + sqlite3_errmsg(m_db.get()) +
                           damagedHint(code));
    }

    void check(int rc, const char *what) const
    {
        if (rc != SQLITE_OK)
            fail(rc, what);
    }

    // For pragmas and migrations: any number of statements, results ignored.
    void exec(const char *sql, const char *what)
    {
        check(sqlite3_exec(m_db.get(), sql, nullptr, nullptr, nullptr), what);
    }

    sqlite3_stmt *prepared(const char *sql, const char *what)
    {
        StatementPtr &slot = m_statements[sql];
        if (!slot) {
            sqlite3_stmt *statement = nullptr;
            const int rc = sqlite3_prepare_v3(m_db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT,
                                              &statement, nullptr);
            if (rc != SQLITE_OK) {
                m_statements.erase(sql);
                fail(rc, what);
            }
            slot.reset(statement);
        }
        return slot.get();
    }

    int changes() const { return sqlite3_changes(m_db.get()); }

private:
    std::string m_path;
    DatabasePtr m_db;
    // Declared after m_db: statements are finalised before the connection closes.
    std::unordered_map<const char *, StatementPtr> m_statements;
};

// One use of a cached statement: binds in order, steps, and resets on the way out so that no
// statement keeps a read transaction open.
class Query
{
public:
    Query(Connection &connection, const char *sql, const char *what)
        : m_connection(connection), m_statement(connection.prepared(sql, what)), m_what(what)
    {
    }
    ~Query()
    {
        sqlite3_reset(m_statement);
        sqlite3_clear_bindings(m_statement);
    }
    Query(const Query &) = delete;
    Query &operator=(const Query &) = delete;

    // Bound values are not copied: they must outlive the query, hence no temporaries.
    Query &bind(std::string_view text)
    {
        // A null pointer would bind NULL rather than the empty string.
        check(sqlite3_bind_text(m_statement, ++m_parameter, text.empty() ? "" : text.data(),
                                static_cast<int>(text.size()), SQLITE_STATIC));
        return *this;
    }
    Query &bind(const std::string &text) { return bind(std::string_view(text)); }
    Query &bind(std::string &&) = delete;
    Query &bind(const Bytes &bytes)
    {
        if (bytes.empty())
            check(sqlite3_bind_zeroblob(m_statement, ++m_parameter, 0));
        else
            check(sqlite3_bind_blob(m_statement, ++m_parameter, bytes.data(),
                                    static_cast<int>(bytes.size()), SQLITE_STATIC));
        return *this;
    }
    Query &bind(Bytes &&) = delete;
    Query &bind(std::int64_t value)
    {
        check(sqlite3_bind_int64(m_statement, ++m_parameter, value));
        return *this;
    }
    Query &bind(std::nullopt_t)
    {
        check(sqlite3_bind_null(m_statement, ++m_parameter));
        return *this;
    }
    Query &bind(TimePoint time) { return bind(unixSeconds(time)); }
    Query &bind(const std::optional<TimePoint> &time)
    {
        return time ? bind(*time) : bind(std::nullopt);
    }
    // TPM counters, or three NULLs. The clock is a uint64 stored bit for bit in SQLite's signed
    // 64-bit integer: only equality is ever asked of it.
    Query &bind(const std::optional<TpmCounters> &counters)
    {
        if (!counters)
            return bind(std::nullopt).bind(std::nullopt).bind(std::nullopt);
        return bind(static_cast<std::int64_t>(counters->clock))
            .bind(static_cast<std::int64_t>(counters->resetCount))
            .bind(static_cast<std::int64_t>(counters->restartCount));
    }

    // True while there is a row.
    bool step()
    {
        const int rc = sqlite3_step(m_statement);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        m_connection.fail(rc, m_what);
    }
    void run()
    {
        while (step()) {
        }
    }

    bool isNull(int column) const
    {
        return sqlite3_column_type(m_statement, column) == SQLITE_NULL;
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(m_statement, column); }
    std::string text(int column) const
    {
        const auto *data = sqlite3_column_text(m_statement, column);
        const int size = sqlite3_column_bytes(m_statement, column);
        return data ? std::string(reinterpret_cast<const char *>(data), size) : std::string();
    }
    Bytes blob(int column) const
    {
        const auto *data =
            static_cast<const std::uint8_t *>(sqlite3_column_blob(m_statement, column));
        const int size = sqlite3_column_bytes(m_statement, column);
        return data ? Bytes(data, data + size) : Bytes();
    }
    TimePoint time(int column) const { return fromUnixSeconds(integer(column)); }
    std::optional<TimePoint> optionalTime(int column) const
    {
        if (isNull(column))
            return std::nullopt;
        return time(column);
    }
    std::optional<TpmCounters> counters(int column) const
    {
        if (isNull(column))
            return std::nullopt;
        return TpmCounters{static_cast<std::uint64_t>(integer(column)),
                           static_cast<std::uint32_t>(integer(column + 1)),
                           static_cast<std::uint32_t>(integer(column + 2))};
    }

private:
    void check(int rc)
    {
        if (rc != SQLITE_OK)
            m_connection.fail(rc, m_what);
    }

    Connection &m_connection;
    sqlite3_stmt *m_statement;
    const char *m_what;
    int m_parameter = 0;
};

// BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads before it writes
// never has to give up with SQLITE_BUSY_SNAPSHOT halfway; rolled back unless committed.
class Transaction
{
public:
    Transaction(Connection &connection, const char *what) : m_connection(connection), m_what(what)
    {
        Query(connection, sqlBegin, what).run();
    }
    ~Transaction()
    {
        if (!m_committed && !sqlite3_get_autocommit(m_connection.db())) {
            try {
                Query(m_connection, sqlRollback, m_what).run();
            } catch (const StorageError &) {
                // SQLite rolls back by itself when it cannot: nothing more to do here.
            }
        }
    }
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    void commit()
    {
        Query(m_connection, sqlCommit, m_what).run();
        m_committed = true;
    }

private:
    Connection &m_connection;
    const char *m_what;
    bool m_committed = false;
};

// Binds every device column but the id, in VIGIL_DEVICE_COLUMNS order.
void bindDevice(Query &query, const Device &device)
{
    query.bind(device.jkt)
        .bind(device.deviceKeyJwk)
        .bind(device.assurance)
        .bind(device.hostname)
        .bind(device.ekPublic)
        .bind(device.akPublic)
        .bind(device.enrollmentTokenId)
        .bind(device.enrolledAt)
        .bind(device.revokedAt)
        .bind(device.revokeReason)
        .bind(device.counters)
        .bind(device.lastAppraisalId)
        .bind(device.lastVerdict)
        .bind(device.lastAppraisedAt);
}

// Reads the id at column idColumn and VIGIL_DEVICE_COLUMNS from column `first` on.
Device readDevice(const Query &query, int idColumn, int first)
{
    Device device;
    device.id = query.text(idColumn);
    device.jkt = query.text(first);
    device.deviceKeyJwk = query.text(first + 1);
    device.assurance = query.text(first + 2);
    device.hostname = query.text(first + 3);
    device.ekPublic = query.blob(first + 4);
    device.akPublic = query.blob(first + 5);
    device.enrollmentTokenId = query.text(first + 6);
    device.enrolledAt = query.time(first + 7);
    device.revokedAt = query.optionalTime(first + 8);
    device.revokeReason = query.text(first + 9);
    device.counters = query.counters(first + 10);
    device.lastAppraisalId = query.text(first + 13);
    device.lastVerdict = query.text(first + 14);
    device.lastAppraisedAt = query.optionalTime(first + 15);
    return device;
}

EnrollmentToken readToken(const Query &query)
{
    EnrollmentToken token;
    token.id = query.text(0);
    token.secretHash = query.blob(1);
    token.label = query.text(2);
    token.maxUses = static_cast<int>(query.integer(3));
    token.uses = static_cast<int>(query.integer(4));
    token.createdAt = query.time(5);
    token.expiresAt = query.time(6);
    token.revokedAt = query.optionalTime(7);
    return token;
}

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

std::string octalMode(mode_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// The database holds which keys are enrolled and which tokens and nonces are live: another user
// who could read it learns them, one who could write it could enroll a device.
void checkPrivate(const std::string &path, bool mustExist)
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

void createPrivate(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return; // created meanwhile by someone else: checkPrivate judges it
        throw StorageError("cannot create " + path + ": " + std::strerror(errno));
    }
    // A umask such as 0277 would leave the file unwritable for ourselves.
    const int rc = fchmod(fd, 0600);
    const int error = errno;
    ::close(fd);
    if (rc != 0)
        throw StorageError("cannot set the mode of " + path + ": " + std::strerror(error));
}

// Connection settings that live per connection rather than in the file.
void configure(Connection &connection)
{
    connection.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                    "configuring the connection");
}

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

// Copies the write-ahead log back into the database file on a connection and thread of its
// own. SQLite's automatic checkpoint would run inside the COMMIT that crosses the threshold,
// under Private's mutex, and every request would wait while it copies up to 1,000 pages and
// syncs twice. A passive checkpoint takes no lock that writers need.
//
// Under steady writes a concurrent checkpoint never quite catches up (frames keep arriving
// while it syncs and copies), and SQLite starts the log afresh only after one that copied
// everything: left alone the log grew to 200 MB in bench_storage. So past hardLimitPages the
// serving connection checkpoints itself, as SQLite's automatic checkpoint would, but by then
// only the frames written since the last background pass are left to copy.
//
// A background pass starts once per thresholdPages new frames, not after every commit past the
// threshold. The verifier rewrites the same few pages in every report (the device row, its
// nonces, the ends of the audit table and its indexes); a pass copies each page once however
// many frames hold it, so passes over 1,000 frames copy a fraction of what passes over a few
// dozen did. Passing after every commit, the checkpointer was 7 % of the verifier's CPU. Only
// in the last thresholdPages before the hard limit does every commit ask for a pass, so that
// the one the serving connection runs there has little left to copy under the mutex.
class Checkpointer
{
public:
    // SQLite's default automatic checkpoint threshold: about 4 MiB of log.
    static constexpr int thresholdPages = 1000;
    static constexpr int hardLimitPages = 10 * thresholdPages;

    explicit Checkpointer(const std::string &path) : m_connection(path)
    {
        configure(m_connection);
        // A connection learns that the file is in WAL mode from its first read; until then a
        // checkpoint request on it may do nothing.
        Query(m_connection, "SELECT count(*) FROM sqlite_schema", "starting the checkpointer")
            .run();
        m_thread = std::thread([this] { run(); });
    }
    ~Checkpointer()
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }
    Checkpointer(const Checkpointer &) = delete;
    Checkpointer &operator=(const Checkpointer &) = delete;

    // Installed with sqlite3_wal_hook on the serving connection (replacing its automatic
    // checkpoint): called after each commit, outside the transaction, with the number of pages
    // in the log.
    static int walHook(void *self, sqlite3 *db, const char *name, int pages)
    {
        auto *checkpointer = static_cast<Checkpointer *>(self);
        if (pages < checkpointer->m_requestedAt) // the log started afresh
            checkpointer->m_requestedAt = 0;
        if (pages >= hardLimitPages) {
            // Two checkpoints cannot run at once: wait for a background pass to finish rather
            // than fail with SQLITE_BUSY and let the log grow on.
            std::lock_guard<std::mutex> running(checkpointer->m_running);
            sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        } else if (pages >= checkpointer->m_requestedAt + thresholdPages ||
                   pages >= hardLimitPages - thresholdPages) {
            checkpointer->m_requestedAt = pages;
            checkpointer->request();
        }
        return SQLITE_OK;
    }

private:
    void request()
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_wanted = true;
        }
        m_wake.notify_one();
    }

    void run()
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [this] { return m_stop || m_wanted; });
            if (m_stop)
                return;
            m_wanted = false;
            lock.unlock();
            {
                std::lock_guard<std::mutex> running(m_running);
                // Failures need no handling here: SQLITE_BUSY means another process is
                // checkpointing, and an I/O error shows up on the next write as well. The log
                // keeps growing meanwhile, and the next commit asks again.
                sqlite3_wal_checkpoint_v2(m_connection.db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                          nullptr, nullptr);
            }
            lock.lock();
        }
    }

    Connection m_connection;
    int m_requestedAt = 0; // log pages at the last request; walHook's alone, under Private's mutex
    std::mutex m_running; // held while a checkpoint runs, in either thread
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_wanted = false;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace

class SqliteStorage::Private
{
public:
    explicit Private(const std::string &path) : m_connection(path)
    {
        adopt(m_connection);
        enableWal(m_connection);
        migrate(m_connection);
        configure(m_connection);
        m_checkpointer = std::make_unique<Checkpointer>(path);
        sqlite3_wal_hook(m_connection.db(), &Checkpointer::walHook, m_checkpointer.get());
    }
    ~Private() { sqlite3_wal_hook(m_connection.db(), nullptr, nullptr); }
    Private(const Private &) = delete;
    Private &operator=(const Private &) = delete;

    template <typename F> auto read(F &&function)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return function(m_connection);
    }

    // One transaction around function; committed when it returns, rolled back when it throws.
    template <typename F> auto write(const char *what, F &&function)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        Transaction transaction(m_connection, what);
        if constexpr (std::is_void_v<decltype(function(m_connection))>) {
            function(m_connection);
            transaction.commit();
        } else {
            auto result = function(m_connection);
            transaction.commit();
            return result;
        }
    }

private:
    std::mutex m_mutex;
    Connection m_connection;
    // Declared last: stopped before the serving connection closes (which checkpoints a last
    // time and removes the log).
    std::unique_ptr<Checkpointer> m_checkpointer;
};

std::unique_ptr<SqliteStorage> SqliteStorage::open(const std::filesystem::path &file)
{
    const std::string path = file.string();
    createPrivate(path);
    checkPrivate(path, true);
    // SQLite creates these with the database's mode; ones left by an older, laxer setup are not.
    checkPrivate(path + "-wal", false);
    checkPrivate(path + "-shm", false);
    return std::unique_ptr<SqliteStorage>(new SqliteStorage(std::make_unique<Private>(path)));
}

int SqliteStorage::schemaVersion()
{
    return knownVersion;
}

SqliteStorage::SqliteStorage(std::unique_ptr<Private> impl) : m_impl(std::move(impl)) {}

SqliteStorage::~SqliteStorage() = default;

void SqliteStorage::addEnrollmentToken(const EnrollmentToken &token)
{
    m_impl->write("adding an enrollment token", [&](Connection &connection) {
        Query(connection, sqlAddToken, "adding an enrollment token")
            .bind(token.id)
            .bind(token.secretHash)
            .bind(token.label)
            .bind(std::int64_t{token.maxUses})
            .bind(std::int64_t{token.uses})
            .bind(token.createdAt)
            .bind(token.expiresAt)
            .bind(token.revokedAt)
            .run();
    });
}

std::vector<EnrollmentToken> SqliteStorage::enrollmentTokens()
{
    return m_impl->read([&](Connection &connection) {
        std::vector<EnrollmentToken> tokens;
        Query query(connection, sqlTokens, "listing enrollment tokens");
        while (query.step())
            tokens.push_back(readToken(query));
        return tokens;
    });
}

bool SqliteStorage::revokeEnrollmentToken(const std::string &id, TimePoint now)
{
    return m_impl->write("revoking an enrollment token", [&](Connection &connection) {
        Query(connection, sqlRevokeToken, "revoking an enrollment token").bind(now).bind(id).run();
        return connection.changes() > 0;
    });
}

TokenUse SqliteStorage::useEnrollmentToken(const Bytes &secretHash, TimePoint now,
                                           EnrollmentToken *token)
{
    constexpr const char *what = "using an enrollment token";
    return m_impl->write(what, [&](Connection &connection) {
        std::optional<EnrollmentToken> found;
        {
            Query query(connection, sqlTokenByHash, what);
            query.bind(secretHash);
            if (query.step())
                found = readToken(query);
        }
        if (!found)
            return TokenUse::Unknown;
        // A revocation is the administrator's word and the most useful answer; a token used up
        // says more than one that also ran out of time.
        TokenUse use = TokenUse::Consumed;
        if (found->revokedAt)
            use = TokenUse::Revoked;
        else if (found->uses >= found->maxUses)
            use = TokenUse::Exhausted;
        else if (unixSeconds(now) >= unixSeconds(found->expiresAt))
            use = TokenUse::Expired;
        if (use == TokenUse::Consumed) {
            Query(connection, sqlUseToken, what).bind(found->id).run();
            ++found->uses;
        }
        if (token)
            *token = *found;
        return use;
    });
}

bool SqliteStorage::addPendingEnrollment(const PendingEnrollment &pending)
{
    constexpr const char *what = "adding a pending enrollment";
    return m_impl->write(what, [&](Connection &connection) {
        {
            Query enrolled(connection, sqlDeviceWithJktExists, what);
            if (enrolled.bind(pending.device.jkt).step())
                return false;
        }
        Query query(connection, sqlAddPending, what);
        query.bind(pending.id)
            .bind(pending.secretHash)
            .bind(pending.expiresAt)
            .bind(pending.device.id);
        bindDevice(query, pending.device);
        query.run();
        return true;
    });
}

std::optional<PendingEnrollment> SqliteStorage::takePendingEnrollment(const std::string &id)
{
    constexpr const char *what = "taking a pending enrollment";
    return m_impl->write(what, [&](Connection &connection) -> std::optional<PendingEnrollment> {
        Query query(connection, sqlTakePending, what);
        if (!query.bind(id).step())
            return std::nullopt;
        PendingEnrollment pending;
        pending.id = query.text(0);
        pending.secretHash = query.blob(1);
        pending.expiresAt = query.time(2);
        pending.device = readDevice(query, 3, 4);
        query.run();
        return pending;
    });
}

bool SqliteStorage::addDevice(const Device &device)
{
    constexpr const char *what = "adding a device";
    return m_impl->write(what, [&](Connection &connection) {
        Query query(connection, sqlAddDevice, what);
        query.bind(device.id);
        bindDevice(query, device);
        query.run();
        return connection.changes() > 0;
    });
}

std::optional<Device> SqliteStorage::device(const std::string &id)
{
    return m_impl->read([&](Connection &connection) -> std::optional<Device> {
        Query query(connection, sqlDevice, "reading a device");
        if (!query.bind(id).step())
            return std::nullopt;
        return readDevice(query, 0, 1);
    });
}

std::optional<Device> SqliteStorage::deviceByJkt(const std::string &jkt)
{
    return m_impl->read([&](Connection &connection) -> std::optional<Device> {
        Query query(connection, sqlDeviceByJkt, "reading a device");
        if (!query.bind(jkt).step())
            return std::nullopt;
        return readDevice(query, 0, 1);
    });
}

std::vector<Device> SqliteStorage::devices()
{
    return m_impl->read([&](Connection &connection) {
        std::vector<Device> devices;
        Query query(connection, sqlDevices, "listing devices");
        while (query.step())
            devices.push_back(readDevice(query, 0, 1));
        return devices;
    });
}

bool SqliteStorage::revokeDevice(const std::string &id, const std::string &reason, TimePoint now)
{
    constexpr const char *what = "revoking a device";
    return m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlRevokeDevice, what).bind(now).bind(reason).bind(id).run();
        if (connection.changes() == 0)
            return false;
        // Its outstanding nonces can never be answered now.
        Query(connection, sqlDeleteDeviceNonces, what).bind(id).run();
        return true;
    });
}

void SqliteStorage::addNonce(const std::string &deviceId, const std::string &nonce,
                             TimePoint expiresAt)
{
    constexpr const char *what = "adding a nonce";
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlAddNonce, what).bind(deviceId).bind(nonce).bind(expiresAt).run();
    });
}

void SqliteStorage::recordReport(const ReportRecord &record, const ReportCheck &check)
{
    constexpr const char *what = "recording a report";
    const Appraisal &appraisal = record.appraisal;
    m_impl->write(what, [&](Connection &connection) {
        NonceUse nonce = NonceUse::Unknown;
        if (!record.nonce.empty()) {
            // Deleted whether live or expired: each nonce gets one answer.
            Query use(connection, sqlUseNonce, what);
            if (use.bind(appraisal.deviceId).bind(record.nonce).step()) {
                nonce = unixSeconds(appraisal.appraisedAt) >= use.integer(0) ? NonceUse::Expired
                                                                             : NonceUse::Consumed;
                use.run();
            }
        }
        if (appraisal.verdict != "rejected") {
            {
                Query read(connection, sqlDevice, what);
                if (!read.bind(appraisal.deviceId).step())
                    throw StorageError(connection.path() + ": " + what + ": no device " +
                                       appraisal.deviceId);
                check(readDevice(read, 0, 1), nonce);
            }
            Query update(connection,
                         record.counters ? sqlLatestAppraisalAndCounters : sqlLatestAppraisal,
                         what);
            update.bind(appraisal.id).bind(appraisal.verdict).bind(appraisal.appraisedAt);
            if (record.counters)
                update.bind(record.counters);
            update.bind(appraisal.deviceId).run();
            Query(connection, sqlAddNonce, what)
                .bind(appraisal.deviceId)
                .bind(record.nextNonce)
                .bind(record.nextNonceExpiresAt)
                .run();
        }
        Query(connection, sqlAddAppraisal, what)
            .bind(appraisal.id)
            .bind(appraisal.deviceId)
            .bind(appraisal.appraisedAt)
            .bind(appraisal.verdict)
            .bind(appraisal.checksJson)
            .bind(appraisal.error)
            .bind(appraisal.reportJti)
            .run();
    });
}

std::vector<Appraisal> SqliteStorage::appraisals(const std::string &deviceId, int limit)
{
    if (limit <= 0)
        return {};
    return m_impl->read([&](Connection &connection) {
        std::vector<Appraisal> result;
        Query query(connection, sqlAppraisals, "listing appraisals");
        query.bind(deviceId).bind(std::int64_t{limit});
        while (query.step()) {
            Appraisal appraisal;
            appraisal.id = query.text(0);
            appraisal.deviceId = query.text(1);
            appraisal.appraisedAt = query.time(2);
            appraisal.verdict = query.text(3);
            appraisal.checksJson = query.text(4);
            appraisal.error = query.text(5);
            appraisal.reportJti = query.text(6);
            result.push_back(std::move(appraisal));
        }
        return result;
    });
}

void SqliteStorage::purgeExpired(TimePoint now)
{
    constexpr const char *what = "purging expired entries";
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlPurgeNonces, what).bind(now).run();
        Query(connection, sqlPurgePending, what).bind(now).run();
    });
}

} // namespace vigil::server
