// NotificationPolicy: which transitions notify, over scripted sequences of statuses with a clock
// that stands where the test puts it.
#include "core/clock.h"
#include "tests/app/scriptedvigild.h"
#include "tests/support/manualclock.h"
#include "ui/model/notificationpolicy.h"

#include <QtTest>

using namespace vigil;
using namespace std::chrono_literals;
using protocol::ipc::AgentState;
using protocol::ipc::Status;
using ui::DesktopNotification;
using Kind = DesktopNotification::Kind;

namespace {

const auto start = test::at("2026-11-24T16:06:31Z");

protocol::AppraisalCheck failing(const std::string &id)
{
    return {id, protocol::CheckOutcome::Fail, id + " is off", "Turn on " + id};
}

// One word of a script: C compliant, N:a,b non-compliant with checks a and b failing, O offline,
// - vigild not running, S starting, E enrolling, U not enrolled, R revoked, X error,
// +N the clock moves N seconds and the tray's timer fires (due()), ~N it moves without that.
std::optional<Status> statusFor(const QString &word)
{
    if (word == QLatin1String("-"))
        return std::nullopt;
    Status status = test::compliantStatus();
    const QChar kind = word.at(0);
    if (kind == QLatin1Char('N')) {
        status = test::nonCompliantStatus();
        status.lastVerdict->failingChecks.clear();
        for (const QString &id : word.mid(2).split(QLatin1Char(','), Qt::SkipEmptyParts))
            status.lastVerdict->failingChecks.push_back(failing(id.toStdString()));
        return status;
    }
    const std::map<QChar, AgentState> states{
        {QLatin1Char('C'), AgentState::Compliant},   {QLatin1Char('O'), AgentState::Offline},
        {QLatin1Char('S'), AgentState::Starting},    {QLatin1Char('E'), AgentState::Enrolling},
        {QLatin1Char('U'), AgentState::NotEnrolled}, {QLatin1Char('R'), AgentState::Revoked},
        {QLatin1Char('X'), AgentState::Error}};
    status.state = states.at(kind);
    if (kind == QLatin1Char('X')) { // broken after a non-compliant verdict
        status = test::nonCompliantStatus();
        status.state = AgentState::Error;
        status.reason = "the TPM is in lockout";
    }
    return status;
}

QString letter(const std::optional<DesktopNotification> &notification)
{
    if (!notification)
        return QStringLiteral(".");
    switch (notification->kind) {
    case Kind::NonCompliant:
        return QStringLiteral("N");
    case Kind::Compliant:
        return QStringLiteral("C");
    case Kind::Offline:
        return QStringLiteral("O");
    case Kind::Revoked:
        return QStringLiteral("R");
    case Kind::CheckFinished: // TrayApp's, never the policy's
        break;
    }
    return QStringLiteral("?");
}

// Runs a script with a 300 s grace; one letter per word: the notification's kind, or '.'.
QString run(const QString &script, std::vector<DesktopNotification> *shown = nullptr)
{
    test::ManualClock clock(start);
    ui::NotificationPolicy policy(clock, {300s});
    QStringList letters;
    for (const QString &word : script.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        std::optional<DesktopNotification> notification;
        if (word.startsWith(QLatin1Char('~'))) {
            clock.advance(std::chrono::seconds(word.mid(1).toInt()));
        } else if (word.startsWith(QLatin1Char('+'))) {
            clock.advance(std::chrono::seconds(word.mid(1).toInt()));
            notification = policy.due();
        } else {
            notification = policy.update(statusFor(word));
        }
        if (notification && shown)
            shown->push_back(*notification);
        letters.append(letter(notification));
    }
    return letters.join(QLatin1Char(' '));
}

} // namespace

class TestNotificationPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void transitions_data()
    {
        QTest::addColumn<QString>("script");
        QTest::addColumn<QString>("expected");
        QTest::newRow("compliant -> non-compliant")
            << QStringLiteral("C N:fw") << QStringLiteral(". N");
        QTest::newRow("same set re-sent")
            << QStringLiteral("C N:fw N:fw N:fw") << QStringLiteral(". N . .");
        QTest::newRow("a check newly fails")
            << QStringLiteral("C N:fw N:fw,disk N:disk,fw") << QStringLiteral(". N N .");
        QTest::newRow("a check stops failing")
            << QStringLiteral("C N:fw,disk N:disk N:disk") << QStringLiteral(". N . .");
        QTest::newRow("back to compliant")
            << QStringLiteral("C N:fw C C") << QStringLiteral(". N C .");
        QTest::newRow("flapping notifies each change")
            << QStringLiteral("C N:fw C N:fw") << QStringLiteral(". N C N");
        QTest::newRow("error is non-compliant")
            << QStringLiteral("C X X") << QStringLiteral(". N .");
        QTest::newRow("an error between two same verdicts")
            << QStringLiteral("C N:fw X N:fw") << QStringLiteral(". N . .");
        QTest::newRow("non-compliant at start-up")
            << QStringLiteral("N:fw N:fw") << QStringLiteral(". .");
        QTest::newRow("fixed after start-up, nothing to take back")
            << QStringLiteral("N:fw C") << QStringLiteral(". .");
        QTest::newRow("new failure after start-up")
            << QStringLiteral("N:fw N:fw,disk C") << QStringLiteral(". N C");
        QTest::newRow("compliant at start-up") << QStringLiteral("C C") << QStringLiteral(". .");
        QTest::newRow("revoked at start-up") << QStringLiteral("R R U") << QStringLiteral(". . .");
        QTest::newRow("revoked") << QStringLiteral("C R R U E C") << QStringLiteral(". R . . . C");
        QTest::newRow("not enrolled says nothing")
            << QStringLiteral("U E C") << QStringLiteral(". . .");
        QTest::newRow("vigild restarts") << QStringLiteral("C - S C") << QStringLiteral(". . . .");
        QTest::newRow("restart finds it non-compliant")
            << QStringLiteral("C - S N:fw") << QStringLiteral(". . . N");
        QTest::newRow("brief outage") << QStringLiteral("C O +299 C") << QStringLiteral(". . . .");
        QTest::newRow("offline past the grace")
            << QStringLiteral("C O +299 +1 O O +600 C") << QStringLiteral(". . . O . . . C");
        QTest::newRow("outage spans not running and offline")
            << QStringLiteral("C O +200 - +100 S") << QStringLiteral(". . . . O .");
        QTest::newRow("service down from start-up")
            << QStringLiteral("- +300 C") << QStringLiteral(". O C");
        QTest::newRow("starting for too long")
            << QStringLiteral("S +300 N:fw") << QStringLiteral(". O N");
        QTest::newRow("outage after start-up non-compliant")
            << QStringLiteral("N:fw O +300 N:fw") << QStringLiteral(". . O .");
        QTest::newRow("each outage once") << QStringLiteral("C O +300 N:fw O +300 +300 N:fw")
                                          << QStringLiteral(". . O N . O . .");
        QTest::newRow("late update after the grace")
            << QStringLiteral("C O ~400 O O") << QStringLiteral(". . . O .");
    }

    void transitions()
    {
        QFETCH(QString, script);
        QFETCH(QString, expected);
        QCOMPARE(run(script), expected);
    }

    // The timer the tray arms: at the end of the grace, once per outage, none otherwise.
    void notifyAt()
    {
        test::ManualClock clock(start);
        ui::NotificationPolicy policy(clock, {120s});
        QVERIFY(!policy.update(test::compliantStatus()));
        QCOMPARE(policy.notifyAt(), std::nullopt);
        clock.advance(10s);
        policy.update(statusFor(QStringLiteral("O")));
        QCOMPARE(policy.notifyAt(), start + 130s);
        clock.advance(60s);
        policy.update(std::nullopt); // the same outage: the timer does not move
        QCOMPARE(policy.notifyAt(), start + 130s);
        clock.advance(59s);
        QVERIFY(!policy.due());
        clock.advance(1s);
        const auto notification = policy.due();
        QVERIFY(notification);
        QCOMPARE(notification->summary, QStringLiteral("The Vigil service is not running"));
        QVERIFY(notification->body.contains(QLatin1String("for 2 minute")));
        QCOMPARE(policy.notifyAt(), std::nullopt);
        QVERIFY(!policy.due());
        policy.update(test::compliantStatus());
        QCOMPARE(policy.notifyAt(), std::nullopt);
    }

    // What a person reads: the fix for the check that broke, and urgency by consequence.
    void texts()
    {
        std::vector<DesktopNotification> shown;
        QCOMPARE(run(QStringLiteral("C N:fw N:fw,disk C O +300 R"), &shown),
                 QStringLiteral(". N N C . O R"));
        QCOMPARE(shown.size(), size_t(5));
        QCOMPARE(shown[0].body, QStringLiteral("Turn on fw"));
        QCOMPARE(shown[0].urgency, ui::NotificationUrgency::Critical);
        QCOMPARE(shown[1].body, QStringLiteral("Turn on disk"));
        QCOMPARE(shown[2].urgency, ui::NotificationUrgency::Low);
        QCOMPARE(shown[3].summary, QStringLiteral("Vigil cannot reach the verifier"));
        // No translation is loaded here, so the plural reads "minute(s)".
        QVERIFY(shown[3].body.startsWith(QLatin1String("No posture report for 5 minute")));
        QCOMPARE(shown[4].urgency, ui::NotificationUrgency::Critical);
        for (const auto &notification : shown) {
            QVERIFY(!notification.summary.isEmpty());
            QVERIFY(!notification.body.isEmpty());
        }
        QCOMPARE(ui::notificationIconState(Kind::Revoked), ui::TrayState::NotEnrolled);
    }

    // vigild's error is about the machine, not the checks of its last verdict.
    void errorNamesItsReason()
    {
        std::vector<DesktopNotification> shown;
        QCOMPARE(run(QStringLiteral("C X"), &shown), QStringLiteral(". N"));
        QCOMPARE(shown.at(0).body, QStringLiteral("the TPM is in lockout"));
    }

    // A remediation written for a page becomes one short line; without one, the summary.
    void longAndMissingRemediation()
    {
        test::ManualClock clock(start);
        ui::NotificationPolicy policy(clock);
        policy.update(test::compliantStatus());
        auto status = test::nonCompliantStatus();
        status.lastVerdict->failingChecks[0].remediation =
            "First line " + std::string(500, 'x') + "\nsecond line";
        auto notification = policy.update(status);
        QVERIFY(notification);
        QVERIFY(notification->body.size() <= 200);
        QVERIFY(!notification->body.contains(QLatin1Char('\n')));

        policy.update(test::compliantStatus());
        status.lastVerdict->failingChecks[0].remediation.clear();
        notification = policy.update(status);
        QVERIFY(notification);
        QCOMPARE(notification->body,
                 QStringLiteral("Inbound IPv4 and IPv6 traffic is not filtered"));
    }
};

QTEST_GUILESS_MAIN(TestNotificationPolicy)
#include "tst_notificationpolicy.moc"
