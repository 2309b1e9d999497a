// The real vigilctl's mfa commands and token --user against a scripted vigild: what each sends
// (secrets from standard input, checked before sending, never echoed on a terminal), what it
// prints and its exit status.
#include "programrun.h"
#include "protocol/ipc/response.h"
#include "scriptedvigild.h"

#include <QTemporaryDir>
#include <QtTest>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil;
using nlohmann::json;

namespace {

const QString vigilctlPath = QStringLiteral(VIGIL_BINARY_DIR "/app/vigilctl");

test::ProgramRun vigilctl(const QStringList &arguments, const QByteArray &input = {})
{
    test::ProgramOptions options;
    options.input = input;
    return test::runProgram(vigilctlPath, arguments, options);
}

// The scripted vigild's answer to each method (a queue each, the last one repeated), and the
// requests it saw.
class Answers
{
public:
    void add(const std::string &method, std::string line)
    {
        const std::lock_guard lock(m_mutex);
        m_byMethod[method].push_back(std::move(line));
    }

    test::Script script()
    {
        return [this](const json &request) {
            const std::lock_guard lock(m_mutex);
            m_requests.push_back(request);
            auto &queue = m_byMethod.at(request["method"].get<std::string>());
            std::string line = queue.front();
            if (queue.size() > 1)
                queue.erase(queue.begin());
            line.replace(line.find("\"ID\""), 4, request["id"].dump());
            return test::Reply{line};
        };
    }

    std::vector<json> requests()
    {
        const std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    std::mutex m_mutex;
    std::map<std::string, std::vector<std::string>> m_byMethod;
    std::vector<json> m_requests;
};

json aliceStatus(bool signedIn)
{
    json status = {{"enrolled", true},        {"user_id", "3f6c1e2a-9b4d-4c8e-a7f1-0d2b5e8c9a41"},
                   {"name", "alice"},         {"key_assurance", "tpm"},
                   {"pin_attempts_left", 31}, {"pin_locked_out_seconds", nullptr},
                   {"totp", "active"},        {"signed_in", signedIn}};
    if (signedIn) {
        status["auth_time"] = "2026-11-24T16:07:02Z";
        status["expires_at"] = "2026-11-25T00:07:02Z";
        status["amr"] = {"hwk", "pin", "mfa"};
        status["warn_before_seconds"] = 300;
    }
    return status;
}

const json recoveryCodes = {{"recovery_codes", {"K7QH-2MXA-VR5D", "P3ZT-W6NE-JC4B"}}};

} // namespace

class TestVigilctlMfa : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { QVERIFY(m_directory.isValid()); }

    void statusSaysWhereTheUserStands_data()
    {
        QTest::addColumn<QByteArray>("result");
        QTest::addColumn<int>("exit");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("not enrolled") << QByteArray::fromStdString(json{{"enrolled", false}}.dump())
                                      << 4 << QByteArray("No Vigil user for this account");
        QTest::newRow("signed out") << QByteArray::fromStdString(aliceStatus(false).dump()) << 8
                                    << QByteArray("Signed in:  no (`vigilctl mfa sign-in`)");
        QTest::newRow("signed in")
            << QByteArray::fromStdString(aliceStatus(true).dump()) << 0
            << QByteArray("Signed in:  since 2026-11-24T16:07:02Z until 2026-11-25T00:07:02Z "
                          "(hwk pin mfa)");
    }

