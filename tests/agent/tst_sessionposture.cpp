// Which desktop session's screen lock a report carries: the active user's while logind says who
// that is, the most recent submission without logind, and unknown with a reason until one came.
// changed() is what starts a report, so it must come exactly when the carried result changes.
#include "app/agent/sessionposture.h"
#include "manualclock.h"

#include <QSignalSpy>
#include <QtTest>

using namespace vigil;
using agent::SessionPosture;
using nlohmann::json;
using posture::CheckResult;
using posture::CheckStatus;

namespace {

constexpr uid_t alice = 1000;
constexpr uid_t bob = 1001;

CheckResult locks(int seconds)
{
    return CheckResult::pass("anything",
                             "GNOME locks the screen after " + std::to_string(seconds) + " s idle",
                             {{"lock_enabled", true}, {"seconds_to_lock", seconds}});
}

CheckResult neverLocks()
{
    return CheckResult::fail("screen_lock", "GNOME does not lock the screen when idle",
                             "Turn on Automatic Screen Lock.",
                             {{"lock_enabled", false}, {"seconds_to_lock", 300}});
}

} // namespace

class TestSessionPosture : public QObject
{
    Q_OBJECT

private:
    test::ManualClock m_clock{
        std::chrono::system_clock::time_point(std::chrono::seconds(1795536300))};

private Q_SLOTS:
    void unknownUntilASessionReports()
    {
        SessionPosture sessions(m_clock);
        const CheckResult none = sessions.screenLock();
        QCOMPARE(none.id, std::string("screen_lock"));
        QCOMPARE(none.status, CheckStatus::Unknown);
        QCOMPARE(none.reason, std::string("no desktop session has reported its screen lock: is "
                                          "vigil-tray running?"));
    }

    // Without logind the latest submission counts, whoever sent it.
    void withoutLogindTheLatestSubmissionCounts()
    {
        SessionPosture sessions(m_clock);
        QSignalSpy changed(&sessions, &SessionPosture::changed);
        sessions.submit(alice, locks(300));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(sessions.screenLock().status, CheckStatus::Pass);
        QCOMPARE(sessions.screenLock().id, std::string("screen_lock"));
        m_clock.advance(std::chrono::seconds(5));
        sessions.submit(bob, neverLocks());
        QCOMPARE(changed.size(), 2);
        QCOMPARE(sessions.screenLock().status, CheckStatus::Fail);
        QCOMPARE(sessions.submission(bob)->receivedAt, m_clock.now());
        QCOMPARE(sessions.submission(alice)->screenLock.status, CheckStatus::Pass);
    }

    // The same result again, even with another duration, starts no report; a change of
    // status or details does.
    void onlyAChangeIsSignalled()
    {
        SessionPosture sessions(m_clock);
        QSignalSpy changed(&sessions, &SessionPosture::changed);
        sessions.submit(alice, locks(300));
        CheckResult again = locks(300);
        again.duration = std::chrono::milliseconds(40);
        sessions.submit(alice, again);
        QCOMPARE(changed.size(), 1);
        sessions.submit(alice, locks(600)); // details and summary differ
        QCOMPARE(changed.size(), 2);
        sessions.submit(alice, neverLocks());
        QCOMPARE(changed.size(), 3);
        QCOMPARE(sessions.screenLock().remediation, std::string("Turn on Automatic Screen Lock."));
    }

    // While logind names alice, nobody else's submission changes what is reported.
    void logindsActiveUserCounts()
    {
        SessionPosture sessions(m_clock);
        QSignalSpy changed(&sessions, &SessionPosture::changed);
        sessions.setActiveUser(alice);
        QCOMPARE(sessions.screenLock().status, CheckStatus::Unknown);
        QVERIFY2(sessions.screenLock().reason.find("uid 1000") != std::string::npos,
                 sessions.screenLock().reason.c_str());
        QCOMPARE(changed.size(), 1); // the reason changed
        sessions.submit(alice, neverLocks());
        QCOMPARE(changed.size(), 2);
        sessions.submit(bob, locks(60));
        QCOMPARE(changed.size(), 2);
        QCOMPARE(sessions.screenLock().status, CheckStatus::Fail);

        // A switch to bob's session brings his result, and a change.
        sessions.setActiveUser(bob);
        QCOMPARE(changed.size(), 3);
        QCOMPARE(sessions.screenLock().status, CheckStatus::Pass);
        sessions.setActiveUser(bob);
        QCOMPARE(changed.size(), 3);

        sessions.setActiveUser(std::nullopt);
        QCOMPARE(sessions.screenLock().reason,
                 std::string("no desktop session is active on seat0"));

        // logind gone: the latest submission (bob's) counts again.
        sessions.forgetActiveUser();
        QCOMPARE(sessions.screenLock().status, CheckStatus::Pass);
        QCOMPARE(changed.size(), 5);
    }

    void appliedInPlaceOfRootsResult()
    {
        SessionPosture sessions(m_clock);
        sessions.submit(alice, neverLocks());
        json snapshot = {
            {"schema_version", 1},
            {"checks",
             {{"screen_lock", CheckResult::unknown("screen_lock", "runs in the user's desktop "
                                                                  "session; this process has none")
                                  .toJson()},
              {"os", locks(1).toJson()}}}};
        sessions.applyTo(snapshot);
        QCOMPARE(snapshot["checks"]["screen_lock"], neverLocks().toJson());
        QCOMPARE(snapshot["checks"]["os"], locks(1).toJson());
    }
};

QTEST_GUILESS_MAIN(TestSessionPosture)
#include "tst_sessionposture.moc"
