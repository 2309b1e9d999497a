// SqliteStorage's users, invites, user keys, TOTP state, recovery codes and user sessions, on a
// real database file.
#include "server/storage/sqlitestorage.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <thread>

using vigil::Bytes;
using namespace vigil::server;

namespace QTest {

template <> inline char *toString(const Bytes &bytes)
{
    return qstrdup(("0x" + vigil::toHex(bytes)).c_str());
}

} // namespace QTest

namespace {

using std::chrono::seconds;

const TimePoint t0 = TimePoint(seconds(1795000000));

Bytes hashOf(std::uint8_t fill)
{
    return Bytes(32, fill);
}

User user(const std::string &id, const std::string &name)
{
    return User{id, name, t0, std::nullopt};
}

Device device(const std::string &id)
{
    Device device;
    device.id = id;
    device.jkt = "jkt-" + id;
    device.deviceKeyJwk = "{}";
    device.assurance = "tpm";
    device.hostname = "ws-" + id;
    device.enrollmentTokenId = "et_0123456789abcdef";
    device.enrolledAt = t0;
    return device;
}

UserInvite invite(const std::string &id, const std::string &userId, std::uint8_t hash,
                  TimePoint createdAt = t0)
{
    UserInvite invite;
    invite.id = id;
    invite.userId = userId;
    invite.codeHash = hashOf(hash);
    invite.createdAt = createdAt;
    invite.expiresAt = createdAt + seconds(3600);
    return invite;
}

UserDevice userKey(const std::string &userId, const std::string &deviceId, const std::string &jkt,
                   TimePoint at = t0)
{
    return UserDevice{userId, deviceId, "alice", "tpm", "{\"kty\":\"EC\"}", jkt, at};
}

UserSession session(std::uint8_t hash, const std::string &userId, const std::string &deviceId,
                    TimePoint authTime = t0)
{
    UserSession session;
    session.handleHash = hashOf(hash);
    session.userId = userId;
    session.deviceId = deviceId;
    session.authTime = authTime;
    session.expiresAt = authTime + seconds(28800);
    session.amr = {"hwk", "pin", "mfa"};
    session.acr = "urn:vigil:acr:hwk-pin";
    return session;
}

} // namespace