    void statusSaysWhereTheUserStands()
    {
        QFETCH(QByteArray, result);
        QFETCH(int, exit);
        QFETCH(QByteArray, text);
        Answers answers;
        answers.add("mfa_status", test::responseLine("ID", json::parse(result.toStdString())));
        const QString socket = m_directory.filePath(QStringLiteral("status.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl({u"mfa"_qs, u"status"_qs, u"--socket"_qs, socket});
        QCOMPARE(run.exitCode, exit);
        QVERIFY2(run.out.contains(text), run.out.constData());
        const auto asJson =
            vigilctl({u"mfa"_qs, u"status"_qs, u"--json"_qs, u"--socket"_qs, socket});
        QCOMPARE(asJson.exitCode, exit);
        QCOMPARE(json::parse(asJson.out.toStdString()), json::parse(result.toStdString()));
    }

    // What each command sends, its secrets read a line each from standard input.
    void eachCommandSendsWhatItRead_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("requests"); // [method, params] of each, as JSON
        QTest::addColumn<QByteArray>("printed");
        const auto row = [](const char *name, QStringList arguments, const char *input,
                            const json &requests, const char *printed) {
            QTest::newRow(name) << arguments << QByteArray(input)
                                << QByteArray::fromStdString(requests.dump())
                                << QByteArray(printed);
        };
        row("enroll", {u"mfa"_qs, u"enroll"_qs}, "vgl_inv_Q7mX\n271828\n",
            json::array({{"mfa_enroll", {{"invite_code", "vgl_inv_Q7mX"}, {"pin", "271828"}}}}),
            "User:       alice");
        row("sign-in", {u"mfa"_qs, u"sign-in"_qs}, "271828\r\n",
            json::array({{"sign_in", {{"pin", "271828"}}}}), "Signed in:  since");
        row("sign-in with otp", {u"mfa"_qs, u"sign-in"_qs, u"--otp"_qs}, "271828\n492039\n",
            json::array({{"sign_in", {{"pin", "271828"}, {"otp", "492039"}}}}),
            "Signed in:  since");
        row("sign-in otp only", {u"mfa"_qs, u"sign-in"_qs, u"--no-pin"_qs}, "492039",
            json::array({{"sign_in", {{"otp", "492039"}}}}), "Signed in:  since");
        row("sign-out", {u"mfa"_qs, u"sign-out"_qs}, "",
            json::array({{"sign_out", json::object()}}), "Signed out.");
        row("pin change", {u"mfa"_qs, u"pin"_qs, u"change"_qs}, "271828\n161803\n",
            json::array({{"mfa_pin_change", {{"pin", "271828"}, {"new_pin", "161803"}}}}),
            "PIN changed.");
        row("pin reset", {u"mfa"_qs, u"pin"_qs, u"reset"_qs}, "k7qh 2mxa-vr5d\n577215\n",
            json::array(
                {{"mfa_pin_reset", {{"recovery_code", "K7QH-2MXA-VR5D"}, {"new_pin", "577215"}}}}),
            "User:       alice");
        row("recovery codes", {u"mfa"_qs, u"recovery-codes"_qs}, "271828\n",
            json::array({{"mfa_recovery_codes", {{"pin", "271828"}}}}), "  P3ZT-W6NE-JC4B\n");
        row("totp", {u"mfa"_qs, u"totp"_qs}, "271828\n492039\n",
            json::array({{"mfa_totp_begin", {{"pin", "271828"}}},
                         {"mfa_totp_activate", {{"pin", "271828"}, {"code", "492039"}}}}),
            "otpauth://totp/Vigil:alice?secret=JBSWY3DPEHPK3PXP");
    }

    void eachCommandSendsWhatItRead()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, requests);
        QFETCH(QByteArray, printed);
        Answers answers;
        answers.add("mfa_enroll", test::responseLine("ID", aliceStatus(false)));
        answers.add("mfa_pin_reset", test::responseLine("ID", aliceStatus(false)));
        answers.add("sign_in", test::responseLine("ID", aliceStatus(true)));
        answers.add("sign_out", test::responseLine("ID", json::object()));
        answers.add("mfa_pin_change", test::responseLine("ID", json::object()));
        answers.add("mfa_recovery_codes", test::responseLine("ID", recoveryCodes));
        answers.add("mfa_totp_activate", test::responseLine("ID", recoveryCodes));
        answers.add("mfa_totp_begin",
                    test::responseLine("ID", {{"otpauth_uri", "otpauth://totp/Vigil:alice?secret="
                                                              "JBSWY3DPEHPK3PXP&issuer=Vigil"},
                                              {"expires_at", "2026-11-24T16:21:10Z"}}));
        const QString socket = m_directory.filePath(QStringLiteral("commands.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl(arguments + QStringList{u"--socket"_qs, socket}, input);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.out.contains(printed), run.out.constData());
        json sent = json::array();
        for (const json &request : answers.requests())
            sent.push_back({request.at("method"), request.at("params")});
        QCOMPARE(sent, json::parse(requests.toStdString()));
        // Nothing vigilctl writes repeats a PIN (no prompt either: the input is no terminal).
        QVERIFY2(!run.err.contains("271828") && !run.out.contains("271828"), run.err.constData());
        QVERIFY(run.err.isEmpty());
    }

    // A typo is told before vigild is asked; the message never repeats what was typed.
    void badSecretsAreRefusedBeforeVigildIsAsked_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("short pin") << QStringList{u"mfa"_qs, u"sign-in"_qs} << QByteArray("12345\n")
                                   << QByteArray("a PIN is 6 to 32 bytes of UTF-8");
        QTest::newRow("no pin") << QStringList{u"mfa"_qs, u"sign-in"_qs} << QByteArray()
                                << QByteArray("no PIN on standard input");
        QTest::newRow("code of 5")
            << QStringList{u"mfa"_qs, u"sign-in"_qs, u"--no-pin"_qs} << QByteArray("12345\n")
            << QByteArray("a TOTP code is 6 digits");
        QTest::newRow("recovery code")
            << QStringList{u"mfa"_qs, u"pin"_qs, u"reset"_qs} << QByteArray("K7QH-2MXA-VR51\n")
            << QByteArray("a recovery code is 12 characters A-Z and 2-7");
        QTest::newRow("new pin short")
            << QStringList{u"mfa"_qs, u"pin"_qs, u"change"_qs} << QByteArray("271828\n12345\n")
            << QByteArray("a PIN is 6 to 32 bytes of UTF-8");
    }

