// SingleInstance across processes: the suite's own binary is also the other instance
// (--primary DIR, --secondary DIR COMMAND), so two trays meet as they would in a session.
#include "ui/desktop/singleinstance.h"

#include <QCoreApplication>
#include <QLocalSocket>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <cstdio>

using vigil::ui::SingleInstance;
using namespace std::chrono_literals;

namespace {

// The helper's modes: a primary that prints "primary" and then each command it is given, and a
// secondary whose exit code tells its role (0 secondary, 2 primary, 1 failed).
int runHelper(const QStringList &arguments)
{
    SingleInstance instance(arguments.value(1));
    if (arguments.value(0) == QLatin1String("--secondary")) {
        const auto role = instance.start(arguments.value(2), 5000ms);
        if (role == SingleInstance::Role::Failed)
            std::fprintf(stderr, "%s\n", qPrintable(instance.error()));
        return role == SingleInstance::Role::Secondary ? 0
               : role == SingleInstance::Role::Primary ? 2
                                                       : 1;
    }
    QObject::connect(&instance, &SingleInstance::activated, [](const QString &command) {
        std::printf("activated %s\n", qPrintable(command));
        std::fflush(stdout);
    });
    if (instance.start() != SingleInstance::Role::Primary)
        return 1;
    std::printf("primary\n");
    std::fflush(stdout);
    return QCoreApplication::exec();
}

QProcess *helper(QObject *parent, const QStringList &arguments)
{
    auto *process = new QProcess(parent);
    process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process->start(QCoreApplication::applicationFilePath(), arguments);
    return process;
}

bool readLineFrom(QProcess &process, QByteArray &line)
{
    QDeadlineTimer deadline(10000);
    while (!process.canReadLine() && !deadline.hasExpired())
        QTest::qWait(20);
    line = process.readLine().trimmed();
    return !line.isEmpty();
}

// Connects a raw client to the primary's socket.
std::unique_ptr<QLocalSocket> client(const SingleInstance &instance)
{
    auto socket = std::make_unique<QLocalSocket>();
    socket->connectToServer(instance.socketPath());
    return socket->waitForConnected(2000) ? std::move(socket) : nullptr;
}

} // namespace

class TestSingleInstance : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The tray in this process, a second launch in another: it hands over its command, exits 0,
    // and the socket is the user's alone.
    void secondLaunchActivatesTheFirst()
    {
        QTemporaryDir directory;
        SingleInstance instance(directory.path());
        QSignalSpy activated(&instance, &SingleInstance::activated);
        QCOMPARE(instance.start(), SingleInstance::Role::Primary);
        const auto permissions = QFileInfo(instance.socketPath()).permissions();
        QVERIFY(!(permissions &
                  (QFile::ReadGroup | QFile::WriteGroup | QFile::ReadOther | QFile::WriteOther)));

        QProcess *second = helper(
            this, {QStringLiteral("--secondary"), directory.path(), QStringLiteral("details")});
        QSignalSpy finished(second, &QProcess::finished);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QCOMPARE(second->exitCode(), 0);
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("details"));
    }

    // Both in processes of their own; then the first is killed, and its lock and socket are
    // taken over by the next tray.
    void twoProcessesAndAStaleLock()
    {
        QTemporaryDir directory;
        std::unique_ptr<QProcess> first(
            helper(nullptr, {QStringLiteral("--primary"), directory.path()}));
        QByteArray line;
        QVERIFY(readLineFrom(*first, line));
        QCOMPARE(line, QByteArray("primary"));

        std::unique_ptr<QProcess> second(helper(
            nullptr, {QStringLiteral("--secondary"), directory.path(), QStringLiteral("show")}));
        QVERIFY(second->waitForFinished(10000));
        QCOMPARE(second->exitCode(), 0);
        QVERIFY(readLineFrom(*first, line));
        QCOMPARE(line, QByteArray("activated show"));

        first->kill(); // no chance to remove its lock file or socket
        QVERIFY(first->waitForFinished());
        QVERIFY(QFile::exists(directory.filePath(QStringLiteral("vigil-tray.lock"))));
        SingleInstance next(directory.path());
        QCOMPARE(next.start(), SingleInstance::Role::Primary);
        auto socket = client(next);
        QVERIFY(socket);
    }

    // Floods, unknown commands, silence and crowds are dropped; the tray answers the next
    // proper request as if nothing had happened.
    void hostileClients()
    {
        QTemporaryDir directory;
        SingleInstance instance(directory.path(), {64, 1000ms, 2});
        QSignalSpy activated(&instance, &SingleInstance::activated);
        QCOMPARE(instance.start(), SingleInstance::Role::Primary);

        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("longer than 64")));
        auto flood = client(instance);
        QVERIFY(flood);
        flood->write(QByteArray(100000, 'x'));
        QTRY_COMPARE(flood->state(), QLocalSocket::UnconnectedState);

        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("unknown command \"quit\"")));
        auto unknown = client(instance);
        unknown->write("quit\n");
        QTRY_COMPARE(unknown->state(), QLocalSocket::UnconnectedState);
        QCOMPARE(unknown->readAll(), QByteArray());

        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("unknown command")));
        auto binary = client(instance);
        binary->write(QByteArray("\0\xff\x1b[2J\n", 7));
        QTRY_COMPARE(binary->state(), QLocalSocket::UnconnectedState);

        // Two silent clients fill the places; a third is refused; the deadline frees them.
        auto silent1 = client(instance);
        auto silent2 = client(instance);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("refused")));
        auto third = client(instance);
        QVERIFY(third);
        QTRY_COMPARE(third->state(), QLocalSocket::UnconnectedState);
        QTRY_COMPARE(silent1->state(), QLocalSocket::UnconnectedState);
        QTRY_COMPARE(silent2->state(), QLocalSocket::UnconnectedState);
        QCOMPARE(activated.size(), 0);

        auto proper = client(instance);
        QVERIFY(proper);
        proper->write("show\n");
        QTRY_VERIFY(proper->canReadLine());
        QCOMPARE(proper->readLine(), QByteArray("ok\n"));
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("show"));
    }

    // A tray that holds the lock but never answers: the second launch gives up in time.
    void unresponsiveFirstTimesOut()
    {
        QTemporaryDir directory;
        QLockFile held(directory.filePath(QStringLiteral("vigil-tray.lock")));
        QVERIFY(held.tryLock(0));
        SingleInstance instance(directory.path());
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(instance.start(QStringLiteral("show"), 300ms), SingleInstance::Role::Failed);
        QVERIFY(timer.elapsed() < 2000);
        QVERIFY(instance.error().contains(QLatin1String("does not answer")));
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList arguments = app.arguments().mid(1);
    if (arguments.value(0).startsWith(QLatin1String("--primary")) ||
        arguments.value(0) == QLatin1String("--secondary"))
        return runHelper(arguments);
    TestSingleInstance test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_singleinstance.moc"
