#include "independentpython.h"
#include "server/storage/sqlitestorage.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <sqlite3.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using vigil::Bytes;
using namespace vigil::server;

using vigil::test::thrownMessage;

namespace QTest {

template <> inline char *toString(const TokenUse &use)
{
    static const char *const names[] = {"Consumed", "Unknown", "Expired", "Exhausted", "Revoked"};
    return qstrdup(names[static_cast<int>(use)]);
}

template <> inline char *toString(const NonceUse &use)
{
    static const char *const names[] = {"Consumed", "Unknown", "Expired"};
    return qstrdup(names[static_cast<int>(use)]);
}

template <> inline char *toString(const Bytes &bytes)
{
    return qstrdup(("0x" + vigil::toHex(bytes)).c_str());
}

} // namespace QTest

namespace {

using std::chrono::seconds;

const TimePoint t0 = TimePoint(seconds(1795000000));

struct DatabaseCloser
{
    void operator()(sqlite3 *db) const { sqlite3_close(db); }
};

// Changes a database behind the storage's back, as another program would.
void rawExec(const std::string &path, const std::string &sql)
{
    sqlite3 *db = nullptr;
    const int rc = sqlite3_open(path.c_str(), &db);
    std::unique_ptr<sqlite3, DatabaseCloser> guard(db);
    QCOMPARE(rc, SQLITE_OK);
    char *error = nullptr;
    const int execRc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    QCOMPARE(message, std::string());
    QCOMPARE(execRc, SQLITE_OK);
}

std::string rawQuery(const std::string &path, const std::string &sql)
{
    sqlite3 *db = nullptr;
    sqlite3_open(path.c_str(), &db);
    std::unique_ptr<sqlite3, DatabaseCloser> guard(db);
    std::string result;
    sqlite3_exec(
        db, sql.c_str(),
        [](void *out, int columns, char **values, char **) {
            auto &text = *static_cast<std::string *>(out);
            for (int i = 0; i < columns; ++i)
                text += std::string(values[i] ? values[i] : "NULL") + (i + 1 < columns ? "|" : ";");
            return 0;
        },
        &result, nullptr);
    return result;
}

mode_t fileMode(const std::string &path)
{
    struct stat status = {};
    if (stat(path.c_str(), &status) != 0)
        return 0;
    return status.st_mode & 07777;
}

Bytes hashOf(const char *text)
{
    Bytes hash(32, 0);
    std::copy_n(text, std::min<std::size_t>(32, std::strlen(text)), hash.begin());
    return hash;
}

EnrollmentToken token(const std::string &id, const char *secret, int maxUses = 1)
{
    EnrollmentToken token;
    token.id = id;
    token.secretHash = hashOf(secret);
    token.label = "label of " + id;
    token.maxUses = maxUses;
    token.createdAt = t0;
    token.expiresAt = t0 + seconds(3600);
    return token;
}

Device tpmDevice(const std::string &id, const std::string &jkt)
{
    Device device;
    device.id = id;
    device.jkt = jkt;
    device.deviceKeyJwk = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"x-" + id + "\",\"y\":\"y\"}";
    device.assurance = "tpm";
    device.hostname = "ws-" + id;
    device.ekPublic = Bytes{0x00, 0x01, 0x02, 0xff};
    device.akPublic = Bytes{0x00, 0x00, 0x7f};
    device.enrollmentTokenId = "et_0123456789abcdef";
    device.enrolledAt = t0;
    return device;
}

Device softwareDevice(const std::string &id, const std::string &jkt)
{
    Device device = tpmDevice(id, jkt);
    device.assurance = "software";
    device.ekPublic.clear();
    device.akPublic.clear();
    return device;
}

Appraisal appraisal(const std::string &id, const std::string &deviceId, TimePoint at,
                    const std::string &verdict = "compliant")
{
    Appraisal appraisal;
    appraisal.id = id;
    appraisal.deviceId = deviceId;
    appraisal.appraisedAt = at;
    appraisal.verdict = verdict;
    appraisal.checksJson = "[{\"id\":\"firewall\",\"status\":\"pass\"}]";
    appraisal.error = verdict == "rejected" ? "invalid_report" : "";
    appraisal.reportJti = "jti-" + id;
    return appraisal;
}

// Records appraisal as an accepted report would, with a check that only looks (the verifier's
// refuses anything but a consumed nonce): returns the nonce's fate as the check saw it, and the
// device as stored in seen.
// A report's record; its next nonce is "next-" + the appraisal's id unless given.
ReportRecord reportRecord(const Appraisal &appraisal, const std::string &nonce = {},
                          const std::optional<TpmCounters> &counters = {},
                          const std::string &nextNonce = {})
{
    ReportRecord record;
    record.appraisal = appraisal;
    record.nonce = nonce;
    record.counters = counters;
    record.nextNonce = nextNonce.empty() ? "next-" + appraisal.id : nextNonce;
    record.nextNonceExpiresAt = appraisal.appraisedAt + seconds(300);
    return record;
}

NonceUse recordAccepted(Storage &storage, const Appraisal &appraisal, const std::string &nonce = {},
                        const std::optional<TpmCounters> &counters = {}, Device *seen = nullptr)
{
    const ReportRecord record = reportRecord(appraisal, nonce, counters);
    NonceUse fate = NonceUse::Unknown;
    storage.recordReport(record, [&](const Device &device, NonceUse use) {
        fate = use;
        if (seen)
            *seen = device;
    });
    return fate;
}

// Uses a nonce as a report does, and says how it fared.
NonceUse useNonce(Storage &storage, const std::string &deviceId, const std::string &nonce,
                  TimePoint now)
{
    static std::atomic<int> serial{0};
    return recordAccepted(storage, appraisal("use-" + std::to_string(++serial), deviceId, now),
                          nonce);
}

void compareDevices(const Device &actual, const Device &expected)
{
    QCOMPARE(actual.id, expected.id);
    QCOMPARE(actual.jkt, expected.jkt);
    QCOMPARE(actual.deviceKeyJwk, expected.deviceKeyJwk);
    QCOMPARE(actual.assurance, expected.assurance);
    QCOMPARE(actual.hostname, expected.hostname);
    QCOMPARE(actual.ekPublic, expected.ekPublic);
    QCOMPARE(actual.akPublic, expected.akPublic);
    QCOMPARE(actual.enrollmentTokenId, expected.enrollmentTokenId);
    QVERIFY(actual.enrolledAt == expected.enrolledAt);
    QCOMPARE(actual.revokedAt.has_value(), expected.revokedAt.has_value());
    if (expected.revokedAt)
        QVERIFY(*actual.revokedAt == *expected.revokedAt);
    QCOMPARE(actual.revokeReason, expected.revokeReason);
    QCOMPARE(actual.counters.has_value(), expected.counters.has_value());
    if (expected.counters) {
        QCOMPARE(actual.counters->clock, expected.counters->clock);
        QCOMPARE(actual.counters->resetCount, expected.counters->resetCount);
        QCOMPARE(actual.counters->restartCount, expected.counters->restartCount);
    }
    QCOMPARE(actual.lastAppraisalId, expected.lastAppraisalId);
    QCOMPARE(actual.lastVerdict, expected.lastVerdict);
    QCOMPARE(actual.lastAppraisedAt.has_value(), expected.lastAppraisedAt.has_value());
    if (expected.lastAppraisedAt)
        QVERIFY(*actual.lastAppraisedAt == *expected.lastAppraisedAt);
}

// One enrollment with the token whose secret is secret, by a software device with a key of its
// own: what became of the token.
TokenUse useToken(Storage &storage, const char *secret, TimePoint now)
{
    static int serial = 0;
    const std::string id = "admitted" + std::to_string(++serial);
    const Admission admission = storage.admitDevice(hashOf(secret), now, softwareDevice(id, id));
    if (admission.alreadyEnrolled)
        throw std::logic_error("a fresh key was refused as enrolled already");
    return admission.token;
}

int usesOf(Storage &storage, const std::string &tokenId)
{
    for (const EnrollmentToken &token : storage.enrollmentTokens())
        if (token.id == tokenId)
            return token.uses;
    throw std::logic_error("no token " + tokenId);
}

PendingEnrollment pendingEnrollment(const std::string &id, const Device &device,
                                    TimePoint expiresAt = t0 + seconds(300))
{
    PendingEnrollment pending;
    pending.id = id;
    pending.secretHash = hashOf("credential secret");
    pending.expiresAt = expiresAt;
    pending.device = device;
    return pending;
}

// An ActivationCheck that accepts or refuses, and counts its calls.
struct CountingCheck
{
    bool accept = true;
    int calls = 0;
    ActivationCheck check()
    {
        return [this](const PendingEnrollment &) {
            ++calls;
            return accept;
        };
    }
};

std::vector<std::string> appraisalIds(const std::vector<Appraisal> &appraisals)
{
    std::vector<std::string> ids;
    for (const Appraisal &a : appraisals)
        ids.push_back(a.id);
    return ids;
}

} // namespace

