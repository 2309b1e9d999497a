// TrayState: every AgentState, vigild not running, and the edges of the grace rules with a
// clock that stands where the test puts it.
#include "core/clock.h"
#include "tests/app/scriptedvigild.h"
#include "tests/support/manualclock.h"
#include "ui/model/traystate.h"
#include "ui/translations/translations.h"

#include <QtTest>

using namespace vigil;
using namespace std::chrono_literals;
using protocol::ipc::AgentState;
using protocol::ipc::Status;
using ui::TrayState;

Q_DECLARE_METATYPE(vigil::protocol::ipc::AgentState)
Q_DECLARE_METATYPE(vigil::ui::TrayState)

namespace {

// compliantStatus() is appraised at 16:06:31 with its token until 16:11:32, next report 16:21:31.
const auto appraised = test::at("2026-11-24T16:06:31Z");

Status withState(AgentState state)
{
    auto status = test::compliantStatus();
    status.state = state;
    return status;
}

} // namespace

class TestTrayState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The texts people read, plurals included.
    void initTestCase() { ui::installTranslations(*QCoreApplication::instance()); }

    void everyAgentState_data()
    {
        QTest::addColumn<AgentState>("agent");
        QTest::addColumn<TrayState>("tray");
        QTest::newRow("starting") << AgentState::Starting << TrayState::Grace;
        QTest::newRow("not_enrolled") << AgentState::NotEnrolled << TrayState::NotEnrolled;
        QTest::newRow("enrolling") << AgentState::Enrolling << TrayState::Grace;
        QTest::newRow("compliant") << AgentState::Compliant << TrayState::Compliant;
        QTest::newRow("non_compliant") << AgentState::NonCompliant << TrayState::NonCompliant;
        QTest::newRow("offline") << AgentState::Offline << TrayState::Offline;
        QTest::newRow("revoked") << AgentState::Revoked << TrayState::NotEnrolled;
        QTest::newRow("error") << AgentState::Error << TrayState::NonCompliant;
    }

    void everyAgentState()
    {
        QFETCH(AgentState, agent);
        QFETCH(TrayState, tray);
        const test::ManualClock clock(appraised + 1s);
        const auto shown = ui::trayStatus(withState(agent), clock);
        QCOMPARE(shown.state, tray);
        QVERIFY(!shown.headline.isEmpty());
        QVERIFY(!shown.headline.contains(QLatin1Char('\n')));
        QCOMPARE(shown.toolTip, QStringLiteral("Vigil: ") + shown.headline);
    }

    void noStatusIsServiceNotRunning()
    {
        const test::ManualClock clock(appraised);
        const auto shown = ui::trayStatus(std::nullopt, clock);
        QCOMPARE(shown.state, TrayState::ServiceNotRunning);
        QCOMPARE(shown.headline, QStringLiteral("The Vigil service is not running"));
        QCOMPARE(ui::trayStateChangesAt(std::nullopt, clock), std::nullopt);
    }

    void texts()
    {
        const test::ManualClock clock(appraised);
        QCOMPARE(ui::trayStatus(test::nonCompliantStatus(), clock).headline,
                 QStringLiteral("Not compliant: 1 check to fix"));
        auto failing = withState(AgentState::Error);
        failing.reason = "the TPM does not answer\nsecond line";
        QCOMPARE(ui::trayStatus(failing, clock).headline,
                 QStringLiteral("Something on this device is broken: the TPM does not answer"));
        auto enrolling = withState(AgentState::Enrolling);
        enrolling.reason = "";
        QCOMPARE(ui::trayStatus(enrolling, clock).headline,
                 QStringLiteral("Enrolling this device"));
    }

    void reportOverdueEdge()
    {
        // Without a token, only the report's schedule counts.
        auto status = test::compliantStatus();
        status.tokenExpiresAt.reset();
        const auto due = *status.nextReportAt;
        test::ManualClock clock(due);
        QCOMPARE(ui::trayStatus(status, clock).state, TrayState::Compliant);
        clock.set(due + 30s); // a report in flight is not overdue yet
        QCOMPARE(ui::trayStatus(status, clock).state, TrayState::Compliant);
        QCOMPARE(ui::trayStateChangesAt(status, clock), due + 31s);
        clock.set(due + 31s);
        const auto late = ui::trayStatus(status, clock);
        QCOMPARE(late.state, TrayState::Grace);
        QVERIFY(late.headline.contains(QStringLiteral("overdue")));
        QCOMPARE(ui::trayStateChangesAt(status, clock), std::nullopt);
    }

    void tokenExpiryEdge()
    {
        auto status = test::compliantStatus();
        const auto expires = *status.tokenExpiresAt;
        test::ManualClock clock(expires - 61s);
        QCOMPARE(ui::trayStatus(status, clock).state, TrayState::Compliant);
        QCOMPARE(ui::trayStateChangesAt(status, clock), expires - 60s);
        clock.set(expires - 60s);
        auto shown = ui::trayStatus(status, clock);
        QCOMPARE(shown.state, TrayState::Grace);
        QVERIFY(shown.headline.contains(QStringLiteral("expires soon")));
        QCOMPARE(ui::trayStateChangesAt(status, clock), expires);
        clock.set(expires);
        shown = ui::trayStatus(status, clock);
        QCOMPARE(shown.state, TrayState::Grace);
        QVERIFY(shown.headline.contains(QStringLiteral("expired")));
    }

    void rulesAreInjectable()
    {
        auto status = test::compliantStatus();
        const test::ManualClock clock(*status.tokenExpiresAt - 3min);
        QCOMPARE(ui::trayStatus(status, clock).state, TrayState::Compliant);
        ui::GraceRules rules;
        rules.tokenExpiryWarning = 5min;
        QCOMPARE(ui::trayStatus(status, clock, rules).state, TrayState::Grace);
    }

    void graceOnlyWhileCompliant()
    {
        // A non-compliant device past its report time is still non-compliant, not grace.
        auto status = test::nonCompliantStatus();
        const test::ManualClock clock(*status.nextReportAt + 1h);
        QCOMPARE(ui::trayStatus(status, clock).state, TrayState::NonCompliant);
        QCOMPARE(ui::trayStateChangesAt(status, clock), std::nullopt);
    }
};

QTEST_GUILESS_MAIN(TestTrayState)
#include "tst_traystate.moc"
