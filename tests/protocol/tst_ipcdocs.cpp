#include "posture/posturesnapshot.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"
#include "protocoltesthelpers.h"

#include <QTest>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace vigil::protocol;
using namespace vigil::protocol::ipc;
using namespace vigil::protocol::test;
using nlohmann::json;

namespace {

struct Block
{
    std::string text;
    bool refused = false; // after "<!-- refused -->": the parser must refuse the request
};

// Every ```json block of docs/ipc.md, in order.
std::vector<Block> jsonBlocks()
{
    const std::string docs = fileText("../../../docs/ipc.md"); // tests/fixtures/protocol -> root
    const std::string open = "```json\n";
    const std::string refusedMarker = "<!-- refused -->\n";
    std::vector<Block> blocks;
    for (std::size_t at = docs.find(open); at != std::string::npos; at = docs.find(open, at)) {
        const std::size_t start = at + open.size();
        const std::size_t close = docs.find("\n```", start);
        if (close == std::string::npos)
            throw std::runtime_error("a json block is not closed");
        const bool refused =
            at >= refusedMarker.size() &&
            docs.compare(at - refusedMarker.size(), refusedMarker.size(), refusedMarker) == 0;
        blocks.push_back({docs.substr(start, close - start), refused});
        at = close + 4;
    }
    return blocks;
}

// The result of a response to method, written back: what the client reads is all there is.
json resultWrittenBack(Method method, const json &result)
{
    switch (method) {
    case Method::Status:
    case Method::Subscribe:
    case Method::Report:
    case Method::Enroll:
        return Status::fromJson(result, "/result").toJson();
    case Method::Posture:
        // The snapshot is the posture library's schema, read with its own parser.
        return vigil::posture::PostureSnapshot::fromJson(
                   PostureResult::fromJson(result, "/result").toJson())
            .toJson();
    case Method::Token:
        return TokenResult::fromJson(result, "/result").toJson();
    case Method::Dpop:
        return DpopResult::fromJson(result, "/result").toJson();
    case Method::SessionPosture:
        return SessionPostureResult::fromJson(result, "/result").toJson();
    case Method::MfaStatus:
    case Method::MfaEnroll:
    case Method::MfaPinReset:
    case Method::SignIn:
        return MfaStatus::fromJson(result, "/result").toJson();
    case Method::MfaTotpBegin:
        return TotpBeginResult::fromJson(result, "/result").toJson();
    case Method::MfaTotpActivate:
    case Method::MfaRecoveryCodes:
        return RecoveryCodesResult::fromJson(result, "/result").toJson();
    case Method::UserToken:
        return UserTokenResult::fromJson(result, "/result").toJson();
    case Method::MfaPinChange:
    case Method::SignOut:
        return EmptyResult::fromJson(result, "/result").toJson();
    }
    return nullptr;
}

} // namespace

class TestIpcDocs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Requests are read by the server's parser, responses and events by the client's; each
    // response answers the request before it, with the result type of its method; a request
    // marked refused is answered exactly as the page shows. Every example is in the form the
    // code writes, so the page cannot drift from it.
    void examplesAreWhatTheCodeReadsAndWrites()
    {
        std::optional<Request> pending;     // the request the next response answers
        std::optional<json> pendingRefusal; // or the answer to a refused request
        std::set<Method> answered;
        std::set<std::string> events;
        std::size_t checked = 0;
        for (const Block &block : jsonBlocks()) {
            const QByteArray where = QByteArray::fromStdString(block.text.substr(0, 60));
            try {
                const json parsed = json::parse(block.text);
                if (parsed.contains("method")) {
                    QVERIFY2(!pending && !pendingRefusal, "a request follows an unanswered one");
                    if (block.refused) {
                        try {
                            parseRequest(block.text);
                            QFAIL(("accepted: " + where).constData());
                        } catch (const RequestError &e) {
                            pendingRefusal = Response::failure(e.id(), e.error()).toJson();
                        }
                    } else {
                        const Request request = parseRequest(block.text);
                        json written = parsed; // params left out are written as {}
                        written.emplace("params", json::object());
                        QVERIFY2(request.toJson() == written, where.constData());
                        pending = request;
                    }
                } else if (parsed.contains("event")) {
                    const auto message = parseServerMessage(block.text);
                    QVERIFY2(!std::holds_alternative<Response>(message), where.constData());
                    const json written =
                        std::visit([](const auto &m) { return m.toJson(); }, message);
                    QVERIFY2(written == parsed, where.constData());
                    events.insert(parsed.at("event").get<std::string>());
                } else {
                    const auto message = parseServerMessage(block.text);
                    QVERIFY2(std::holds_alternative<Response>(message), where.constData());
                    const auto &response = std::get<Response>(message);
                    QVERIFY2(response.toJson() == parsed, where.constData());
                    if (pendingRefusal) {
                        QCOMPARE(parsed, *pendingRefusal);
                    } else if (pending) {
                        QVERIFY2(response.id == std::optional(pending->id), where.constData());
                        if (!response.error) {
                            QCOMPARE(resultWrittenBack(pending->method, response.result),
                                     response.result);
                            answered.insert(pending->method);
                        }
                    } else {
                        // Only an answer to a line that was no request stands alone.
                        QVERIFY2(response.error && !response.id, where.constData());
                    }
                    pending.reset();
                    pendingRefusal.reset();
                }
            } catch (const std::exception &e) {
                QFAIL((where + "…: " + e.what()).constData());
            }
            ++checked;
        }
        QVERIFY2(!pending && !pendingRefusal, "the last request has no response");
        QCOMPARE(answered.size(), std::size_t(18)); // every method answered once at least
        QCOMPARE(events, (std::set<std::string>{"prompt", "prompt_closed", "state"}));
        QCOMPARE(checked, std::size_t(60));
    }
};

QTEST_APPLESS_MAIN(TestIpcDocs)
#include "tst_ipcdocs.moc"
