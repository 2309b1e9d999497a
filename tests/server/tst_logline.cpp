#include "server/logline.h"

#include <QProcess>
#include <QTest>

using namespace vigil::server;
using namespace std::chrono;

class TestLogLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatsUtcWithMilliseconds()
    {
        // 2026-11-25T05:30:12.345Z
        const system_clock::time_point time{seconds(1795584612) + milliseconds(345)};
        QCOMPARE(formatLogLine(time, QtInfoMsg, "vigil.verifier.serve",
                               QStringLiteral("127.0.0.1 GET /v1/health 200 0.1 ms")),
                 std::string("2026-11-25T05:30:12.345Z info vigil.verifier.serve: 127.0.0.1 GET "
                             "/v1/health 200 0.1 ms\n"));
    }

    void namesEveryType()
    {
        const system_clock::time_point epoch{};
        QCOMPARE(formatLogLine(epoch, QtDebugMsg, "c", QStringLiteral("m")),
                 std::string("1970-01-01T00:00:00.000Z debug c: m\n"));
        QCOMPARE(formatLogLine(epoch, QtWarningMsg, "c", QStringLiteral("m")),
                 std::string("1970-01-01T00:00:00.000Z warning c: m\n"));
        QCOMPARE(formatLogLine(epoch, QtCriticalMsg, "c", QStringLiteral("m")),
                 std::string("1970-01-01T00:00:00.000Z critical c: m\n"));
        QCOMPARE(formatLogLine(epoch, QtFatalMsg, "c", QStringLiteral("m")),
                 std::string("1970-01-01T00:00:00.000Z fatal c: m\n"));
    }

    // A percent-decoded request path must not forge a second line.
    void escapesControlCharacters()
    {
        const system_clock::time_point epoch{};
        QCOMPARE(formatLogLine(
                     epoch, QtInfoMsg, "c",
                     QStringLiteral("GET /x\n1970-01-01T00:00:00.000Z info c: forged\r\t\x7f")),
                 std::string("1970-01-01T00:00:00.000Z info c: GET /x\\x0a1970-01-01T00:00:00.000Z "
                             "info c: forged\\x0d\\x09\\x7f\n"));
        QCOMPARE(formatLogLine(epoch, QtInfoMsg, "c", QString::fromUtf8("caf\xc3\xa9")),
                 std::string("1970-01-01T00:00:00.000Z info c: caf\xc3\xa9\n"));
    }

    // The handler writes the formatted line to stderr: checked in a child process, whose stderr
    // the test can read.
    void handlerWritesOneLinePerMessage()
    {
        if (qEnvironmentVariableIsSet("VIGIL_LOGLINE_CHILD")) {
            installLogHandler();
            qInfo("first %s", "message");
            qWarning("second\nmessage");
            std::exit(0);
        }
        QProcess child;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("VIGIL_LOGLINE_CHILD"), QStringLiteral("1"));
        child.setProcessEnvironment(environment);
        child.start(QCoreApplication::applicationFilePath(),
                    {QStringLiteral("handlerWritesOneLinePerMessage")});
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitCode(), 0);
        const QList<QByteArray> lines = child.readAllStandardError().split('\n');
        QCOMPARE(lines.size(), 3); // two lines and what follows the last newline
        const QRegularExpression stamp(
            QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )"));
        QVERIFY2(stamp.match(QString::fromUtf8(lines[0])).hasMatch(), lines[0].constData());
        QVERIFY(lines[0].endsWith(" info default: first message"));
        QVERIFY(lines[1].endsWith(" warning default: second\\x0amessage"));
        QCOMPARE(lines[2], QByteArray());
    }
};

QTEST_GUILESS_MAIN(TestLogLine)
#include "tst_logline.moc"
