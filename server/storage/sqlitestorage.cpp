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

#include "server/storage/sqlitestorage.h"

#include "server/storage/sqlitedatabasefile.h"
#include "server/storage/sqlitestorageprivate.h"

#include <sqlite3.h>

namespace vigil::server {

using namespace sqlite;

namespace {

// Every column of a device but its id, in the order bindDevice and readDevice use.
#define VIGIL_DEVICE_COLUMNS                                                                       \
    "jkt, device_key_jwk, assurance, hostname, ek_public, ak_public, enrollment_token_id, "        \
    "enrolled_at, revoked_at, revoke_reason, tpm_clock, tpm_reset_count, tpm_restart_count, "      \
    "last_appraisal_id, last_verdict, last_appraised_at"
#define VIGIL_DEVICE_PARAMETERS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

// The statements, each prepared once per connection and found again by its address.

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
constexpr char sqlPending[] = "SELECT id, secret_hash, expires_at, device_id, " VIGIL_DEVICE_COLUMNS
                              " FROM pending_enrollments WHERE id = ?";
constexpr char sqlDeletePending[] = "DELETE FROM pending_enrollments WHERE id = ?";
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
constexpr char sqlPurgeUserSessions[] = "DELETE FROM user_sessions WHERE expires_at <= ?";

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

} // namespace

std::unique_ptr<SqliteStorage> SqliteStorage::open(const std::filesystem::path &file)
{
    const std::string path = file.string();
    createPrivateFile(path);
    checkPrivateFile(path, true);
    // SQLite creates these with the database's mode; ones left by an older, laxer setup are not.
    checkPrivateFile(path + "-wal", false);
    checkPrivateFile(path + "-shm", false);
    return std::unique_ptr<SqliteStorage>(new SqliteStorage(std::make_unique<Private>(path)));
}

int SqliteStorage::schemaVersion()
{
    return latestSchemaVersion();
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

namespace {

bool keyEnrolled(Connection &connection, const std::string &jkt, const char *what)
{
    Query enrolled(connection, sqlDeviceWithJktExists, what);
    return enrolled.bind(jkt).step();
}

// Takes one use of the token with this hash if it is live; its id goes to *tokenId.
TokenUse takeTokenUse(Connection &connection, const Bytes &tokenHash, TimePoint now,
                      std::string *tokenId, const char *what)
{
    std::optional<EnrollmentToken> found;
    {
        Query query(connection, sqlTokenByHash, what);
        query.bind(tokenHash);
        if (query.step())
            found = readToken(query);
    }
    if (!found)
        return TokenUse::Unknown;
    // A revocation is the administrator's word and the most useful answer; a token used up
    // says more than one that also ran out of time.
    if (found->revokedAt)
        return TokenUse::Revoked;
    if (found->uses >= found->maxUses)
        return TokenUse::Exhausted;
    if (unixSeconds(now) >= unixSeconds(found->expiresAt))
        return TokenUse::Expired;
    Query(connection, sqlUseToken, what).bind(found->id).run();
    *tokenId = found->id;
    return TokenUse::Consumed;
}

// Inserts the device; false when its jkt is enrolled already.
bool insertDevice(Connection &connection, const Device &device, const char *what)
{
    Query query(connection, sqlAddDevice, what);
    query.bind(device.id);
    bindDevice(query, device);
    query.run();
    return connection.changes() > 0;
}

} // namespace

Admission SqliteStorage::admitDevice(const Bytes &tokenHash, TimePoint now, const Device &device)
{
    constexpr const char *what = "enrolling a device";
    return m_impl->write(what, [&](Connection &connection) {
        Admission admission;
        if (keyEnrolled(connection, device.jkt, what)) {
            admission.alreadyEnrolled = true;
            return admission;
        }
        Device admitted = device;
        admission.token =
            takeTokenUse(connection, tokenHash, now, &admitted.enrollmentTokenId, what);
        if (admission.token == TokenUse::Consumed)
            insertDevice(connection, admitted, what);
        return admission;
    });
}

Admission SqliteStorage::admitPendingEnrollment(const Bytes &tokenHash, TimePoint now,
                                                const PendingEnrollment &pending)
{
    constexpr const char *what = "adding a pending enrollment";
    return m_impl->write(what, [&](Connection &connection) {
        Admission admission;
        if (keyEnrolled(connection, pending.device.jkt, what)) {
            admission.alreadyEnrolled = true;
            return admission;
        }
        Device admitted = pending.device;
        admission.token =
            takeTokenUse(connection, tokenHash, now, &admitted.enrollmentTokenId, what);
        if (admission.token != TokenUse::Consumed)
            return admission;
        Query query(connection, sqlAddPending, what);
        query.bind(pending.id).bind(pending.secretHash).bind(pending.expiresAt).bind(admitted.id);
        bindDevice(query, admitted);
        query.run();
        return admission;
    });
}

Activation SqliteStorage::activateEnrollment(const std::string &id, const std::string &jkt,
                                             TimePoint now, const ActivationCheck &check,
                                             Device *activated)
{
    constexpr const char *what = "activating an enrollment";
    return m_impl->write(what, [&](Connection &connection) {
        PendingEnrollment pending;
        {
            Query query(connection, sqlPending, what);
            if (!query.bind(id).step())
                return Activation::Unknown;
            pending.id = query.text(0);
            pending.secretHash = query.blob(1);
            pending.expiresAt = query.time(2);
            pending.device = readDevice(query, 3, 4);
        }
        if (unixSeconds(pending.expiresAt) <= unixSeconds(now))
            return Activation::Unknown;
        if (pending.device.jkt != jkt)
            return Activation::WrongKey;
        Query(connection, sqlDeletePending, what).bind(id).run();
        if (!check(pending))
            return Activation::Refused;
        pending.device.enrolledAt = now;
        if (!insertDevice(connection, pending.device, what))
            return Activation::AlreadyEnrolled;
        if (activated)
            *activated = pending.device;
        return Activation::Activated;
    });
}

bool SqliteStorage::addDevice(const Device &device)
{
    constexpr const char *what = "adding a device";
    return m_impl->write(
        what, [&](Connection &connection) { return insertDevice(connection, device, what); });
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
        } else if (record.evidenceFailed && nonce == NonceUse::Consumed) {
            Query(connection, sqlLatestAppraisal, what)
                .bind(appraisal.id)
                .bind(appraisal.verdict)
                .bind(appraisal.appraisedAt)
                .bind(appraisal.deviceId)
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

void SqliteStorage::checkWritable()
{
    // Setting user_version (which Vigil does not use) to itself rewrites the database's first
    // page: a real write through the log, refused on a read-only file and on a full disk.
    constexpr const char *what = "checking that the database takes a write";
    m_impl->write(
        what, [&](Connection &connection) { connection.exec("PRAGMA user_version = 0", what); });
}

void SqliteStorage::purgeExpired(TimePoint now)
{
    constexpr const char *what = "purging expired entries";
    m_impl->write(what, [&](Connection &connection) {
        Query(connection, sqlPurgeNonces, what).bind(now).run();
        Query(connection, sqlPurgePending, what).bind(now).run();
        Query(connection, sqlPurgeUserSessions, what).bind(now).run();
    });
}

} // namespace vigil::server