class TestSqliteStorage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_serial = 0;

    // A fresh database path for each test.
    std::string freshPath()
    {
        return (m_dir.path() + QStringLiteral("/db%1.sqlite").arg(++m_serial)).toStdString();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    // Files and their protection.

    void createsThePrivateFileEvenUnderAPermissiveUmask()
    {
        const std::string path = freshPath();
        const mode_t previous = umask(0);
        auto storage = SqliteStorage::open(path);
        umask(previous);
        QCOMPARE(fileMode(path), mode_t(0600));
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        // The write-ahead log holds the same data and gets the same protection.
        QCOMPARE(fileMode(path + "-wal"), mode_t(0600));
        QCOMPARE(rawQuery(path, "PRAGMA journal_mode"), std::string("wal;"));
    }

    void refusesAFileOthersCanAccess_data()
    {
        QTest::addColumn<int>("mode");
        QTest::newRow("0644") << 0644;
        QTest::newRow("0640") << 0640;
        QTest::newRow("0604") << 0604;
        QTest::newRow("0660") << 0660;
        QTest::newRow("0602") << 0602;
        QTest::newRow("0610") << 0610;
    }

    void refusesAFileOthersCanAccess()
    {
        QFETCH(int, mode);
        const std::string path = freshPath();
        SqliteStorage::open(path).reset();
        QCOMPARE(chmod(path.c_str(), static_cast<mode_t>(mode)), 0);
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", mode);
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
                 QByteArray::fromStdString(path + " is accessible to group or others (mode " +
                                           octal + "): run `chmod 600 " + path + "`"));
    }

    void refusesAnAccessibleWriteAheadLog()
    {
        const std::string path = freshPath();
        SqliteStorage::open(path).reset();
        std::ofstream(path + "-wal").flush();
        QCOMPARE(chmod((path + "-wal").c_str(), 0644), 0);
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
                 QByteArray::fromStdString(path +
                                           "-wal is accessible to group or others (mode "
                                           "0644): run `chmod 600 " +
                                           path + "-wal`"));
    }

    void refusesAFileOwnedBySomeoneElse()
    {
        if (geteuid() != 0)
            QSKIP("needs root to give the file away");
        const std::string path = freshPath();
        SqliteStorage::open(path).reset();
        QCOMPARE(chown(path.c_str(), 65534, 65534), 0);
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
                 QByteArray::fromStdString(
                     path +
                     " is owned by nobody (uid 65534), not by root (uid 0) who runs "
                     "vigil-verifier: run `chown root " +
                     path + "` or run vigil-verifier as its owner"));
    }

    void refusesASymbolicLink()
    {
        const std::string target = freshPath();
        SqliteStorage::open(target).reset();
        const std::string link = freshPath();
        QCOMPARE(symlink(target.c_str(), link.c_str()), 0);
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(link); }),
                 QByteArray::fromStdString(
                     link + " is a symbolic link: give vigil-verifier the real path"));
    }

    void missingDirectoryIsAClearError()
    {
        const std::string path = m_dir.path().toStdString() + "/no-such-dir/verifier.db";
        QCOMPARE(
            thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
            QByteArray::fromStdString("cannot create " + path + ": No such file or directory"));
    }

    void garbageIsAnErrorNotACrash_data()
    {
        QTest::addColumn<QByteArray>("content");
        std::mt19937 random(4);
        QByteArray noise(8192, '\0');
        for (char &c : noise)
            c = static_cast<char>(random());
        QTest::newRow("random bytes") << noise;
        QTest::newRow("text") << QByteArray("{\"version\":1}\n").repeated(300);
        QTest::newRow("SQLite magic, then noise")
            << QByteArray("SQLite format 3", 16) + noise.left(4096 - 16);
    }

    void garbageIsAnErrorNotACrash()
    {
        QFETCH(QByteArray, content);
        const std::string path = freshPath();
        {
            std::ofstream out(path, std::ios::binary);
            out.write(content.constData(), content.size());
        }
        QCOMPARE(chmod(path.c_str(), 0600), 0);
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
                 QByteArray::fromStdString(
                     path + ": opening: file is not a database (the file is not a vigil-verifier "
                            "database or is damaged: restore it from a backup or move it away)"));
        // Left as it was, for whoever investigates.
        std::ifstream in(path, std::ios::binary);
        const std::string after((std::istreambuf_iterator<char>(in)), {});
        QCOMPARE(QByteArray::fromStdString(after), content);
    }

    void refusesAnotherProgramsDatabase()
    {
        const std::string path = freshPath();
        rawExec(path, "CREATE TABLE contacts (name TEXT)");
        QCOMPARE(chmod(path.c_str(), 0600), 0);
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
                 QByteArray::fromStdString(
                     path + " is a SQLite database of another program, not vigil-verifier's"));
        QCOMPARE(rawQuery(path, "SELECT name FROM sqlite_schema"), std::string("contacts;"));
    }

    void refusesANewerSchema()
    {
        const std::string path = freshPath();
        SqliteStorage::open(path).reset();
        const int newer = SqliteStorage::schemaVersion() + 1;
        rawExec(path, "INSERT INTO schema_migrations VALUES (" + std::to_string(newer) + ", 0)");
        QCOMPARE(thrownMessage<StorageError>([&] { SqliteStorage::open(path); }),
                 QByteArray::fromStdString(path +
                                           ": created by a newer vigil-verifier: schema version " +
                                           std::to_string(newer) + ", this build knows up to " +
                                           std::to_string(SqliteStorage::schemaVersion())));
    }

    void migrationsAreRecordedOnce()
    {
        const std::string path = freshPath();
        SqliteStorage::open(path).reset();
        SqliteStorage::open(path).reset();
        QCOMPARE(SqliteStorage::schemaVersion(), 2);
        QCOMPARE(rawQuery(path, "SELECT version FROM schema_migrations"), std::string("1;2;"));
        QCOMPARE(rawQuery(path, "PRAGMA application_id"), std::string("1449748332;"));
        QCOMPARE(rawQuery(path, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY "
                                "name"),
                 std::string("appraisals;devices;enrollment_tokens;nonces;pending_enrollments;"
                             "schema_migrations;user_devices;user_invites;user_recovery_codes;"
                             "user_sessions;user_totp;users;"));
    }

    // A database of version 1 (before users) keeps its devices and gains the user tables.
    void migratesAVersion1Database()
    {
        const std::string path = freshPath();
        {
            auto storage = SqliteStorage::open(path);
            QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        }
        rawExec(path, "DROP TABLE user_sessions; DROP TABLE user_recovery_codes; "
                      "DROP TABLE user_totp; DROP TABLE user_devices; DROP TABLE user_invites; "
                      "DROP TABLE users; DELETE FROM schema_migrations WHERE version = 2");
        QCOMPARE(rawQuery(path, "SELECT version FROM schema_migrations"), std::string("1;"));
        auto storage = SqliteStorage::open(path);
        QCOMPARE(rawQuery(path, "SELECT version FROM schema_migrations"), std::string("1;2;"));
        QVERIFY(storage->device("d1"));
        QVERIFY(storage->addUser(User{"u1", "alice", t0, std::nullopt}));
        QCOMPARE(storage->users().size(), std::size_t(1));
    }

    void persistsAcrossReopen()
    {
        const std::string path = freshPath();
        Device device = tpmDevice("d1", "jkt1");
        {
            auto storage = SqliteStorage::open(path);
            storage->addEnrollmentToken(token("et_1", "secret"));
            QVERIFY(storage->addDevice(device));
            storage->addNonce("d1", "n1", t0 + seconds(300));
            recordAccepted(*storage, appraisal("a1", "d1", t0), {}, TpmCounters{5, 1, 2});
        }
        auto storage = SqliteStorage::open(path);
        QCOMPARE(storage->enrollmentTokens().size(), std::size_t(1));
        device.counters = TpmCounters{5, 1, 2};
        device.lastAppraisalId = "a1";
        device.lastVerdict = "compliant";
        device.lastAppraisedAt = t0;
        compareDevices(*storage->device("d1"), device);
        QCOMPARE(appraisalIds(storage->appraisals("d1", 10)), std::vector<std::string>{"a1"});
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Consumed);
    }

    // The write-ahead log is copied back and started afresh under steady writing: its file
    // stays near 10,000 pages (SQLite's default would be 1,000; ours copies in the background
    // and only past 10,000 makes the writer finish the copy).
    void writeAheadLogStaysBounded()
    {
        const std::string path = freshPath();
        auto storage = SqliteStorage::open(path);
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        Appraisal big = appraisal("", "d1", t0);
        big.checksJson = "[\"" + std::string(100 * 1024, 'x') + "\"]";
        constexpr int count = 800; // 80 MB through the log
        for (int i = 0; i < count; ++i) {
            big.id = "a" + std::to_string(i);
            recordAccepted(*storage, big);
        }
        struct stat status = {};
        QCOMPARE(stat((path + "-wal").c_str(), &status), 0);
        QVERIFY2(status.st_size < 44 * 1024 * 1024, std::to_string(status.st_size).c_str());
        storage.reset();
        // Closing copied the rest back and removed the log.
        QCOMPARE(stat((path + "-wal").c_str(), &status), -1);
        QCOMPARE(SqliteStorage::open(path)->appraisals("d1", 1000).size(), std::size_t(count));
    }

    // Enrollment tokens.

    void tokensRoundTripInCreationOrder()
    {
        auto storage = SqliteStorage::open(freshPath());
        EnrollmentToken later = token("et_b", "b", 5);
        later.createdAt = t0 + seconds(10);
        later.revokedAt = t0 + seconds(20);
        later.uses = 2;
        // Sub-second parts are dropped: times are kept in whole seconds.
        later.expiresAt = t0 + seconds(99) + std::chrono::milliseconds(999);
        storage->addEnrollmentToken(later);
        storage->addEnrollmentToken(token("et_a", "a"));
        const auto tokens = storage->enrollmentTokens();
        QCOMPARE(tokens.size(), std::size_t(2));
        QCOMPARE(tokens[0].id, "et_a");
        QCOMPARE(tokens[1].id, "et_b");
        QCOMPARE(tokens[1].secretHash, hashOf("b"));
        QCOMPARE(tokens[1].label, "label of et_b");
        QCOMPARE(tokens[1].maxUses, 5);
        QCOMPARE(tokens[1].uses, 2);
        QVERIFY(tokens[1].createdAt == t0 + seconds(10));
        QVERIFY(tokens[1].expiresAt == t0 + seconds(99));
        QVERIFY(tokens[1].revokedAt == t0 + seconds(20));
        QVERIFY(!tokens[0].revokedAt);
    }

    void singleUseTokenIsTakenOnce()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret"));
        QCOMPARE(useToken(*storage, "secret", t0), TokenUse::Consumed);
        QCOMPARE(useToken(*storage, "secret", t0), TokenUse::Exhausted);
        QCOMPARE(usesOf(*storage, "et_1"), 1);
        QCOMPARE(storage->devices().size(), std::size_t(1));
        QCOMPARE(storage->devices()[0].enrollmentTokenId, "et_1");
    }

    void countedTokenGivesEachUse()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_3", "three", 3));
        for (int use = 1; use <= 3; ++use) {
            QCOMPARE(useToken(*storage, "three", t0), TokenUse::Consumed);
            QCOMPARE(usesOf(*storage, "et_3"), use);
        }
        QCOMPARE(useToken(*storage, "three", t0), TokenUse::Exhausted);
        QCOMPARE(usesOf(*storage, "et_3"), 3);
        QCOMPARE(storage->devices().size(), std::size_t(3));
    }

    void expiredTokenIsRefusedFromItsExpiry()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret", 2));
        const TimePoint expiry = t0 + seconds(3600);
        QCOMPARE(useToken(*storage, "secret", expiry - seconds(1)), TokenUse::Consumed);
        QCOMPARE(useToken(*storage, "secret", expiry), TokenUse::Expired);
        QCOMPARE(usesOf(*storage, "et_1"), 1);
        QCOMPARE(storage->devices().size(), std::size_t(1));
    }

    void revokedTokenIsRefused()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret", 2));
        QVERIFY(storage->revokeEnrollmentToken("et_1", t0 + seconds(5)));
        QVERIFY(!storage->revokeEnrollmentToken("et_1", t0 + seconds(6)));
        QVERIFY(!storage->revokeEnrollmentToken("et_nosuch", t0));
        QVERIFY(storage->enrollmentTokens()[0].revokedAt == t0 + seconds(5));
        QCOMPARE(useToken(*storage, "secret", t0 + seconds(6)), TokenUse::Revoked);
        QCOMPARE(usesOf(*storage, "et_1"), 0);
        QVERIFY(storage->devices().empty());
    }

    // When several reasons hold, the answer says the most about what happened.
    void refusalPrecedence()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "used and old"));
        QCOMPARE(useToken(*storage, "used and old", t0), TokenUse::Consumed);
        QCOMPARE(useToken(*storage, "used and old", t0 + seconds(7200)), TokenUse::Exhausted);
        QVERIFY(storage->revokeEnrollmentToken("et_1", t0));
        QCOMPARE(useToken(*storage, "used and old", t0 + seconds(7200)), TokenUse::Revoked);
    }

    void unknownTokenAdmitsNothing()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret"));
        QCOMPARE(useToken(*storage, "other", t0), TokenUse::Unknown);
        const Admission pending = storage->admitPendingEnrollment(
            hashOf("other"), t0, pendingEnrollment("p1", tpmDevice("d1", "jkt1")));
        QCOMPARE(pending.token, TokenUse::Unknown);
        QCOMPARE(usesOf(*storage, "et_1"), 0);
        QVERIFY(storage->devices().empty());
        CountingCheck check;
        QCOMPARE(storage->activateEnrollment("p1", "jkt1", t0, check.check(), nullptr),
                 Activation::Unknown);
    }

    void duplicateTokenIdIsAStorageError()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "a"));
        const QByteArray message =
            thrownMessage<StorageError>([&] { storage->addEnrollmentToken(token("et_1", "b")); });
        QVERIFY2(message.endsWith(": adding an enrollment token: UNIQUE constraint failed: "
                                  "enrollment_tokens.id"),
                 message.constData());
    }

    // Enrollment.

    void pendingEnrollmentActivatesOnce()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret"));
        const PendingEnrollment pending = pendingEnrollment("p1", tpmDevice("d1", "jkt1"));
        const Admission admission = storage->admitPendingEnrollment(hashOf("secret"), t0, pending);
        QVERIFY(!admission.alreadyEnrolled);
        QCOMPARE(admission.token, TokenUse::Consumed);
        QCOMPARE(usesOf(*storage, "et_1"), 1);
        QVERIFY(storage->devices().empty());

        CountingCheck check;
        Device activated;
        QCOMPARE(
            storage->activateEnrollment("p1", "jkt1", t0 + seconds(10), check.check(), &activated),
            Activation::Activated);
        QCOMPARE(check.calls, 1);
        Device expected = pending.device;
        expected.enrollmentTokenId = "et_1";
        expected.enrolledAt = t0 + seconds(10);
        compareDevices(activated, expected);
        compareDevices(*storage->device("d1"), expected);
        QCOMPARE(
            storage->activateEnrollment("p1", "jkt1", t0 + seconds(10), check.check(), nullptr),
            Activation::Unknown);
        QCOMPARE(storage->activateEnrollment("nosuch", "jkt1", t0, check.check(), nullptr),
                 Activation::Unknown);
        QCOMPARE(check.calls, 1);
    }

    void pendingEnrollmentKeepsTheWholeDevice()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret"));
        PendingEnrollment pending = pendingEnrollment("p1", softwareDevice("d1", "jkt1"));
        pending.device.revokedAt = t0 + seconds(1);
        pending.device.revokeReason = "odd but kept";
        pending.device.counters = TpmCounters{~0ull, 0xffffffffu, 7};
        pending.device.lastAppraisalId = "a0";
        pending.device.lastVerdict = "non_compliant";
        pending.device.lastAppraisedAt = t0 + seconds(2);
        QCOMPARE(storage->admitPendingEnrollment(hashOf("secret"), t0, pending).token,
                 TokenUse::Consumed);
        CountingCheck check;
        QCOMPARE(storage->activateEnrollment("p1", "jkt1", t0, check.check(), nullptr),
                 Activation::Activated);
        pending.device.enrollmentTokenId = "et_1";
        pending.device.enrolledAt = t0;
        compareDevices(*storage->device("d1"), pending.device);
    }

    // An answer signed by another key leaves the enrollment for its device; a wrong answer from
    // the device itself is its one attempt; an expired one cannot be activated.
    void activationAttempts()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret", 3));
        for (const char *id : {"p1", "p2"})
            QCOMPARE(storage
                         ->admitPendingEnrollment(hashOf("secret"), t0,
                                                  pendingEnrollment(id, tpmDevice(id, id)))
                         .token,
                     TokenUse::Consumed);
        CountingCheck check;
        QCOMPARE(storage->activateEnrollment("p1", "another key", t0, check.check(), nullptr),
                 Activation::WrongKey);
        QCOMPARE(check.calls, 0);
        check.accept = false;
        QCOMPARE(storage->activateEnrollment("p1", "p1", t0, check.check(), nullptr),
                 Activation::Refused);
        check.accept = true;
        QCOMPARE(storage->activateEnrollment("p1", "p1", t0, check.check(), nullptr),
                 Activation::Unknown);
        QCOMPARE(check.calls, 1);
        QVERIFY(storage->devices().empty());

        storage->admitPendingEnrollment(
            hashOf("secret"), t0, pendingEnrollment("p3", tpmDevice("p3", "p3"), t0 + seconds(60)));
        QCOMPARE(storage->activateEnrollment("p3", "p3", t0 + seconds(60), check.check(), nullptr),
                 Activation::Unknown);
        QCOMPARE(storage->activateEnrollment("p2", "p2", t0, check.check(), nullptr),
                 Activation::Activated);
        QCOMPARE(storage->devices().size(), std::size_t(1));
    }

    void enrolledKeyCannotEnrollAgain()
    {
        auto storage = SqliteStorage::open(freshPath());
        storage->addEnrollmentToken(token("et_1", "secret", 4));
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        // Refused before the token is touched: it keeps its uses.
        const Admission pending = storage->admitPendingEnrollment(
            hashOf("secret"), t0, pendingEnrollment("p1", tpmDevice("d2", "jkt1")));
        QVERIFY(pending.alreadyEnrolled);
        QVERIFY(storage->admitDevice(hashOf("secret"), t0, softwareDevice("d2", "jkt1"))
                    .alreadyEnrolled);
        QCOMPARE(usesOf(*storage, "et_1"), 0);
        CountingCheck check;
        QCOMPARE(storage->activateEnrollment("p1", "jkt1", t0, check.check(), nullptr),
                 Activation::Unknown);
        QVERIFY(!storage->addDevice(tpmDevice("d2", "jkt1")));
        QVERIFY(!storage->device("d2"));
        QCOMPARE(storage->devices().size(), std::size_t(1));
        // Two pending enrollments of one key may race; the first activation wins.
        QCOMPARE(storage
                     ->admitPendingEnrollment(hashOf("secret"), t0,
                                              pendingEnrollment("p1", tpmDevice("d3", "jkt3")))
                     .token,
                 TokenUse::Consumed);
        QCOMPARE(storage
                     ->admitPendingEnrollment(hashOf("secret"), t0,
                                              pendingEnrollment("p2", tpmDevice("d4", "jkt3")))
                     .token,
                 TokenUse::Consumed);
        QCOMPARE(storage->activateEnrollment("p2", "jkt3", t0, check.check(), nullptr),
                 Activation::Activated);
        QCOMPARE(storage->activateEnrollment("p1", "jkt3", t0, check.check(), nullptr),
                 Activation::AlreadyEnrolled);
        QVERIFY(storage->device("d4"));
        QVERIFY(!storage->device("d3"));
    }

    void devicesAreFoundByIdAndThumbprint()
    {
        auto storage = SqliteStorage::open(freshPath());
        Device first = tpmDevice("d1", "jkt1");
        first.enrolledAt = t0 + seconds(1);
        const Device second = softwareDevice("d2", "jkt2");
        QVERIFY(storage->addDevice(first));
        QVERIFY(storage->addDevice(second));
        compareDevices(*storage->device("d1"), first);
        compareDevices(*storage->deviceByJkt("jkt2"), second);
        QVERIFY(storage->deviceByJkt("jkt2")->ekPublic.empty());
        QVERIFY(!storage->device("jkt1"));
        QVERIFY(!storage->deviceByJkt("d1"));
        const auto all = storage->devices();
        QCOMPARE(all.size(), std::size_t(2));
        QCOMPARE(all[0].id, "d2"); // enrolled first
        QCOMPARE(all[1].id, "d1");
    }

    void revokedDeviceKeepsItsRecord()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        storage->addNonce("d1", "n1", t0 + seconds(300));
        QVERIFY(storage->revokeDevice("d1", "laptop stolen", t0 + seconds(9)));
        QVERIFY(!storage->revokeDevice("d1", "again", t0 + seconds(10)));
        QVERIFY(!storage->revokeDevice("nosuch", "x", t0));
        const Device device = *storage->deviceByJkt("jkt1");
        QVERIFY(device.revokedAt == t0 + seconds(9));
        QCOMPARE(device.revokeReason, "laptop stolen");
        // Its outstanding nonce went with it; the key still cannot enroll again.
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Unknown);
        QVERIFY(!storage->addDevice(tpmDevice("d2", "jkt1")));
    }

    // Nonces.

    void nonceIsSingleUse()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        storage->addNonce("d1", "n1", t0 + seconds(300));
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Consumed);
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Unknown);
        QCOMPARE(useNonce(*storage, "d1", "never issued", t0), NonceUse::Unknown);
    }

    void nonceExpiresAtItsTime()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        storage->addNonce("d1", "live", t0 + seconds(300));
        storage->addNonce("d1", "due", t0 + seconds(300));
        QCOMPARE(useNonce(*storage, "d1", "live", t0 + seconds(299)), NonceUse::Consumed);
        QCOMPARE(useNonce(*storage, "d1", "due", t0 + seconds(300)), NonceUse::Expired);
        // An expired nonce had its one answer too.
        QCOMPARE(useNonce(*storage, "d1", "due", t0), NonceUse::Unknown);
    }

    void nonceBelongsToOneDevice()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        QVERIFY(storage->addDevice(tpmDevice("d2", "jkt2")));
        storage->addNonce("d1", "n1", t0 + seconds(300));
        QCOMPARE(useNonce(*storage, "d2", "n1", t0), NonceUse::Unknown);
        // The other device's attempt did not spend it.
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Consumed);
    }

    void nonceForAnUnknownDeviceIsAStorageError()
    {
        auto storage = SqliteStorage::open(freshPath());
        const QByteArray message =
            thrownMessage<StorageError>([&] { storage->addNonce("nosuch", "n", t0); });
        QVERIFY2(message.endsWith(": adding a nonce: FOREIGN KEY constraint failed"),
                 message.constData());
    }

    void purgeRemovesOnlyWhatExpired()
    {
        const std::string path = freshPath();
        auto storage = SqliteStorage::open(path);
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        storage->addNonce("d1", "old", t0 + seconds(10));
        storage->addNonce("d1", "new", t0 + seconds(11));
        storage->addEnrollmentToken(token("et_2", "pending", 2));
        for (const auto &[id, expiry] :
             {std::pair{"old", t0 + seconds(10)}, std::pair{"new", t0 + seconds(11)}})
            QCOMPARE(
                storage
                    ->admitPendingEnrollment(hashOf("pending"), t0,
                                             pendingEnrollment(id, tpmDevice("d2", "jkt2"), expiry))
                    .token,
                TokenUse::Consumed);
        storage->addEnrollmentToken(token("et_1", "expired long ago"));
        storage->purgeExpired(t0 + seconds(10));
        QCOMPARE(rawQuery(path, "SELECT nonce FROM nonces"), std::string("new;"));
        QCOMPARE(rawQuery(path, "SELECT id FROM pending_enrollments"), std::string("new;"));
        QCOMPARE(storage->enrollmentTokens().size(), std::size_t(2));
        QCOMPARE(storage->devices().size(), std::size_t(1));
        QCOMPARE(useNonce(*storage, "d1", "new", t0), NonceUse::Consumed);
        CountingCheck check;
        QCOMPARE(storage->activateEnrollment("new", "jkt2", t0, check.check(), nullptr),
                 Activation::Activated);
    }

    // Appraisals.

    void appraisalBecomesTheDevicesLatest()
    {
        auto storage = SqliteStorage::open(freshPath());
        Device device = tpmDevice("d1", "jkt1");
        QVERIFY(storage->addDevice(device));
        storage->addNonce("d1", "n1", t0 + seconds(300));
        QCOMPARE(recordAccepted(*storage, appraisal("a1", "d1", t0, "non_compliant"), "n1",
                                TpmCounters{100, 1, 0}),
                 NonceUse::Consumed);
        device.counters = TpmCounters{100, 1, 0};
        device.lastAppraisalId = "a1";
        device.lastVerdict = "non_compliant";
        device.lastAppraisedAt = t0;
        compareDevices(*storage->device("d1"), device);
        // No counters given (a software device, say): the stored ones stay.
        // The next nonce came with it.
        QCOMPARE(recordAccepted(*storage, appraisal("a2", "d1", t0 + seconds(1)), "next-a1"),
                 NonceUse::Consumed);
        device.lastAppraisalId = "a2";
        device.lastVerdict = "compliant";
        device.lastAppraisedAt = t0 + seconds(1);
        compareDevices(*storage->device("d1"), device);
        const auto stored = storage->appraisals("d1", 1);
        QCOMPARE(stored.size(), std::size_t(1));
        QCOMPARE(stored[0].id, "a2");
        QCOMPARE(stored[0].deviceId, "d1");
        QVERIFY(stored[0].appraisedAt == t0 + seconds(1));
        QCOMPARE(stored[0].verdict, "compliant");
        QCOMPARE(stored[0].checksJson, "[{\"id\":\"firewall\",\"status\":\"pass\"}]");
        QCOMPARE(stored[0].error, "");
        QCOMPARE(stored[0].reportJti, "jti-a2");
    }

    void checkSeesTheStoredDeviceAndTheNoncesFate()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        // A clock past 2^63 survives SQLite's signed integers.
        const TpmCounters first{0x8000000000000001ull, 3, 4};
        storage->addNonce("d1", "live", t0 + seconds(300));
        storage->addNonce("d1", "due", t0 + seconds(5));
        Device seen;
        QCOMPARE(recordAccepted(*storage, appraisal("a1", "d1", t0), "live", first, &seen),
                 NonceUse::Consumed);
        QVERIFY(!seen.counters); // as stored before this report
        QCOMPARE(seen.id, "d1");
        QCOMPARE(recordAccepted(*storage, appraisal("a2", "d1", t0 + seconds(5)), "due",
                                TpmCounters{9, 9, 9}, &seen),
                 NonceUse::Expired);
        QCOMPARE(seen.counters->clock, 0x8000000000000001ull);
        QCOMPARE(seen.counters->resetCount, 3u);
        QCOMPARE(seen.counters->restartCount, 4u);
        QCOMPARE(seen.lastAppraisalId, "a1");
        QCOMPARE(recordAccepted(*storage, appraisal("a3", "d1", t0), "never issued"),
                 NonceUse::Unknown);
        QCOMPARE(recordAccepted(*storage, appraisal("a4", "d1", t0), ""), NonceUse::Unknown);
        QCOMPARE(storage->device("d1")->counters->clock, 9ull); // a3 and a4 gave none
    }

    // A check that refuses leaves everything as it was: the nonce unused, no next nonce, the
    // device's latest and counters, and no audit row (the verifier records the rejection
    // itself).
    void aRefusingCheckWritesNothing()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        recordAccepted(*storage, appraisal("a1", "d1", t0), {}, TpmCounters{5, 0, 0});
        storage->addNonce("d1", "n1", t0 + seconds(300));
        const ReportRecord record = reportRecord(
            appraisal("a2", "d1", t0 + seconds(1), "non_compliant"), "n1", TpmCounters{1, 0, 0});
        QCOMPARE(thrownMessage<std::runtime_error>([&] {
                     storage->recordReport(record, [](const Device &, NonceUse) {
                         throw std::runtime_error("counters went back");
                     });
                 }),
                 QByteArray("counters went back"));
        const Device device = *storage->device("d1");
        QCOMPARE(device.lastAppraisalId, "a1");
        QCOMPARE(device.counters->clock, 5ull);
        QCOMPARE(appraisalIds(storage->appraisals("d1", 10)), std::vector<std::string>{"a1"});
        QCOMPARE(useNonce(*storage, "d1", "next-a2", t0), NonceUse::Unknown);
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Consumed);
    }

    void rejectedReportIsAuditAndNonceOnly()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        recordAccepted(*storage, appraisal("a1", "d1", t0), {}, TpmCounters{1, 1, 1});
        storage->addNonce("d1", "n1", t0 + seconds(300));
        // Counters and a next nonce on a rejected record are ignored, and no check is asked.
        const ReportRecord record = reportRecord(appraisal("a2", "d1", t0 + seconds(1), "rejected"),
                                                 "n1", TpmCounters{8, 8, 8});
        bool checked = false;
        storage->recordReport(record, [&](const Device &, NonceUse) { checked = true; });
        QVERIFY(!checked);
        const Device device = *storage->device("d1");
        QCOMPARE(device.lastAppraisalId, "a1");
        QCOMPARE(device.lastVerdict, "compliant");
        QCOMPARE(device.counters->clock, 1ull);
        const auto stored = storage->appraisals("d1", 10);
        QCOMPARE(appraisalIds(stored), (std::vector<std::string>{"a2", "a1"}));
        QCOMPARE(stored[0].verdict, "rejected");
        QCOMPARE(stored[0].error, "invalid_report");
        QCOMPARE(useNonce(*storage, "d1", "n1", t0), NonceUse::Unknown);
        QCOMPARE(useNonce(*storage, "d1", "next-a2", t0), NonceUse::Unknown);
    }

    // Failed TPM evidence answering a live nonce is the device's latest appraisal; answering a
    // spent one (a replay), it is audited and nothing more.
    void failedEvidenceWithALiveNonceIsTheLatestAppraisal()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        recordAccepted(*storage, appraisal("a1", "d1", t0), {}, TpmCounters{1, 1, 1});
        storage->addNonce("d1", "n1", t0 + seconds(300));
        Appraisal failed = appraisal("a2", "d1", t0 + seconds(1), "rejected");
        failed.error = "evidence_rejected";
        ReportRecord record = reportRecord(failed, "n1", TpmCounters{8, 8, 8});
        record.evidenceFailed = true;
        storage->recordReport(record, {});
        Device device = *storage->device("d1");
        QCOMPARE(device.lastAppraisalId, "a2");
        QCOMPARE(device.lastVerdict, "rejected");
        QVERIFY(*device.lastAppraisedAt == t0 + seconds(1));
        QCOMPARE(device.counters->clock, 1ull);
        QCOMPARE(useNonce(*storage, "d1", "next-a2", t0), NonceUse::Unknown);

        recordAccepted(*storage, appraisal("a3", "d1", t0 + seconds(2)));
        record.appraisal.id = "a4";
        record.appraisal.appraisedAt = t0 + seconds(3);
        storage->recordReport(record, {});
        device = *storage->device("d1");
        QCOMPARE(device.lastAppraisalId, "a3");
        QCOMPARE(device.lastVerdict, "compliant");
        QCOMPARE(storage->appraisals("d1", 1).at(0).id, "a4");
    }

    void appraisalOfAnUnknownDeviceIsAStorageError()
    {
        const std::string path = freshPath();
        auto storage = SqliteStorage::open(path);
        QCOMPARE(thrownMessage<StorageError>(
                     [&] { recordAccepted(*storage, appraisal("a1", "nosuch", t0)); }),
                 QByteArray::fromStdString(path + ": recording a report: no device nosuch"));
        QVERIFY2(thrownMessage<StorageError>([&] {
                     recordAccepted(*storage, appraisal("a1", "nosuch", t0, "rejected"));
                 }).endsWith(": recording a report: FOREIGN KEY constraint failed"),
                 "rejected appraisal of an unknown device");
    }

    // A failure halfway leaves nothing behind: the nonce is used, the device's latest updated
    // and the next nonce added before the audit row is inserted, and the insert fails here.
    void failedAppraisalChangesNothing()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        recordAccepted(*storage, appraisal("a1", "d1", t0), {}, TpmCounters{1, 1, 1});
        storage->addNonce("d1", "n1", t0 + seconds(300));
        const ReportRecord record =
            reportRecord(appraisal("a1", "d1", t0 + seconds(5), "non_compliant"), "n1",
                         TpmCounters{2, 2, 2}, "n2");
        const QByteArray message = thrownMessage<StorageError>(
            [&] { storage->recordReport(record, [](const Device &, NonceUse) {}); });
        QVERIFY2(message.endsWith(": recording a report: UNIQUE constraint failed: appraisals.id"),
                 message.constData());
        const Device device = *storage->device("d1");
        QCOMPARE(device.lastVerdict, "compliant");
        QVERIFY(device.lastAppraisedAt == t0);
        QCOMPARE(device.counters->clock, 1ull);
        // And the connection is usable afterwards; the nonce is still there, the next one not.
        QCOMPARE(recordAccepted(*storage, appraisal("a2", "d1", t0), "n1", TpmCounters{2, 2, 2}),
                 NonceUse::Consumed);
        QCOMPARE(useNonce(*storage, "d1", "n2", t0), NonceUse::Unknown);
    }

    void appraisalsAreNewestFirst()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        QVERIFY(storage->addDevice(tpmDevice("d2", "jkt2")));
        // Recorded out of time order, two within the same second.
        recordAccepted(*storage, appraisal("mid", "d1", t0 + seconds(5)));
        recordAccepted(*storage, appraisal("old", "d1", t0));
        recordAccepted(*storage, appraisal("new1", "d1", t0 + seconds(9)));
        recordAccepted(*storage,
                       appraisal("new2", "d1", t0 + seconds(9) + std::chrono::milliseconds(10)));
        recordAccepted(*storage, appraisal("other", "d2", t0 + seconds(7)));
        QCOMPARE(appraisalIds(storage->appraisals("d1", 10)),
                 (std::vector<std::string>{"new2", "new1", "mid", "old"}));
        QCOMPARE(appraisalIds(storage->appraisals("d1", 2)),
                 (std::vector<std::string>{"new2", "new1"}));
        QVERIFY(storage->appraisals("d1", 0).empty());
        QVERIFY(storage->appraisals("d1", -1).empty());
        QVERIFY(storage->appraisals("nosuch", 10).empty());
    }

    // Concurrency.

    void eachNonceIsConsumedExactlyOnceUnderContention()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        constexpr int nonces = 200;
        constexpr int threads = 8;
        for (int i = 0; i < nonces; ++i)
            storage->addNonce("d1", "n" + std::to_string(i), t0 + seconds(300));
        std::vector<std::atomic<int>> consumed(nonces);
        std::atomic<int> unknown{0}, other{0}, errors{0};
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                std::vector<int> order(nonces);
                std::iota(order.begin(), order.end(), 0);
                std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(t)));
                for (int i : order) {
                    try {
                        switch (useNonce(*storage, "d1", "n" + std::to_string(i), t0)) {
                        case NonceUse::Consumed:
                            ++consumed[i];
                            break;
                        case NonceUse::Unknown:
                            ++unknown;
                            break;
                        default:
                            ++other;
                        }
                    } catch (const StorageError &) {
                        ++errors;
                    }
                }
            });
        }
        for (auto &worker : workers)
            worker.join();
        QCOMPARE(errors.load(), 0);
        QCOMPARE(other.load(), 0);
        for (int i = 0; i < nonces; ++i)
            QCOMPARE(consumed[i].load(), 1);
        QCOMPARE(unknown.load(), nonces * (threads - 1));
    }

    // Two storages on one file stand for two verifier processes: SQLite's locking, not our
    // mutex, keeps them apart.
    void twoOpenersShareOneDatabase()
    {
        const std::string path = freshPath();
        auto first = SqliteStorage::open(path);
        auto second = SqliteStorage::open(path);
        QVERIFY(first->addDevice(tpmDevice("d1", "jkt1")));
        QVERIFY(second->device("d1"));
        constexpr int nonces = 100;
        for (int i = 0; i < nonces; ++i)
            first->addNonce("d1", "n" + std::to_string(i), t0 + seconds(300));
        std::atomic<int> consumed{0}, errors{0};
        auto drain = [&](Storage &storage) {
            for (int i = 0; i < nonces; ++i) {
                try {
                    if (useNonce(storage, "d1", "n" + std::to_string(i), t0) == NonceUse::Consumed)
                        ++consumed;
                } catch (const StorageError &) {
                    ++errors;
                }
            }
        };
        std::thread a(drain, std::ref(*first));
        std::thread b(drain, std::ref(*second));
        a.join();
        b.join();
        QCOMPARE(errors.load(), 0);
        QCOMPARE(consumed.load(), nonces);
    }

    // Each check sees the device as the reports before it left it: of eight reports that all
    // expect the counters at 1, one passes.
    void concurrentReportsMoveTheCountersOnce()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addDevice(tpmDevice("d1", "jkt1")));
        recordAccepted(*storage, appraisal("a0", "d1", t0), {}, TpmCounters{1, 0, 0});
        constexpr int threads = 8;
        std::atomic<int> won{0}, refused{0}, errors{0};
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                const ReportRecord record =
                    reportRecord(appraisal("a" + std::to_string(t + 1), "d1", t0 + seconds(1)), {},
                                 TpmCounters{static_cast<std::uint64_t>(t + 2), 0, 0});
                try {
                    storage->recordReport(record, [](const Device &device, NonceUse) {
                        if (device.counters->clock != 1)
                            throw std::logic_error("moved");
                    });
                    ++won;
                } catch (const std::logic_error &) {
                    ++refused;
                } catch (const StorageError &) {
                    ++errors;
                }
            });
        }
        for (auto &worker : workers)
            worker.join();
        QCOMPARE(errors.load(), 0);
        QCOMPARE(won.load(), 1);
        QCOMPARE(refused.load(), threads - 1);
        const Device device = *storage->device("d1");
        QCOMPARE(storage->appraisals("d1", 100).size(), std::size_t(2));
        QCOMPARE(storage->appraisals("d1", 1)[0].id, device.lastAppraisalId);
        QCOMPARE(device.counters->clock, std::stoull(device.lastAppraisalId.substr(1)) + 1);
    }
};

QTEST_APPLESS_MAIN(TestSqliteStorage)
#include "tst_sqlitestorage.moc"