    void badSecretsAreRefusedBeforeVigildIsAsked()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, message);
        Answers answers;
        const QString socket = m_directory.filePath(QStringLiteral("bad.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl(arguments + QStringList{u"--socket"_qs, socket}, input);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(message), run.err.constData());
        QVERIFY(!run.err.contains("12345"));
        QVERIFY(answers.requests().empty());
    }

    void refusalsHaveTheirExitStatus_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<int>("exit");
        QTest::addColumn<QByteArray>("hint");
        using protocol::ipc::ErrorCode;
        const QStringList signIn{u"mfa"_qs, u"sign-in"_qs};
        QTest::newRow("wrong pin") << signIn << int(ErrorCode::WrongPin) << 7 << QByteArray();
        QTest::newRow("pin locked") << signIn << int(ErrorCode::PinLocked) << 7 << QByteArray();
        QTest::newRow("invalid code") << signIn << int(ErrorCode::InvalidCode) << 7 << QByteArray();
        QTest::newRow("no user") << signIn << int(ErrorCode::NotEnrolledUser) << 4
                                 << QByteArray("vigilctl mfa enroll");
        QTest::newRow("refused") << signIn << int(ErrorCode::Refused) << 1 << QByteArray();
        QTest::newRow("device not enrolled")
            << signIn << int(ErrorCode::NotEnrolled) << 4 << QByteArray("vigilctl enroll");
        QTest::newRow("user token not signed in")
            << QStringList{u"token"_qs, u"--user"_qs} << int(ErrorCode::AuthenticationRequired) << 8
            << QByteArray("vigilctl mfa sign-in");
    }

    void refusalsHaveTheirExitStatus()
    {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(int, exit);
        QFETCH(QByteArray, hint);
        Answers answers;
        const auto line =
            test::errorLine("ID", static_cast<protocol::ipc::ErrorCode>(code), "vigild says no");
        answers.add("sign_in", line);
        answers.add("user_token", line);
        const QString socket = m_directory.filePath(QStringLiteral("refused.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl(arguments + QStringList{u"--socket"_qs, socket}, "271828\n");
        QCOMPARE(run.exitCode, exit);
        QVERIFY(run.out.isEmpty());
        QVERIFY2(run.err.startsWith("vigilctl: vigild: vigild says no ("), run.err.constData());
        QVERIFY2(run.err.contains(hint), run.err.constData());
    }

    void userTokenThroughVigild()
    {
        Answers answers;
        const json token = {{"access_token", "eyJ.user.sig"},
                            {"token_type", "DPoP"},
                            {"expires_in", 300},
                            {"auth_time", "2026-11-24T16:07:02Z"},
                            {"amr", {"hwk", "pin", "mfa"}}};
        answers.add("user_token", test::responseLine("ID", token));
        const QString socket = m_directory.filePath(QStringLiteral("usertoken.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl({u"token"_qs, u"--user"_qs, u"--socket"_qs, socket});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, "eyJ.user.sig\n");
        QCOMPARE(answers.requests().at(0).at("method"), "user_token");
        const auto asJson =
            vigilctl({u"token"_qs, u"--user"_qs, u"--json"_qs, u"--socket"_qs, socket});
        QCOMPARE(json::parse(asJson.out.toStdString()), token);
    }

    // On a terminal the PIN is asked for and typed with its echo off: what the terminal shows
    // holds the prompts, never the PIN.
    void onATerminalThePinIsNotEchoed()
    {
        Answers answers;
        answers.add("sign_in", test::responseLine("ID", aliceStatus(true)));
        const QString socket = m_directory.filePath(QStringLiteral("tty.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const QByteArray program = vigilctlPath.toLocal8Bit();
        const QByteArray socketPath = socket.toLocal8Bit();
        int terminal = -1;
        const pid_t child = ::forkpty(&terminal, nullptr, nullptr, nullptr);
        QVERIFY(child >= 0);
        if (child == 0) {
            ::execl(program.constData(), program.constData(), "mfa", "sign-in", "--socket",
                    socketPath.constData(), static_cast<char *>(nullptr));
            ::_exit(127);
        }
        QByteArray shown;
        const auto readFor = [&](const QByteArray &until) {
            return QTest::qWaitFor(
                [&] {
                    pollfd fd{terminal, POLLIN, 0};
                    char buffer[4096];
                    while (::poll(&fd, 1, 0) > 0) {
                        const ssize_t n = ::read(terminal, buffer, sizeof buffer);
                        if (n <= 0)
                            return true;
                        shown.append(buffer, n);
                    }
                    return shown.contains(until);
                },
                10000);
        };
        QVERIFY2(readFor("PIN: "), shown.constData());
        // Echo goes off just after the prompt: typing too early could still be echoed.
        QTest::qWait(200);
        const char typed[] = "271828\n";
        QCOMPARE(::write(terminal, typed, sizeof typed - 1), ssize_t(sizeof typed - 1));
        QVERIFY2(readFor("Signed in:  since"), shown.constData());
        int status = 0;
        QVERIFY(
            QTest::qWaitFor([&] { return ::waitpid(child, &status, WNOHANG) == child; }, 10000));
        ::close(terminal);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        QVERIFY2(!shown.contains("271828"), shown.constData());
        QCOMPARE(answers.requests().at(0).at("params"), (json{{"pin", "271828"}}));
    }

private:
    QTemporaryDir m_directory;
};

QTEST_GUILESS_MAIN(TestVigilctlMfa)
#include "tst_vigilctlmfa.moc"
