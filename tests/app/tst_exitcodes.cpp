// vigilctl's exit statuses: what each IPC error, each state and each failed call comes to.
#include "app/commands/exitcodes.h"
#include "app/commands/vigildcall.h"
#include "scriptedvigild.h"

#include <QtTest>
#include <sstream>

using namespace vigil;
using ipcclient::CallError;
using protocol::ipc::AgentState;
using protocol::ipc::ErrorCode;

Q_DECLARE_METATYPE(vigil::protocol::ipc::ErrorCode)
Q_DECLARE_METATYPE(vigil::protocol::ipc::AgentState)
Q_DECLARE_METATYPE(vigil::ipcclient::CallError::Kind)

class TestExitCodes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void documentedValues()
    {
        // Scripts rely on these numbers: README.md and vigilctl --help list them.
        QCOMPARE(app::exitOk, 0);
        QCOMPARE(app::exitFailure, 1);
        QCOMPARE(app::exitUsage, 2);
        QCOMPARE(app::exitNonCompliant, 3);
        QCOMPARE(app::exitNotEnrolled, 4);
        QCOMPARE(app::exitServiceUnreachable, 5);
        QCOMPARE(app::exitPermissionDenied, 6);
        QCOMPARE(app::exitCredentialRefused, 7);
        QCOMPARE(app::exitNotSignedIn, 8);
        const QString help = app::exitCodesHelp();
        for (const char *text : {"0 on success", "1 if the command failed", "2 on a usage",
                                 "3 when the verdict", "4 when the device", "5 when", "6 when",
                                 "7 when a PIN or code", "8 when the user"})
            QVERIFY2(help.simplified().contains(QString::fromUtf8(text)), text);
    }

    void errorCodes_data()
    {
        QTest::addColumn<ErrorCode>("code");
        QTest::addColumn<int>("exit");
        QTest::newRow("not_enrolled") << ErrorCode::NotEnrolled << 4;
        QTest::newRow("permission_denied") << ErrorCode::PermissionDenied << 6;
        QTest::newRow("not_enrolled_user") << ErrorCode::NotEnrolledUser << 4;
        QTest::newRow("wrong_pin") << ErrorCode::WrongPin << 7;
        QTest::newRow("pin_locked") << ErrorCode::PinLocked << 7;
        QTest::newRow("invalid_code") << ErrorCode::InvalidCode << 7;
        QTest::newRow("authentication_required") << ErrorCode::AuthenticationRequired << 8;
        QTest::newRow("refused") << ErrorCode::Refused << 1;
        for (const auto code :
             {ErrorCode::MalformedRequest, ErrorCode::UnsupportedVersion, ErrorCode::UnknownMethod,
              ErrorCode::InvalidParams, ErrorCode::RequestTooLarge, ErrorCode::Busy,
              ErrorCode::Unavailable, ErrorCode::Internal})
            QTest::newRow(std::string(protocol::ipc::errorCodeName(code)).c_str()) << code << 1;
    }

    void errorCodes()
    {
        QFETCH(ErrorCode, code);
        QFETCH(int, exit);
        QCOMPARE(app::exitCodeFor(code), exit);
        const CallError error(CallError::Kind::ErrorResponse, "refused",
                              protocol::ipc::Error{code, "refused", ""});
        QCOMPARE(app::commands::exitCodeFor(error), exit);
    }

    void states_data()
    {
        QTest::addColumn<AgentState>("state");
        QTest::addColumn<int>("exit");
        QTest::newRow("compliant") << AgentState::Compliant << 0;
        QTest::newRow("non_compliant") << AgentState::NonCompliant << 3;
        QTest::newRow("not_enrolled") << AgentState::NotEnrolled << 4;
        for (const auto state : {AgentState::Starting, AgentState::Enrolling, AgentState::Offline,
                                 AgentState::Revoked, AgentState::Error})
            QTest::newRow(std::string(protocol::ipc::agentStateName(state)).c_str()) << state << 1;
    }

    void states()
    {
        QFETCH(AgentState, state);
        QFETCH(int, exit);
        auto status = test::compliantStatus();
        status.state = state;
        QCOMPARE(app::exitCodeFor(status), exit);
    }

    void failedCalls_data()
    {
        QTest::addColumn<CallError::Kind>("kind");
        QTest::addColumn<int>("exit");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("unreachable")
            << CallError::Kind::Unreachable << 5
            << QByteArray("vigilctl: vigild is not running or not reachable at /run/x.sock\n"
                          "vigilctl: start it with: systemctl start vigild\n");
        QTest::newRow("access denied")
            << CallError::Kind::AccessDenied << 6 << QByteArray("vigilctl: what happened\n");
        QTest::newRow("lost") << CallError::Kind::ConnectionLost << 1
                              << QByteArray("vigilctl: what happened\n");
        QTest::newRow("timeout") << CallError::Kind::Timeout << 1
                                 << QByteArray("vigilctl: what happened\n");
        QTest::newRow("protocol") << CallError::Kind::ProtocolViolation << 1
                                  << QByteArray("vigilctl: what happened\n");
    }

    void failedCalls()
    {
        QFETCH(CallError::Kind, kind);
        QFETCH(int, exit);
        QFETCH(QByteArray, message);
        std::ostringstream err;
        QCOMPARE(
            app::commands::reportCallError(CallError(kind, "what happened"), "/run/x.sock", err),
            exit);
        QCOMPARE(QByteArray::fromStdString(err.str()), message);
    }

    void errorResponsesSayWhatToDo()
    {
        std::ostringstream err;
        const CallError error(CallError::Kind::ErrorResponse,
                              "token is for root and the group vigil",
                              protocol::ipc::Error{ErrorCode::PermissionDenied,
                                                   "token is for root and the group vigil", ""});
        QCOMPARE(app::commands::reportCallError(error, "/run/x.sock", err), 6);
        QCOMPARE(err.str(), "vigilctl: vigild: token is for root and the group vigil "
                            "(permission_denied)\n"
                            "vigilctl: run it as root or as a member of vigild's group\n");
    }
};

QTEST_GUILESS_MAIN(TestExitCodes)
#include "tst_exitcodes.moc"
