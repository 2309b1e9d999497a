#include "protocol/ipc/request.h"
#include "testprinters.h"

#include <QTest>
#include <string>

using namespace vigil::protocol::ipc;
using nlohmann::json;

// Plain string literals throughout: moc misreads a raw string that holds a lone quote.

namespace {

// The fault of a line that is not a request, as the server answers it:
// "<code> <field>: <message> (id <id>)".
QByteArray refusal(const QByteArray &line)
{
    try {
        const Request request = parseRequest(line.toStdString());
        return "accepted " + QByteArray::fromStdString(request.toJson().dump());
    } catch (const RequestError &e) {
        const std::string id = e.id() ? idToJson(*e.id()).dump() : "null";
        return QByteArray::fromStdString(std::string(errorCodeName(e.error().code)) + ' ' +
                                         e.error().field + ": " + e.error().message + " (id " + id +
                                         ')');
    }
}

QByteArray line(const json &request)
{
    return QByteArray::fromStdString(request.dump());
}

json dpop(json params)
{
    return {{"v", 1}, {"id", 7}, {"method", "dpop"}, {"params", std::move(params)}};
}

json enroll(json params)
{
    return {{"v", 1}, {"id", 7}, {"method", "enroll"}, {"params", std::move(params)}};
}

const json dpopParams = {{"method", "GET"}, {"url", "https://verifier.example.com/v1/whoami"}};

// What vigil-tray sends: the screen-lock collector's CheckResult JSON.
const json failingScreenLock = {
    {"status", "fail"},
    {"summary", "GNOME does not lock the screen when idle"},
    {"remediation", "Settings → Privacy → Screen Lock: turn on Automatic Screen Lock."},
    {"details", {{"desktop", "GNOME"}, {"lock_enabled", false}}},
    {"duration_ms", 12}};

json sessionPosture(json params)
{
    return {{"v", 1}, {"id", 7}, {"method", "session_posture"}, {"params", std::move(params)}};
}

// A session_posture request whose screen_lock is check with member `name` set to value (or
// removed, for a null json).
json screenLockWith(const char *name, json value)
{
    json check = failingScreenLock;
    if (value.is_null())
        check.erase(name);
    else
        check[name] = std::move(value);
    return sessionPosture({{"checks", {{"screen_lock", check}}}});
}

} // namespace

class TestIpcRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Every method, written and read back: the same request, and the same line.
    void roundTrips_data()
    {
        QTest::addColumn<QByteArray>("text");
        for (const char *method : {"status", "posture", "subscribe", "report", "token"})
            QTest::newRow(method) << line(
                {{"v", 1}, {"id", 1}, {"method", method}, {"params", json::object()}});
        QTest::newRow("string id")
            << QByteArray("{\"id\":\"tray-1\",\"method\":\"status\",\"params\":{},\"v\":1}");
        QTest::newRow("negative id")
            << QByteArray("{\"id\":-9007199254740991,\"method\":\"status\",\"params\":{},\"v\":1}");
        QTest::newRow("dpop") << line(dpop(dpopParams));
        QTest::newRow("dpop with access token") << line(dpop({{"method", "POST"},
                                                              {"url", "https://rp.example/api?x=1"},
                                                              {"access_token", "eyJ.a.b"}}));
        QTest::newRow("enroll") << line(enroll({{"token", "ENROLL-7Q2X-9KPL"}}));
        QTest::newRow("session_posture")
            << line(sessionPosture({{"checks", {{"screen_lock", failingScreenLock}}}}));
        QTest::newRow("session_posture unknown")
            << line(sessionPosture({{"checks",
                                     {{"screen_lock",
                                       {{"status", "unknown"},
                                        {"summary", "Could not be determined: gsettings failed"},
                                        {"reason", "gsettings failed"},
                                        {"details", json::object()},
                                        {"duration_ms", 0}}}}}}));
    }

    void roundTrips()
    {
        QFETCH(QByteArray, text);
        const Request request = parseRequest(text.toStdString());
        QCOMPARE(request.toJson(), json::parse(text.toStdString()));
        QCOMPARE(QByteArray::fromStdString(request.toJson().dump()), text);
        QCOMPARE(parseRequest(request.toJson().dump()).toJson(), request.toJson());
    }

    void readsTheParams()
    {
        const Request request = parseRequest(
            dpop({{"method", "POST"}, {"url", "https://rp.example/x"}, {"access_token", "t"}})
                .dump());
        QCOMPARE(request.method, Method::Dpop);
        QCOMPARE(std::get<std::int64_t>(request.id), std::int64_t(7));
        const auto &params = std::get<DpopParams>(request.params);
        QCOMPARE(params.method, std::string("POST"));
        QCOMPARE(params.url, std::string("https://rp.example/x"));
        QCOMPARE(*params.accessToken, std::string("t"));
        QCOMPARE(
            std::get<EnrollParams>(parseRequest(enroll({{"token", "abc"}}).dump()).params).token,
            std::string("abc"));
        const Request session =
            parseRequest(sessionPosture({{"checks", {{"screen_lock", failingScreenLock}}}}).dump());
        QCOMPARE(session.method, Method::SessionPosture);
        QCOMPARE(std::get<SessionPostureParams>(session.params).screenLock, failingScreenLock);
    }

    // "params" may be left out by a method that takes none; it is then written as {}.
    void paramsMayBeOmittedWhereNoneAreTaken()
    {
        const Request request = parseRequest("{\"v\":1,\"id\":\"a\",\"method\":\"status\"}");
        QCOMPARE(request.method, Method::Status);
        QVERIFY(std::holds_alternative<std::monostate>(request.params));
        QCOMPARE(request.toJson()["params"], json::object());
        QCOMPARE(std::get<std::string>(request.id), std::string("a"));
    }

    void onlyPrivilegedMethodsArePrivileged()
    {
        // session_posture too: every user files their own session's result; and report, which
        // vigild limits for callers outside the group instead.
        for (const auto method : {Method::Status, Method::Posture, Method::Subscribe,
                                  Method::SessionPosture, Method::Report})
            QVERIFY(!isPrivileged(method));
        for (const auto method : {Method::Token, Method::Dpop, Method::Enroll})
            QVERIFY(isPrivileged(method));
        for (const auto method :
             {Method::Status, Method::Posture, Method::Subscribe, Method::Report, Method::Token,
              Method::Dpop, Method::Enroll, Method::SessionPosture})
            QCOMPARE(methodFromName(methodName(method)), method);
    }

    // Each fault gets its code and the pointer of the member at fault; once the id could be
    // read, the answer carries it.
    void refusesEachFault_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray status = "\"method\":\"status\"";

        // Not one JSON object.
        QTest::newRow("truncated")
            << QByteArray("{\"v\":1,\"id\":1,")
            << QByteArray("malformed_request : not valid UTF-8 JSON (id null)");
        QTest::newRow("empty line")
            << QByteArray("") << QByteArray("malformed_request : not valid UTF-8 JSON (id null)");
        QTest::newRow("NUL byte") << QByteArray("{\"v\":1,\"id\":1,\"method\":\"status\"}\0", 33)
                                  << QByteArray(
                                         "malformed_request : the line holds a NUL byte (id null)");
        QTest::newRow("invalid UTF-8")
            << QByteArray("{\"v\":1,\"id\":1,\"method\":\"st\xff\"}")
            << QByteArray("malformed_request /method: not valid UTF-8 JSON (id null)");
        QTest::newRow("overlong UTF-8")
            << QByteArray("{\"v\":1,\"id\":1,\"method\":\"\xc0\xaf\"}")
            << QByteArray("malformed_request /method: not valid UTF-8 JSON (id null)");
        QTest::newRow("duplicate member")
            << QByteArray("{\"v\":1,\"id\":7,\"method\":\"dpop\",\"params\":{\"method\":\"GET\","
                          "\"url\":\"https://a.example/\",\"url\":\"https://b.example/\"}}")
            << QByteArray("malformed_request /params/url: member given more than once (id null)");
        QTest::newRow("duplicate id")
            << QByteArray("{\"v\":1,\"id\":1,\"id\":2," + status + "}")
            << QByteArray("malformed_request /id: member given more than once (id null)");
        QTest::newRow("too deep") << QByteArray("{\"v\":1,\"id\":1," + status + ",\"params\":" +
                                                QByteArray(40, '[') + QByteArray(40, ']') + "}")
                                  << "malformed_request /params" + QByteArray("/0").repeated(31) +
                                         ": nests deeper than 32 levels (id null)";
        QTest::newRow("array") << QByteArray("[1]")
                               << QByteArray("malformed_request : must be a JSON object (id null)");
        QTest::newRow("trailing text")
            << QByteArray("{\"v\":1,\"id\":1," + status + "} {}")
            << QByteArray("malformed_request : not valid UTF-8 JSON (id null)");

        // The id.
        QTest::newRow("no id") << QByteArray("{\"v\":1," + status + "}")
                               << QByteArray("malformed_request /id: missing (id null)");
        const QByteArray badId = "malformed_request /id: must be an integer from "
                                 "-9007199254740991 to 9007199254740991 or a string of 1 to 256 "
                                 "bytes (id null)";
        for (const char *id : {"true", "null", "1.5", "\"\"", "9007199254740992", "{}"})
            QTest::newRow((std::string("id ") + id).c_str())
                << QByteArray("{\"v\":1,\"id\":" + QByteArray(id) + "," + status + "}") << badId;
        QTest::newRow("id too long")
            << QByteArray("{\"v\":1,\"id\":\"" + QByteArray(257, 'i') + "\"," + status + "}")
            << badId;

        // The version, before anything else but the id.
        QTest::newRow("no version")
            << QByteArray("{\"id\":3," + status + "}")
            << QByteArray("unsupported_version /v: missing; this implementation supports "
                          "version 1 (id 3)");
        QTest::newRow("version 2")
            << QByteArray("{\"v\":2,\"id\":3,\"method\":\"whatever\",\"x\":1}")
            << QByteArray("unsupported_version /v: unsupported version 2; this implementation "
                          "supports version 1 (id 3)");
        for (const char *version : {"\"1\"", "1.0", "true"})
            QTest::newRow((std::string("version ") + version).c_str())
                << QByteArray("{\"v\":" + QByteArray(version) + ",\"id\":\"x\"," + status + "}")
                << QByteArray("unsupported_version /v: must be the integer 1; this "
                              "implementation supports version 1 (id \"x\")");
        QTest::newRow("version 2 without an id")
            << QByteArray("{\"v\":2," + status + "}")
            << QByteArray("unsupported_version /v: unsupported version 2; this implementation "
                          "supports version 1 (id null)");

        // The envelope.
        QTest::newRow("unknown member")
            << QByteArray("{\"v\":1,\"id\":3," + status + ",\"jsonrpc\":\"2.0\"}")
            << QByteArray("malformed_request /jsonrpc: unknown member (expected one of: id, "
                          "method, params, v) (id 3)");
        QTest::newRow("no method") << QByteArray("{\"v\":1,\"id\":3}")
                                   << QByteArray("malformed_request /method: missing (id 3)");
        QTest::newRow("method not a string")
            << QByteArray("{\"v\":1,\"id\":3,\"method\":[\"status\"]}")
            << QByteArray("malformed_request /method: must be a string (id 3)");
        const QByteArray expected =
            " (expected one of: status, posture, subscribe, report, token, dpop, enroll, "
            "session_posture, mfa_status, mfa_enroll, mfa_pin_change, mfa_pin_reset, "
            "mfa_totp_begin, mfa_totp_activate, mfa_recovery_codes, sign_in, sign_out, "
            "user_token) (id 3)";
        QTest::newRow("unknown method")
            << QByteArray("{\"v\":1,\"id\":3,\"method\":\"reboot\"}")
            << "unknown_method /method: unknown method \"reboot\"" + expected;
        QTest::newRow("method in capitals")
            << QByteArray("{\"v\":1,\"id\":3,\"method\":\"STATUS\"}")
            << "unknown_method /method: unknown method \"STATUS\"" + expected;

        // The params.
        QTest::newRow("params not an object")
            << QByteArray("{\"v\":1,\"id\":3," + status + ",\"params\":[]}")
            << QByteArray("invalid_params /params: must be a JSON object (id 3)");
        QTest::newRow("params null")
            << QByteArray("{\"v\":1,\"id\":3," + status + ",\"params\":null}")
            << QByteArray("invalid_params /params: must be a JSON object (id 3)");
        QTest::newRow("params for status")
            << QByteArray("{\"v\":1,\"id\":3," + status + ",\"params\":{\"verbose\":true}}")
            << QByteArray("invalid_params /params/verbose: unknown member (status takes no params) "
                          "(id 3)");
        QTest::newRow("dpop without params")
            << QByteArray("{\"v\":1,\"id\":7,\"method\":\"dpop\"}")
            << QByteArray("invalid_params /params: missing (id 7)");
        QTest::newRow("dpop without url")
            << line(dpop({{"method", "GET"}}))
            << QByteArray("invalid_params /params/url: missing (id 7)");
        QTest::newRow("dpop url not a string")
            << line(dpop({{"method", "GET"}, {"url", 443}}))
            << QByteArray("invalid_params /params/url: must be a string (id 7)");
        const QByteArray badUrl =
            "invalid_params /params/url: must be an absolute https URL with a host (id 7)";
        for (const char *url : {"http://rp.example/", "/v1/whoami", "https://", "https:///x",
                                "https://user@rp.example/", "ftp://rp.example/"})
            QTest::newRow((std::string("url ") + url).c_str())
                << line(dpop({{"method", "GET"}, {"url", url}})) << badUrl;
        QTest::newRow("url too long")
            << line(dpop({{"method", "GET"}, {"url", "https://a/" + std::string(4096, 'x')}}))
            << QByteArray("invalid_params /params/url: longer than 4096 bytes (id 7)");
        const QByteArray badMethod = "invalid_params /params/method: must be an HTTP method token "
                                     "such as \"GET\" (id 7)";
        const std::pair<const char *, const char *> badMethods[] = {{"space", "GE T"},
                                                                    {"CRLF", "GET\r\n"},
                                                                    {"non-ASCII", "G\xc3\xa9T"},
                                                                    {"parentheses", "(GET)"}};
        for (const auto &[name, method] : badMethods)
            QTest::newRow((std::string("http method with ") + name).c_str())
                << line(dpop({{"method", method}, {"url", "https://rp.example/"}})) << badMethod;
        QTest::newRow("http method empty")
            << line(dpop({{"method", ""}, {"url", "https://rp.example/"}}))
            << QByteArray("invalid_params /params/method: must not be empty (id 7)");
        QTest::newRow("http method too long")
            << line(dpop({{"method", std::string(33, 'A')}, {"url", "https://rp.example/"}}))
            << QByteArray("invalid_params /params/method: longer than 32 bytes (id 7)");
        QTest::newRow("access token empty")
            << line(dpop({{"method", "GET"}, {"url", "https://rp.example/"}, {"access_token", ""}}))
            << QByteArray("invalid_params /params/access_token: must not be empty (id 7)");
        QTest::newRow("access token null")
            << line(dpop(
                   {{"method", "GET"}, {"url", "https://rp.example/"}, {"access_token", nullptr}}))
            << QByteArray("invalid_params /params/access_token: must be a string (id 7)");
        QTest::newRow("dpop unknown member")
            << line(dpop({{"method", "GET"}, {"url", "https://rp.example/"}, {"nonce", "n"}}))
            << QByteArray("invalid_params /params/nonce: unknown member (expected one of: "
                          "access_token, method, url) (id 7)");
        QTest::newRow("enroll without token")
            << line(enroll(json::object()))
            << QByteArray("invalid_params /params/token: missing (id 7)");
        QTest::newRow("enroll token a number")
            << line(enroll({{"token", 123}}))
            << QByteArray("invalid_params /params/token: must be a string (id 7)");
        QTest::newRow("enroll token too long")
            << line(enroll({{"token", std::string(4097, 't')}}))
            << QByteArray("invalid_params /params/token: longer than 4096 bytes (id 7)");
        QTest::newRow("enroll unknown member")
            << line(enroll({{"token", "t"}, {"token_file", "/etc/vigil/enroll.token"}}))
            << QByteArray("invalid_params /params/token_file: unknown member (expected one of: "
                          "token) (id 7)");

        // session_posture: only screen_lock, only in the engine's own form, every size bounded.
        const QByteArray checkPointer = "invalid_params /params/checks/screen_lock";
        QTest::newRow("session without params")
            << QByteArray("{\"v\":1,\"id\":7,\"method\":\"session_posture\"}")
            << QByteArray("invalid_params /params: missing (id 7)");
        QTest::newRow("session params not an object")
            << line(sessionPosture(json::array()))
            << QByteArray("invalid_params /params: must be a JSON object (id 7)");
        QTest::newRow("session without checks")
            << line(sessionPosture(json::object()))
            << QByteArray("invalid_params /params/checks: missing (id 7)");
        QTest::newRow("session unknown member")
            << line(sessionPosture({{"checks", {{"screen_lock", failingScreenLock}}}, {"uid", 0}}))
            << QByteArray(
                   "invalid_params /params/uid: unknown member (expected one of: checks) (id 7)");
        QTest::newRow("session without screen_lock")
            << line(sessionPosture({{"checks", json::object()}}))
            << QByteArray("invalid_params /params/checks/screen_lock: missing (id 7)");
        QTest::newRow("session another check")
            << line(sessionPosture(
                   {{"checks",
                     {{"screen_lock", failingScreenLock}, {"firewall", failingScreenLock}}}}))
            << QByteArray("invalid_params /params/checks/firewall: unknown member (expected one "
                          "of: screen_lock) (id 7)");
        QTest::newRow("session check not an object")
            << line(sessionPosture({{"checks", {{"screen_lock", "pass"}}}}))
            << checkPointer + ": must be a JSON object (id 7)";
        QTest::newRow("session status missing")
            << line(screenLockWith("status", nullptr)) << checkPointer + "/status: missing (id 7)";
        for (const json &value : {json("PASS"), json("compliant"), json(1), json(true)})
            QTest::newRow(("session status " + value.dump()).c_str())
                << line(screenLockWith("status", value))
                << checkPointer + "/status: must be \"pass\", \"fail\" or \"unknown\" (id 7)";
        QTest::newRow("session summary missing") << line(screenLockWith("summary", nullptr))
                                                 << checkPointer + "/summary: missing (id 7)";
        QTest::newRow("session summary too long")
            << line(screenLockWith("summary", std::string(4097, 's')))
            << checkPointer + "/summary: longer than 4096 bytes (id 7)";
        QTest::newRow("session remediation missing")
            << line(screenLockWith("remediation", nullptr))
            << checkPointer + "/remediation: missing (id 7)";
        QTest::newRow("session reason beside fail")
            << line(screenLockWith("reason", "r"))
            << checkPointer + "/reason: unknown member (expected one of: details, duration_ms, "
                              "remediation, status, summary) (id 7)";
        QTest::newRow("session remediation beside pass")
            << line(screenLockWith("status", "pass"))
            << checkPointer + "/remediation: unknown member (expected one of: details, "
                              "duration_ms, status, summary) (id 7)";
        QTest::newRow("session id member")
            << line(screenLockWith("id", "screen_lock"))
            << checkPointer + "/id: unknown member (expected one of: details, duration_ms, "
                              "remediation, status, summary) (id 7)";
        QTest::newRow("session details missing") << line(screenLockWith("details", nullptr))
                                                 << checkPointer + "/details: missing (id 7)";
        QTest::newRow("session details an array")
            << line(screenLockWith("details", json::array()))
            << checkPointer + "/details: must be a JSON object (id 7)";
        QTest::newRow("session details too large")
            << line(screenLockWith("details", {{"padding", std::string(4090, 'p')}}))
            << checkPointer + "/details: longer than 4096 bytes as JSON (id 7)";
        QTest::newRow("session duration negative")
            << line(screenLockWith("duration_ms", -1))
            << checkPointer + "/duration_ms: must be an integer from 0 to 86400000 (id 7)";
        QTest::newRow("session duration a string")
            << line(screenLockWith("duration_ms", "12"))
            << checkPointer + "/duration_ms: must be an integer from 0 to 86400000 (id 7)";
    }

    void refusesEachFault()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        QCOMPARE(refusal(text), expected);
    }

    // A request cut off by the end of the stream is malformed, wherever it was cut.
    void refusesEveryTruncatedRequest()
    {
        const std::string text = line(dpop(dpopParams)).toStdString();
        QVERIFY(parseRequest(text).method == Method::Dpop);
        for (std::size_t size = 0; size < text.size(); ++size) {
            try {
                parseRequest(text.substr(0, size));
                QFAIL(("accepted " + text.substr(0, size)).c_str());
            } catch (const RequestError &e) {
                QCOMPARE(e.error().code, ErrorCode::MalformedRequest);
                QVERIFY(!e.id());
            }
        }
    }

    // The log line of a request never holds a secret: not the enrollment token, not the access
    // token, not the URL's query.
    void describeLeavesOutSecrets()
    {
        const Request enrollRequest = parseRequest(enroll({{"token", "SECRET-ENROLL"}}).dump());
        QCOMPARE(describe(enrollRequest), std::string("enroll (id 7)"));
        const Request dpopRequest =
            parseRequest(dpop({{"method", "GET"},
                               {"url", "https://RP.example:443/a/../b?code=SECRET-CODE#frag"},
                               {"access_token", "SECRET-TOKEN"}})
                             .dump());
        QCOMPARE(describe(dpopRequest),
                 std::string("dpop (id 7) \"GET\" https://rp.example/b with an access token"));
        Request byHand = dpopRequest;
        std::get<DpopParams>(byHand.params).url = "https://user:SECRET@rp.example/";
        QCOMPARE(describe(byHand),
                 std::string("dpop (id 7) \"GET\" (an invalid URL) with an access token"));
        Request named = parseRequest("{\"v\":1,\"id\":\"tray\\n1\",\"method\":\"status\"}");
        QCOMPARE(describe(named), std::string("status (id (unprintable))"));
        named.id = "tray-1";
        QCOMPARE(describe(named), std::string("status (id \"tray-1\")"));
        const Request session =
            parseRequest(sessionPosture({{"checks", {{"screen_lock", failingScreenLock}}}}).dump());
        QCOMPARE(describe(session), std::string("session_posture (id 7) screen_lock \"fail\""));
    }

    // An error message never repeats what the caller sent as the token.
    void errorsLeaveOutTheToken()
    {
        for (const json &token : {json(std::string(5000, 'S')), json({{"s", "SSSS"}})}) {
            const QByteArray answer = refusal(line(enroll({{"token", token}})));
            QVERIFY2(!answer.contains("SSSS"), answer.constData());
        }
    }
};

QTEST_APPLESS_MAIN(TestIpcRequest)
#include "tst_ipcrequest.moc"
