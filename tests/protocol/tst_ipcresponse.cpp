#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"
#include "protocol/rfc3339.h"
#include "protocoltesthelpers.h"

#include <QTest>
#include <string>

using namespace vigil::protocol;
using namespace vigil::protocol::ipc;
using namespace vigil::protocol::test;
using nlohmann::json;

namespace {

const std::string statusJson =
    "{\"state\":\"offline\",\"reason\":\"the verifier cannot be reached\",\"enrollment\":null,"
    "\"last_verdict\":null,\"last_report_at\":null,\"next_report_at\":\"2026-11-24T16:20:00Z\","
    "\"token\":{\"present\":false,\"expires_at\":null},"
    "\"verifier\":{\"reachable\":false,\"last_error\":\"connection refused\"}}";

// The line written for a parsed server message, to compare with the line that was read.
json written(const ServerMessage &message)
{
    return std::visit([](const auto &value) { return value.toJson(); }, message);
}

// The kind of MessageError the line is refused with; nullopt when it is accepted.
std::optional<MessageError::Kind> kindOf(const std::string &line)
{
    try {
        parseServerMessage(line);
    } catch (const MessageError &e) {
        return e.kind();
    }
    return std::nullopt;
}

} // namespace

class TestIpcResponse : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrips_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::newRow("result") << QByteArray(
            "{\"id\":1,\"result\":{\"proof\":\"a.b.c\"},\"v\":1}");
        QTest::newRow("string id") << QByteArray("{\"id\":\"x\",\"result\":{},\"v\":1}");
        QTest::newRow("error with field")
            << QByteArray("{\"error\":{\"code\":\"invalid_params\",\"field\":\"/params/url\","
                          "\"message\":\"must be an absolute https URL with a host\"},\"id\":2,"
                          "\"v\":1}");
        QTest::newRow("error without id")
            << QByteArray("{\"error\":{\"code\":\"request_too_large\",\"message\":\"the line is "
                          "longer than 65536 bytes\"},\"id\":null,\"v\":1}");
        QTest::newRow("event") << QByteArray::fromStdString(
            "{\"data\":" + json::parse(statusJson).dump() + ",\"event\":\"state\",\"v\":1}");
    }

    void roundTrips()
    {
        QFETCH(QByteArray, line);
        const ServerMessage message = parseServerMessage(line.toStdString());
        QCOMPARE(QByteArray::fromStdString(written(message).dump()), line);
        // As a line on the socket: compact, one "\n" at the end.
        QCOMPARE(QByteArray::fromStdString(toLine(written(message))), line + '\n');
    }

    void readsAResult()
    {
        const auto message = parseServerMessage("{\"v\":1,\"id\":9,\"result\":" + statusJson + "}");
        const auto &response = std::get<Response>(message);
        QCOMPARE(std::get<std::int64_t>(*response.id), std::int64_t(9));
        QVERIFY(!response.error);
        const Status status = Status::fromJson(response.result, "/result");
        QCOMPARE(status.state, AgentState::Offline);
        QCOMPARE(status.verifierLastError, std::string("connection refused"));
    }

    void readsAnEvent()
    {
        const auto message =
            parseServerMessage("{\"v\":1,\"event\":\"state\",\"data\":" + statusJson + "}");
        QCOMPARE(std::get<Event>(message).status.state, AgentState::Offline);
    }

    // The server answers a request it could not read with the request's id when it had one.
    void answersARefusedRequest()
    {
        try {
            parseRequest("{\"v\":1,\"id\":\"q\",\"method\":\"reboot\"}");
            QFAIL("accepted");
        } catch (const RequestError &e) {
            const json answer = Response::failure(e.id(), e.error()).toJson();
            QCOMPARE(answer["id"], "q");
            QCOMPARE(answer["error"]["code"], "unknown_method");
            QCOMPARE(answer["error"]["field"], "/method");
        }
        const json tooLarge =
            Response::failure(std::nullopt, {ErrorCode::RequestTooLarge, "too long", ""}).toJson();
        QCOMPARE(tooLarge,
                 json::parse("{\"v\":1,\"id\":null,\"error\":{\"code\":\"request_too_large\","
                             "\"message\":\"too long\"}}"));
    }

    void writesASuccess()
    {
        const json expected =
            json::parse("{\"v\":1,\"id\":\"cli-2\",\"result\":{\"proof\":\"a.b.c\"}}");
        QCOMPARE(Response::success("cli-2", DpopResult{"a.b.c"}.toJson()).toJson(), expected);
    }

    void everyErrorCodeHasItsName()
    {
        const char *names[] = {"malformed_request", "unsupported_version",
                               "unknown_method",    "invalid_params",
                               "request_too_large", "permission_denied",
                               "not_enrolled",      "busy",
                               "unavailable",       "internal",
                               "wrong_pin",         "pin_locked",
                               "not_enrolled_user", "authentication_required",
                               "invalid_code",      "refused"};
        for (const char *name : names) {
            const auto code = errorCodeFromName(name);
            QVERIFY2(code, name);
            QCOMPARE(errorCodeName(*code), std::string_view(name));
        }
        QVERIFY(!errorCodeFromName("Busy"));
    }

    // A message that is not UTF-8 (a system error in another locale) is still written.
    void writesTextThatIsNotUtf8()
    {
        const Error error{ErrorCode::Internal, "bad \xff byte", ""};
        const std::string line = toLine(Response::failure(1, error).toJson());
        QCOMPARE(line.back(), '\n');
        QCOMPARE(line.find('\n'), line.size() - 1);
        const auto parsed = std::get<Response>(parseServerMessage(line.substr(0, line.size() - 1)));
        QCOMPARE(parsed.error->message, std::string("bad \xef\xbf\xbd byte"));
    }

    void refusesEachFault_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("message");
        const auto row = [](const char *name, const std::string &line, const char *field,
                            const char *message) {
            QTest::newRow(name) << QByteArray::fromStdString(line) << QByteArray(field)
                                << QByteArray(field) + (*field ? ": " : "") + message;
        };
        row("not JSON", "{\"v\":1,\"id\":1,\"result\":{}", "", "line is not valid UTF-8 JSON");
        row("NUL", std::string("{\"v\":1,\"id\":1,\"result\":{}}\0", 27), "",
            "line is not valid UTF-8 JSON");
        row("duplicate member", "{\"v\":1,\"id\":1,\"result\":{\"a\":1,\"a\":2}}", "",
            "line has the member name \"a\" more than once");
        row("array", "[]", "", "must be a JSON object");
        row("no version", "{\"id\":1,\"result\":{}}", "/v",
            "missing; this implementation supports version 1");
        row("version 2", "{\"v\":2,\"id\":1,\"result\":{}}", "/v",
            "unsupported version 2; this implementation supports version 1");
        row("version text", "{\"v\":\"1\",\"id\":1,\"result\":{}}", "/v",
            "must be the integer 1; this implementation supports version 1");
        row("no id", "{\"v\":1,\"result\":{}}", "/id", "missing");
        row("id wrong type", "{\"v\":1,\"id\":[1],\"result\":{}}", "/id",
            "must be null, an integer or a string of 1 to 256 bytes");
        row("neither result nor error", "{\"v\":1,\"id\":1}", "/result",
            "missing: a response holds \"result\" or \"error\"");
        row("both result and error",
            "{\"v\":1,\"id\":1,\"result\":{},\"error\":{\"code\":\"busy\",\"message\":\"\"}}",
            "/result", "must not be given with \"error\"");
        row("result not an object", "{\"v\":1,\"id\":1,\"result\":\"ok\"}", "/result",
            "must be a JSON object");
        row("unknown member", "{\"v\":1,\"id\":1,\"result\":{},\"extra\":0}", "/extra",
            "unknown member (expected one of: id, result, v)");
        row("unknown member beside error",
            "{\"v\":1,\"id\":1,\"error\":{\"code\":\"busy\",\"message\":\"\"},\"result2\":0}",
            "/result2", "unknown member (expected one of: error, id, v)");
        row("unknown error code",
            "{\"v\":1,\"id\":1,\"error\":{\"code\":\"teapot\",\"message\":\"\"}}", "/error/code",
            "is not an error code of docs/ipc.md");
        row("error message missing", "{\"v\":1,\"id\":1,\"error\":{\"code\":\"busy\"}}",
            "/error/message", "missing");
        row("error field empty",
            "{\"v\":1,\"id\":1,\"error\":{\"code\":\"busy\",\"message\":\"\",\"field\":\"\"}}",
            "/error/field", "must not be empty");
        row("error unknown member",
            "{\"v\":1,\"id\":1,\"error\":{\"code\":\"busy\",\"message\":\"\",\"status\":409}}",
            "/error/status", "unknown member (expected one of: code, field, message)");
        row("unknown event", "{\"v\":1,\"event\":\"mfa_prompt\",\"data\":{}}", "/event",
            "unknown event \"mfa_prompt\" (expected one of: state, prompt, prompt_closed)");
        row("event name wrong type", "{\"v\":1,\"event\":1,\"data\":{}}", "/event",
            "must be a string");
        row("event with an id", "{\"v\":1,\"event\":\"state\",\"id\":1,\"data\":{}}", "/id",
            "unknown member (expected one of: data, event, v)");
        row("event without data", "{\"v\":1,\"event\":\"state\"}", "/data", "missing");
        row("event with a bad status", "{\"v\":1,\"event\":\"state\",\"data\":{\"state\":1}}",
            "/data/state", "must be a string");
    }

    void refusesEachFault()
    {
        QFETCH(QByteArray, line);
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, message);
        QCOMPARE_REJECTION(parseServerMessage(line.toStdString()), field, message);
    }

    void versionFaultsAreTheirOwnKind()
    {
        QCOMPARE(kindOf("{\"v\":2,\"id\":1,\"result\":{}}"),
                 std::optional(MessageError::Kind::UnsupportedVersion));
        QCOMPARE(kindOf("{\"id\":1,\"result\":{}}"),
                 std::optional(MessageError::Kind::UnsupportedVersion));
        QCOMPARE(kindOf("{\"v\":1,\"id\":1}"), std::optional(MessageError::Kind::Malformed));
    }

    // The server went away in the middle of a line: no part of one is a message.
    void refusesEveryTruncatedLine()
    {
        const std::string line = "{\"v\":1,\"event\":\"state\",\"data\":" + statusJson + "}";
        QVERIFY(std::holds_alternative<Event>(parseServerMessage(line)));
        for (std::size_t size = 0; size < line.size(); ++size)
            QCOMPARE(kindOf(line.substr(0, size)), std::optional(MessageError::Kind::Malformed));
    }

    void resultTypesRoundTrip()
    {
        const json token = {{"access_token", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"},
                            {"token_type", "DPoP"},
                            {"expires_at", "2026-11-24T16:16:31Z"}};
        const TokenResult tokenResult = TokenResult::fromJson(token, "/result");
        QCOMPARE(tokenResult.expiresAt, *parseRfc3339("2026-11-24T16:16:31Z"));
        QCOMPARE(tokenResult.toJson(), token);
        const json proof = {{"proof", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln"}};
        QCOMPARE(DpopResult::fromJson(proof, "/result").toJson(), proof);
        const json snapshot = {{"schema_version", 1}, {"checks", json::array()}};
        QCOMPARE(PostureResult::fromJson(snapshot, "/result").toJson(), snapshot);
    }

    void resultTypesAreStrict()
    {
        const json token = {{"access_token", "eyJ"},
                            {"token_type", "DPoP"},
                            {"expires_at", "2026-11-24T16:16:31Z"}};
        QCOMPARE_REJECTION(
            TokenResult::fromJson(mutated(token, "/token_type", json("Bearer")), "/result"),
            "/result/token_type", "/result/token_type: must be \"DPoP\"");
        QCOMPARE_REJECTION(
            TokenResult::fromJson(mutated(token, "/expires_in", json(600)), "/result"),
            "/result/expires_in",
            "/result/expires_in: unknown member (expected one of: access_token, "
            "expires_at, token_type)");
        QCOMPARE_REJECTION(
            TokenResult::fromJson(mutated(token, "/access_token", std::nullopt), "/result"),
            "/result/access_token", "/result/access_token: missing");
        QCOMPARE_REJECTION(DpopResult::fromJson(json{{"proof", 1}}, "/result"), "/result/proof",
                           "/result/proof: must be a string");
        QCOMPARE_REJECTION(DpopResult::fromJson(json{{"proof", std::string(8193, 'p')}}, "/result"),
                           "/result/proof", "/result/proof: longer than 8192 bytes");
        QCOMPARE_REJECTION(PostureResult::fromJson(json::array(), "/result"), "/result",
                           "/result: must be a JSON object");
    }
};

QTEST_APPLESS_MAIN(TestIpcResponse)
#include "tst_ipcresponse.moc"