class TestUserStorage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_serial = 0;

    std::string freshPath()
    {
        return m_dir.filePath(QString::number(++m_serial)).toStdString() + ".db";
    }

    // A storage with users u1 (alice) and u2 (bob) and devices d1 and d2.
    std::unique_ptr<SqliteStorage> populated(const std::string &path)
    {
        auto storage = SqliteStorage::open(path);
        [&] {
            QVERIFY(storage->addUser(user("u1", "alice")));
            QVERIFY(storage->addUser(user("u2", "bob")));
            QVERIFY(storage->addDevice(device("d1")));
            QVERIFY(storage->addDevice(device("d2")));
        }();
        return storage;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void usersByIdAndName()
    {
        auto storage = SqliteStorage::open(freshPath());
        QVERIFY(storage->addUser(user("u2", "zoe")));
        QVERIFY(storage->addUser(user("u1", "alice")));
        QVERIFY(!storage->addUser(user("u3", "alice"))); // name taken
        QVERIFY(!storage->addUser(user("u1", "carol"))); // id taken
        QCOMPARE(storage->user("u1")->name, std::string("alice"));
        QCOMPARE(storage->userByName("zoe")->id, std::string("u2"));
        QCOMPARE(storage->user("u1")->createdAt, t0);
        QVERIFY(!storage->user("u1")->disabledAt);
        QVERIFY(!storage->user("u3"));
        QVERIFY(!storage->userByName("carol"));
        QVERIFY(!storage->userByName("Alice")); // names are exact
        const auto users = storage->users();
        QCOMPARE(users.size(), std::size_t(2));
        QCOMPARE(users[0].name, std::string("alice"));
        QCOMPARE(users[1].name, std::string("zoe"));
    }

    void disablingRevokesSessions()
    {
        auto storage = populated(freshPath());
        storage->addUserSession(session(1, "u1", "d1"));
        storage->addUserSession(session(2, "u2", "d1"));
        QVERIFY(storage->setUserDisabled("u1", t0 + seconds(5)));
        QVERIFY(!storage->setUserDisabled("u1", t0 + seconds(6))); // already
        QVERIFY(!storage->setUserDisabled("nobody", t0));
        QCOMPARE(*storage->user("u1")->disabledAt, t0 + seconds(5));
        QCOMPARE(*storage->userSession(hashOf(1))->revokedAt, t0 + seconds(5));
        QVERIFY(storage->activeUserSessions("u1", t0 + seconds(7)).empty());
        // Other users' sessions are untouched.
        QVERIFY(!storage->userSession(hashOf(2))->revokedAt);
        QVERIFY(!storage->user("u2")->disabledAt);
    }

    void invitesAreRedeemedOnce()
    {
        auto storage = populated(freshPath());
        storage->addUserInvite(invite("ui_1", "u1", 1));
        storage->addUserInvite(invite("ui_2", "u1", 2, t0 + seconds(10)));
        const auto listed = storage->userInvites("u1");
        QCOMPARE(listed.size(), std::size_t(2));
        QCOMPARE(listed[0].id, std::string("ui_2")); // newest first
        QVERIFY(storage->userInvites("u2").empty());

        const auto redeemed = storage->redeemUserInvite(hashOf(1), t0 + seconds(60), "d1");
        QVERIFY(redeemed);
        QCOMPARE(redeemed->id, std::string("ui_1"));
        QCOMPARE(redeemed->userId, std::string("u1"));
        QCOMPARE(*redeemed->usedAt, t0 + seconds(60));
        QCOMPARE(redeemed->usedByDevice, std::string("d1"));
        QCOMPARE(redeemed->codeHash, hashOf(1));
        // Used: refused, for the same device or another, and left as it was.
        QVERIFY(!storage->redeemUserInvite(hashOf(1), t0 + seconds(61), "d1"));
        QVERIFY(!storage->redeemUserInvite(hashOf(1), t0 + seconds(61), "d2"));
        QCOMPARE(storage->userInvites("u1")[1].usedByDevice, std::string("d1"));
        // Unknown.
        QVERIFY(!storage->redeemUserInvite(hashOf(9), t0, "d1"));
    }

    void expiredInvitesAreRefused()
    {
        auto storage = populated(freshPath());
        storage->addUserInvite(invite("ui_1", "u1", 1));
        // Expired at expiresAt itself.
        QVERIFY(!storage->redeemUserInvite(hashOf(1), t0 + seconds(3600), "d1"));
        QVERIFY(!storage->userInvites("u1")[0].usedAt);
        QVERIFY(storage->redeemUserInvite(hashOf(1), t0 + seconds(3599), "d1"));
    }

    // Two processes' worth of storage on one file, racing for one invite: one wins.
    void racingRedemptionsHaveOneWinner()
    {
        const std::string path = freshPath();
        auto first = populated(path);
        auto second = SqliteStorage::open(path);
        for (std::uint8_t round = 1; round <= 20; ++round) {
            first->addUserInvite(invite("ui_" + std::to_string(round), "u1", round));
            std::atomic<int> wins{0};
            std::thread a(
                [&] { wins += first->redeemUserInvite(hashOf(round), t0, "d1") ? 1 : 0; });
            std::thread b(
                [&] { wins += second->redeemUserInvite(hashOf(round), t0, "d2") ? 1 : 0; });
            a.join();
            b.join();
            QCOMPARE(wins.load(), 1);
        }
    }

    void userKeysAreOnePerUserAndDevice()
    {
        auto storage = populated(freshPath());
        storage->putUserDevice(userKey("u1", "d2", "k1"));
        storage->putUserDevice(userKey("u1", "d1", "k2", t0 + seconds(1)));
        storage->putUserDevice(userKey("u2", "d1", "k3")); // another user on the same device
        QCOMPARE(storage->userDevice("u1", "d1")->keyJkt, std::string("k2"));
        QCOMPARE(storage->userDevice("u2", "d1")->keyJkt, std::string("k3"));
        QVERIFY(!storage->userDevice("u2", "d2"));

        // A new enrollment on the same device replaces the key.
        UserDevice replaced = userKey("u1", "d1", "k4", t0 + seconds(100));
        replaced.keyAssurance = "software";
        replaced.localAccount = "alice2";
        replaced.keyJwk = "{\"kty\":\"EC\",\"x\":\"new\"}";
        storage->putUserDevice(replaced);
        const auto stored = storage->userDevice("u1", "d1");
        QCOMPARE(stored->keyJkt, std::string("k4"));
        QCOMPARE(stored->keyAssurance, std::string("software"));
        QCOMPARE(stored->localAccount, std::string("alice2"));
        QCOMPARE(stored->keyJwk, replaced.keyJwk);
        QCOMPARE(stored->enrolledAt, t0 + seconds(100));

        const auto devices = storage->userDevices("u1");
        QCOMPARE(devices.size(), std::size_t(2));
        QCOMPARE(devices[0].deviceId, std::string("d2")); // oldest first
        QCOMPARE(devices[1].deviceId, std::string("d1"));
    }

    void userKeysNeedAUserAndADevice()
    {
        auto storage = populated(freshPath());
        QVERIFY_THROWS_EXCEPTION(StorageError, storage->putUserDevice(userKey("u9", "d1", "k")));
        QVERIFY_THROWS_EXCEPTION(StorageError, storage->putUserDevice(userKey("u1", "d9", "k")));
        UserDevice bad = userKey("u1", "d1", "k");
        bad.keyAssurance = "hsm";
        QVERIFY_THROWS_EXCEPTION(StorageError, storage->putUserDevice(bad));
        QVERIFY(storage->userDevices("u1").empty());
    }

    void pendingTotpIsReplacedUntilActive()
    {
        auto storage = populated(freshPath());
        QVERIFY(!storage->userTotp("u1"));
        QVERIFY(storage->putPendingTotp("u1", Bytes{1, 2, 3}, t0 + seconds(900)));
        auto totp = storage->userTotp("u1");
        QCOMPARE(totp->state, TotpState::Pending);
        QCOMPARE(totp->sealedSecret, (Bytes{1, 2, 3}));
        QCOMPARE(totp->pendingExpiresAt, t0 + seconds(900));
        QVERIFY(!totp->lastAcceptedStep);
        QCOMPARE(totp->consecutiveFailures, 0);
        QVERIFY(!totp->locked);

        QVERIFY(storage->putPendingTotp("u1", Bytes{4, 5}, t0 + seconds(1000)));
        QCOMPARE(storage->userTotp("u1")->sealedSecret, (Bytes{4, 5}));

        // Expired: not activated.
        QVERIFY(!storage->activateTotp("u1", 7, t0 + seconds(1000)));
        QVERIFY(storage->activateTotp("u1", 7, t0 + seconds(999)));
        totp = storage->userTotp("u1");
        QCOMPARE(totp->state, TotpState::Active);
        QCOMPARE(*totp->lastAcceptedStep, std::uint64_t(7));
        QVERIFY(!storage->activateTotp("u1", 8, t0)); // active already

        // Active: a pending secret does not replace it.
        QVERIFY(!storage->putPendingTotp("u1", Bytes{6}, t0 + seconds(2000)));
        QCOMPARE(storage->userTotp("u1")->sealedSecret, (Bytes{4, 5}));
        QCOMPARE(storage->userTotp("u1")->state, TotpState::Active);
        QVERIFY(!storage->userTotp("u2"));
    }

    void eachStepIsAcceptedOnce()
    {
        auto storage = populated(freshPath());
        QVERIFY(storage->putPendingTotp("u1", Bytes{1}, t0 + seconds(900)));
        QVERIFY(!storage->acceptTotpStep("u1", 100, t0)); // pending: not for sign-in
        QVERIFY(storage->activateTotp("u1", 100, t0));
        QVERIFY(!storage->acceptTotpStep("u1", 100, t0));
        QVERIFY(!storage->acceptTotpStep("u1", 99, t0));
        QVERIFY(storage->acceptTotpStep("u1", 101, t0));
        QVERIFY(!storage->acceptTotpStep("u1", 101, t0));
        QVERIFY(storage->acceptTotpStep("u1", 103, t0));
        QCOMPARE(*storage->userTotp("u1")->lastAcceptedStep, std::uint64_t(103));
        QVERIFY(!storage->acceptTotpStep("u2", 200, t0)); // no TOTP
    }

    // Two storages on one file offering the same step at once: it is accepted once.
    void racingStepsHaveOneWinner()
    {
        const std::string path = freshPath();
        auto first = populated(path);
        auto second = SqliteStorage::open(path);
        QVERIFY(first->putPendingTotp("u1", Bytes{1}, t0 + seconds(900)));
        QVERIFY(first->activateTotp("u1", 1000, t0));
        for (std::uint64_t step = 1001; step <= 1020; ++step) {
            std::atomic<int> wins{0};
            std::thread a([&] { wins += first->acceptTotpStep("u1", step, t0) ? 1 : 0; });
            std::thread b([&] { wins += second->acceptTotpStep("u1", step, t0) ? 1 : 0; });
            a.join();
            b.join();
            QCOMPARE(wins.load(), 1);
        }
    }

    void failuresCountLockAndReset()
    {
        auto storage = populated(freshPath());
        QVERIFY(!storage->recordTotpFailure("u1", t0, 3)); // no TOTP
        QVERIFY(storage->putPendingTotp("u1", Bytes{1}, t0 + seconds(900)));
        QVERIFY(storage->activateTotp("u1", 100, t0));
        auto after = storage->recordTotpFailure("u1", t0 + seconds(1), 3);
        QCOMPARE(after->consecutiveFailures, 1);
        QCOMPARE(*after->lastFailureAt, t0 + seconds(1));
        QVERIFY(!after->locked);
        // A good step resets the count.
        QVERIFY(storage->acceptTotpStep("u1", 101, t0 + seconds(2)));
        QCOMPARE(storage->userTotp("u1")->consecutiveFailures, 0);
        QVERIFY(!storage->userTotp("u1")->lastFailureAt);

        storage->recordTotpFailure("u1", t0, 3);
        storage->recordTotpFailure("u1", t0, 3);
        after = storage->recordTotpFailure("u1", t0 + seconds(9), 3);
        QCOMPARE(after->consecutiveFailures, 3);
        QVERIFY(after->locked);
        // Locked: no step is accepted, a further failure keeps it locked.
        QVERIFY(!storage->acceptTotpStep("u1", 200, t0));
        QVERIFY(storage->recordTotpFailure("u1", t0, 3)->locked);
        QCOMPARE(storage->userTotp("u1")->consecutiveFailures, 4);

        QVERIFY(storage->unlockTotp("u1"));
        QVERIFY(!storage->unlockTotp("u1")); // nothing left to unlock
        QVERIFY(!storage->unlockTotp("u2"));
        const auto unlocked = storage->userTotp("u1");
        QVERIFY(!unlocked->locked);
        QCOMPARE(unlocked->consecutiveFailures, 0);
        QVERIFY(storage->acceptTotpStep("u1", 200, t0));
    }

    // Failures during activation count, and a new pending secret is no way around them.
    void pendingFailuresCarryOver()
    {
        auto storage = populated(freshPath());
        QVERIFY(storage->putPendingTotp("u1", Bytes{1}, t0 + seconds(900)));
        for (int i = 0; i < 2; ++i)
            storage->recordTotpFailure("u1", t0, 2);
        QVERIFY(storage->userTotp("u1")->locked);
        QVERIFY(storage->putPendingTotp("u1", Bytes{2}, t0 + seconds(900)));
        QVERIFY(storage->userTotp("u1")->locked);
        QCOMPARE(storage->userTotp("u1")->consecutiveFailures, 2);
        QVERIFY(!storage->activateTotp("u1", 5, t0)); // locked
    }

    void recoveryCodesWorkOnce()
    {
        auto storage = populated(freshPath());
        QCOMPARE(storage->recoveryCodesLeft("u1"), 0);
        storage->replaceRecoveryCodes("u1", {hashOf(1), hashOf(2), hashOf(3)}, t0);
        storage->replaceRecoveryCodes("u2", {hashOf(4)}, t0);
        QCOMPARE(storage->recoveryCodesLeft("u1"), 3);
        QVERIFY(storage->useRecoveryCode("u1", hashOf(2), t0));
        QVERIFY(!storage->useRecoveryCode("u1", hashOf(2), t0));
        QVERIFY(!storage->useRecoveryCode("u1", hashOf(4), t0)); // bob's
        QVERIFY(!storage->useRecoveryCode("u1", hashOf(9), t0));
        QCOMPARE(storage->recoveryCodesLeft("u1"), 2);

        // A new set invalidates the old, used or not.
        storage->replaceRecoveryCodes("u1", {hashOf(5), hashOf(6)}, t0);
        QCOMPARE(storage->recoveryCodesLeft("u1"), 2);
        QVERIFY(!storage->useRecoveryCode("u1", hashOf(1), t0));
        QVERIFY(storage->useRecoveryCode("u1", hashOf(5), t0));
        QCOMPARE(storage->recoveryCodesLeft("u2"), 1);
    }

    void sessions()
    {
        auto storage = populated(freshPath());
        storage->addUserSession(session(1, "u1", "d1", t0));
        UserSession otp = session(2, "u1", "d2", t0 + seconds(10));
        otp.amr = {"otp"};
        otp.acr = "urn:vigil:acr:otp";
        otp.expiresAt = t0 + seconds(100);
        storage->addUserSession(otp);

        const auto stored = storage->userSession(hashOf(1));
        QVERIFY(stored);
        QCOMPARE(stored->userId, std::string("u1"));
        QCOMPARE(stored->deviceId, std::string("d1"));
        QCOMPARE(stored->authTime, t0);
        QCOMPARE(stored->expiresAt, t0 + seconds(28800));
        QCOMPARE(stored->amr, (std::vector<std::string>{"hwk", "pin", "mfa"}));
        QCOMPARE(stored->acr, std::string("urn:vigil:acr:hwk-pin"));
        QVERIFY(!stored->revokedAt);
        QCOMPARE(storage->userSession(hashOf(2))->amr, std::vector<std::string>{"otp"});
        QVERIFY(!storage->userSession(hashOf(3)));

        QCOMPARE(storage->activeUserSessions("u1", t0 + seconds(50)).size(), std::size_t(2));
        // Expired at expiresAt.
        QCOMPARE(storage->activeUserSessions("u1", t0 + seconds(100)).size(), std::size_t(1));
        QVERIFY(storage->revokeUserSession(hashOf(1), t0 + seconds(60)));
        QVERIFY(!storage->revokeUserSession(hashOf(1), t0 + seconds(61))); // idempotent
        QVERIFY(!storage->revokeUserSession(hashOf(3), t0));
        QCOMPARE(*storage->userSession(hashOf(1))->revokedAt, t0 + seconds(60));
        const auto active = storage->activeUserSessions("u1", t0 + seconds(61));
        QCOMPARE(active.size(), std::size_t(1));
        QCOMPARE(active[0].handleHash, hashOf(2));

        // Purged once expired.
        storage->purgeExpired(t0 + seconds(100));
        QVERIFY(!storage->userSession(hashOf(2)));
        QVERIFY(storage->userSession(hashOf(1)));
    }

    void sessionsRefuseBadRows()
    {
        auto storage = populated(freshPath());
        UserSession bad = session(1, "u1", "d1");
        bad.amr = {"two words"};
        QVERIFY_THROWS_EXCEPTION(StorageError, storage->addUserSession(bad));
        QVERIFY_THROWS_EXCEPTION(StorageError, storage->addUserSession(session(2, "u1", "d9")));
        storage->addUserSession(session(3, "u1", "d1"));
        QVERIFY_THROWS_EXCEPTION(StorageError, storage->addUserSession(session(3, "u1", "d1")));
        QVERIFY(!storage->userSession(hashOf(1)));
    }

    void persistsAcrossReopen()
    {
        const std::string path = freshPath();
        {
            auto storage = populated(path);
            storage->addUserInvite(invite("ui_1", "u1", 1));
            storage->putUserDevice(userKey("u1", "d1", "k1"));
            QVERIFY(storage->putPendingTotp("u1", Bytes{1, 2}, t0 + seconds(900)));
            QVERIFY(storage->activateTotp("u1", 55, t0));
            storage->replaceRecoveryCodes("u1", {hashOf(1)}, t0);
            storage->addUserSession(session(1, "u1", "d1"));
        }
        auto storage = SqliteStorage::open(path);
        QCOMPARE(storage->users().size(), std::size_t(2));
        QCOMPARE(storage->userInvites("u1").size(), std::size_t(1));
        QCOMPARE(storage->userDevice("u1", "d1")->keyJkt, std::string("k1"));
        QCOMPARE(*storage->userTotp("u1")->lastAcceptedStep, std::uint64_t(55));
        QCOMPARE(storage->recoveryCodesLeft("u1"), 1);
        QVERIFY(storage->userSession(hashOf(1)));
    }
};

QTEST_APPLESS_MAIN(TestUserStorage)
#include "tst_userstorage.moc"
