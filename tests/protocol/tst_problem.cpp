#include "protocol/problem.h"
#include "protocoltesthelpers.h"

#include <QTest>
#include <set>

using namespace vigil::protocol;
using namespace vigil::protocol::test;
using nlohmann::json;

class TestProblem : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exampleRoundTrips()
    {
        const json example = fixture("problem");
        const Problem problem = Problem::fromJson(example);
        QCOMPARE(problem.status, 403);
        QCOMPARE(problem.code, std::string("evidence_rejected"));
        QCOMPARE(problem.field, std::string("/tpm/device_key_certify"));
        QCOMPARE(problem.evidenceError, std::string("bad_signature"));
        QCOMPARE(problem.toJson(), example);
    }

    void notCompliantExampleRoundTrips()
    {
        const json example = fixture("problem-not-compliant");
        const Problem problem = Problem::fromJson(example);
        QCOMPARE(problem.status, 403);
        QCOMPARE(problem.field, std::string());
        QCOMPARE(problem.toJson(), example);
        const Problem made = makeProblem("not_compliant", problem.detail);
        QCOMPARE(made.toJson(), example);
    }

    void toJsonOmitsEmptyFieldAndEvidenceError()
    {
        const Problem problem = makeProblem("not_found", "no route for GET /v1/nothing");
        QCOMPARE(problem.toJson().dump(),
                 std::string("{\"code\":\"not_found\",\"detail\":\"no route for GET /v1/nothing\","
                             "\"status\":404,\"title\":\"Not found\","
                             "\"type\":\"https://vigil.dev/problems/not_found\"}"));
        QCOMPARE(Problem::fromJson(problem.toJson()).toJson(), problem.toJson());
    }

    // Exactly the codes of the contract and the two the verifier added (already_enrolled,
    // ek_trust_unconfigured), each with one status.
    void problemTypesAreTheContractsCodes_data()
    {
        QTest::addColumn<QByteArray>("code");
        QTest::addColumn<int>("status");
        const std::pair<const char *, int> codes[] = {
            {"malformed_request", 400},
            {"unsupported_version", 400},
            {"payload_too_large", 413},
            {"invalid_enrollment_token", 403},
            {"evidence_rejected", 403},
            {"assurance_not_allowed", 403},
            {"unknown_enrollment", 404},
            {"activation_failed", 403},
            {"invalid_dpop_proof", 401},
            {"use_dpop_nonce", 401},
            {"unknown_device", 403},
            {"device_revoked", 403},
            {"invalid_nonce", 400},
            {"invalid_report", 400},
            {"not_compliant", 403},
            {"report_stale", 403},
            {"invalid_token", 401},
            {"rate_limited", 429},
            {"not_found", 404},
            {"method_not_allowed", 405},
            {"internal_error", 500},
            {"already_enrolled", 409},
            {"ek_trust_unconfigured", 503},
            {"unsupported_media_type", 415},
            {"header_fields_too_large", 431},
            {"storage_unavailable", 503},
        };
        for (const auto &[code, status] : codes)
            QTest::newRow(code) << QByteArray(code) << status;
    }

    void problemTypesAreTheContractsCodes()
    {
        QFETCH(QByteArray, code);
        QFETCH(int, status);
        const Problem problem = makeProblem(code.toStdString(), "detail", "/x");
        QCOMPARE(problem.status, status);
        QCOMPARE(problem.code, code.toStdString());
        QVERIFY(!problem.title.empty());
        QCOMPARE(problem.toJson()["type"],
                 json("https://vigil.dev/problems/" + code.toStdString()));
        QCOMPARE(Problem::fromJson(problem.toJson()).toJson(), problem.toJson());
    }

    void problemTypesHaveNoDuplicates()
    {
        std::set<std::string_view> codes;
        for (const ProblemType &type : problemTypes())
            QVERIFY(codes.insert(type.code).second);
        QCOMPARE(codes.size(), std::size_t(39));
    }

    void makeProblemRefusesUnknownCodes()
    {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeProblem("teapot", "short and stout"));
    }

    void messageErrorKindsMapToProblems()
    {
        const Problem malformed = problemFor(MessageError("/tpm/ak_public", "missing"));
        QCOMPARE(malformed.toJson(), json({{"type", "https://vigil.dev/problems/malformed_request"},
                                           {"title", "Malformed request"},
                                           {"status", 400},
                                           {"detail", "/tpm/ak_public: missing"},
                                           {"code", "malformed_request"},
                                           {"field", "/tpm/ak_public"}}));
        const Problem version = problemFor(MessageError(
            "/version", "unsupported version 2; this implementation supports version 1",
            MessageError::Kind::UnsupportedVersion));
        QCOMPARE(version.status, 400);
        QCOMPARE(version.code, std::string("unsupported_version"));
        QCOMPARE(version.field, std::string("/version"));
        QCOMPARE(
            version.detail,
            std::string("/version: unsupported version 2; this implementation supports version 1"));
        const Problem large = problemFor(
            MessageError("", "body is larger than 1048576 bytes", MessageError::Kind::TooLarge));
        QCOMPARE(large.status, 413);
        QCOMPARE(large.code, std::string("payload_too_large"));
        QCOMPARE(large.field, std::string());
        QCOMPARE(large.detail, std::string("body is larger than 1048576 bytes"));
        QVERIFY(!large.toJson().contains("field"));
    }

    // A client may meet codes a newer verifier adds: accepted if well formed.
    void unknownCodesAreAccepted()
    {
        json problem = fixture("problem");
        problem["code"] = "quota_exceeded";
        problem["type"] = "https://vigil.dev/problems/quota_exceeded";
        problem["status"] = 429;
        problem["retry_hint"] = "later";
        QCOMPARE(Problem::fromJson(problem).code, std::string("quota_exceeded"));
    }

    void detailFieldAndEvidenceErrorAreOptional()
    {
        json problem = fixture("problem");
        problem.erase("detail");
        problem.erase("field");
        problem.erase("evidence_error");
        const Problem parsed = Problem::fromJson(problem);
        QCOMPARE(parsed.detail, std::string());
        QCOMPARE(parsed.field, std::string());
        QCOMPARE(parsed.evidenceError, std::string());
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("pointer");
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("message");
        const auto row = [](const char *name, const char *pointer, const char *value,
                            const char *field, const char *message) {
            QTest::newRow(name) << QByteArray(pointer) << QByteArray(value) << QByteArray(field)
                                << QByteArray(message);
        };
        row("no code", "/code", "", "/code", "/code: missing");
        row("code number", "/code", "7", "/code", "/code: must be a string");
        row("code upper case", "/code", "\"Evidence_rejected\"", "/code",
            "/code: must be lower-case letters and underscores");
        row("code too long", "/code", ("\"" + std::string(65, 'a') + "\"").c_str(), "/code",
            "/code: longer than 64 bytes");
        row("no type", "/type", "", "/type", "/type: missing");
        row("type about:blank", "/type", "\"about:blank\"", "/type",
            "/type: must be https://vigil.dev/problems/evidence_rejected");
        row("type of another code", "/type", "\"https://vigil.dev/problems/not_found\"", "/type",
            "/type: must be https://vigil.dev/problems/evidence_rejected");
        row("no status", "/status", "", "/status", "/status: missing");
        row("status 200", "/status", "200", "/status",
            "/status: must be an integer from 400 to 599");
        row("status 600", "/status", "600", "/status",
            "/status: must be an integer from 400 to 599");
        row("status string", "/status", "\"403\"", "/status",
            "/status: must be an integer from 400 to 599");
        row("no title", "/title", "", "/title", "/title: missing");
        row("title empty", "/title", "\"\"", "/title", "/title: must not be empty");
        row("detail number", "/detail", "1", "/detail", "/detail: must be a string");
        row("field not a pointer", "/field", "\"tpm\"", "/field", "/field: must be a JSON pointer");
        row("field empty", "/field", "\"\"", "/field", "/field: must not be empty");
        row("evidence_error number", "/evidence_error", "1", "/evidence_error",
            "/evidence_error: must be a string");
    }

    void rejects()
    {
        QFETCH(QByteArray, pointer);
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, message);
        const json problem = mutated(
            fixture("problem"), pointer.toStdString(),
            value.isEmpty() ? std::nullopt : std::optional(json::parse(value.toStdString())));
        QCOMPARE_REJECTION(Problem::fromJson(problem), field.constData(), message.constData());
    }

    void nonObjectIsRejected()
    {
        QCOMPARE_REJECTION(Problem::fromJson(json::array()), "", "must be a JSON object");
    }
};

QTEST_APPLESS_MAIN(TestProblem)
#include "tst_problem.moc"
