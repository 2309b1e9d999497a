#include "protocol/jose/dpop.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"
#include "protocol/messages.h"
#include "protocol/rfc3339.h"
#include "protocoltesthelpers.h"

#include <QTest>
#include <functional>
#include <map>

using namespace vigil::protocol;
using namespace vigil::protocol::test;
using nlohmann::json;
using vigil::protocol::Assurance;
using vigil::base64UrlEncode;
using vigil::Bytes;

namespace {

using RoundTrip = std::function<json(const json &)>;

template <typename T> RoundTrip roundTrip()
{
    return [](const json &body) { return T::fromJson(body).toJson(); };
}

template <typename T> RoundTrip textRoundTrip()
{
    return [](const json &body) { return parseBody<T>(body.dump()).toJson(); };
}

struct Example
{
    RoundTrip parse;
    RoundTrip parseText;
    bool versioned = true;
};

template <typename T> Example example(bool versioned = true)
{
    return {roundTrip<T>(), textRoundTrip<T>(), versioned};
}

// Every example body in tests/fixtures/protocol/ and the message type it is.
const std::map<std::string, Example> &examples()
{
    static const std::map<std::string, Example> all = {
        {"enrollment-request-tpm", example<EnrollmentRequest>()},
        {"enrollment-request-software", example<EnrollmentRequest>()},
        {"enrollment-challenge", example<EnrollmentChallenge>()},
        {"activation-request", example<ActivationRequest>()},
        {"enrollment-complete", example<EnrollmentComplete>()},
        {"nonce-request", example<NonceRequest>()},
        {"nonce-response", example<NonceResponse>()},
        {"report-request", example<ReportRequest>()},
        {"appraisal", example<Appraisal>()},
        {"appraisal-compliant", example<Appraisal>()},
        {"token-request", example<TokenRequest>()},
        {"token-response", example<TokenResponse>()},
        {"whoami", example<WhoAmI>()},
        {"jwks", example<Jwks>(false)},
        {"health", example<Health>()},
    };
    return all;
}

enum class Kind
{
    String,  // a = max length, b = min length
    Bytes,   // a = max bytes, b = min bytes
    Time,    //
    Uuid,    //
    Integer, // a = min, b = max
    Enum,    // text = the message for an unknown value (cap 16)
    Object,  //
    Array,   // a = max items
    Pcrs,    //
};

struct Field
{
    const char *fixture;
    const char *pointer;
    Kind kind;
    bool required = true;
    long long a = 0;
    long long b = 0;
    const char *text = "";
};

constexpr char assuranceMessage[] = "must be \"tpm\" or \"software\"";

// The members of every example body with their kind and caps as the contract states them.
const std::vector<Field> &fields()
{
    static const std::vector<Field> all = {
        {"enrollment-request-tpm", "/enrollment_token", Kind::String, true, 4096, 1},
        {"enrollment-request-tpm", "/assurance", Kind::Enum, true, 0, 0, assuranceMessage},
        {"enrollment-request-tpm", "/hostname", Kind::String, true, 255, 1},
        {"enrollment-request-tpm", "/device_key", Kind::Object},
        {"enrollment-request-tpm", "/tpm", Kind::Object},
        {"enrollment-request-tpm", "/tpm/ek_public", Kind::Bytes, true, 1024, 1},
        {"enrollment-request-tpm", "/tpm/ek_certificate", Kind::Bytes, false, 8192, 1},
        {"enrollment-request-tpm", "/tpm/ek_intermediates", Kind::Array, false, 16},
        {"enrollment-request-tpm", "/tpm/ek_intermediates/0", Kind::Bytes, false, 8192, 1},
        {"enrollment-request-tpm", "/tpm/ak_public", Kind::Bytes, true, 1024, 1},
        {"enrollment-request-tpm", "/tpm/device_key_public", Kind::Bytes, true, 1024, 1},
        {"enrollment-request-tpm", "/tpm/device_key_certify", Kind::Object},
        {"enrollment-request-tpm", "/tpm/device_key_certify/attest", Kind::Bytes, true, 1024, 1},
        {"enrollment-request-tpm", "/tpm/device_key_certify/signature", Kind::Bytes, true, 1024, 1},
        {"enrollment-request-software", "/enrollment_token", Kind::String, true, 4096, 1},
        {"enrollment-request-software", "/hostname", Kind::String, true, 255, 1},
        {"enrollment-challenge", "/enrollment_id", Kind::Uuid},
        {"enrollment-challenge", "/expires_at", Kind::Time},
        {"enrollment-challenge", "/credential", Kind::Object},
        {"enrollment-challenge", "/credential/credential_blob", Kind::Bytes, true, 1024, 1},
        {"enrollment-challenge", "/credential/encrypted_secret", Kind::Bytes, true, 1024, 1},
        {"activation-request", "/secret", Kind::Bytes, true, 64, 1},
        {"enrollment-complete", "/device_id", Kind::Uuid},
        {"enrollment-complete", "/assurance", Kind::Enum, true, 0, 0, assuranceMessage},
        {"enrollment-complete", "/nonce", Kind::Bytes, true, 55, 32},
        {"enrollment-complete", "/nonce_expires_at", Kind::Time},
        {"enrollment-complete", "/report_interval_seconds", Kind::Integer, true, 1, 604800},
        {"enrollment-complete", "/pcrs", Kind::Pcrs},
        {"nonce-response", "/nonce", Kind::Bytes, true, 55, 32},
        {"nonce-response", "/nonce_expires_at", Kind::Time},
        {"nonce-response", "/pcrs", Kind::Pcrs},
        {"report-request", "/report", Kind::String, true, 768 * 1024, 1},
        {"appraisal", "/appraisal_id", Kind::Uuid},
        {"appraisal", "/verdict", Kind::Enum, true, 0, 0,
         "must be \"compliant\" or \"non_compliant\""},
        {"appraisal", "/appraised_at", Kind::Time},
        {"appraisal", "/checks", Kind::Array, true, 64},
        {"appraisal", "/checks/1", Kind::Object, false},
        {"appraisal", "/checks/1/id", Kind::String, true, 64, 1},
        {"appraisal", "/checks/1/status", Kind::Enum, true, 0, 0, "must be \"pass\" or \"fail\""},
        {"appraisal", "/checks/1/summary", Kind::String, true, 4096, 0},
        {"appraisal", "/checks/1/remediation", Kind::String, false, 4096, 0},
        {"appraisal", "/next_nonce", Kind::Bytes, true, 55, 32},
        {"appraisal", "/next_nonce_expires_at", Kind::Time},
        {"appraisal", "/next_report_at", Kind::Time},
        {"appraisal", "/pcrs", Kind::Pcrs},
        {"token-response", "/access_token", Kind::String, true, 8192, 1},
        {"token-response", "/token_type", Kind::Enum, true, 0, 0, "must be \"DPoP\""},
        {"token-response", "/expires_in", Kind::Integer, true, 1, 600},
        {"whoami", "/device_id", Kind::Uuid},
        {"whoami", "/assurance", Kind::Enum, true, 0, 0, assuranceMessage},
        {"whoami", "/jkt", Kind::Bytes, true, 32, 32},
        {"whoami", "/token_expires_at", Kind::Time},
        {"jwks", "/keys", Kind::Array, true, 16},
        {"jwks", "/keys/0", Kind::Object, false},
        {"jwks", "/keys/0/kid", Kind::String, true, 128, 1},
        {"health", "/status", Kind::Enum, true, 0, 0, "must be \"ok\""},
    };
    return all;
}

std::string n(long long value)
{
    return std::to_string(value);
}

std::string encoded(std::size_t size)
{
    return base64UrlEncode(Bytes(size, 0xa5));
}

void addRow(const std::string &fixture, const std::string &pointer, const std::string &what,
            const std::optional<json> &value, const std::string &field, const std::string &message)
{
    QTest::newRow((fixture + " " + pointer + " " + what).c_str())
        << QByteArray::fromStdString(fixture) << QByteArray::fromStdString(pointer)
        << (value ? QByteArray::fromStdString(value->dump()) : QByteArray())
        << QByteArray::fromStdString(field) << QByteArray::fromStdString(field + ": " + message);
}

void addGeneratedRows(const Field &f)
{
    const std::string fixture = f.fixture;
    const std::string p = f.pointer;
    const auto row = [&](const std::string &what, const std::optional<json> &value,
                         const std::string &message) {
        addRow(fixture, p, what, value, p, message);
    };
    if (f.required)
        row("removed", std::nullopt, "missing");
    switch (f.kind) {
    case Kind::String:
        row("number", 7, "must be a string");
        row("null", nullptr, "must be a string");
        row("oversize", std::string(std::size_t(f.a + 1), 'a'), "longer than " + n(f.a) + " bytes");
        if (f.b == 1)
            row("empty", "", "must not be empty");
        break;
    case Kind::Bytes: {
        const bool exact = f.a == f.b;
        const std::string tooLong = exact ? "must decode to exactly " + n(f.a) + " bytes"
                                          : "decodes to more than " + n(f.a) + " bytes";
        row("number", 7, "must be a base64url string");
        row("padded", "AAAA" + std::string("AA=="), "not base64url without padding");
        // As long as a valid value, so that only the alphabet is wrong.
        const std::string valid = encoded(std::size_t(f.b));
        row("standard alphabet", "AB+/" + (valid.size() > 4 ? valid.substr(4) : std::string()),
            "not base64url without padding");
        row("non-zero trailing bits", "AB", "not base64url without padding");
        row("oversize", encoded(std::size_t(f.a + 1)), tooLong);
        if (exact)
            row("short", encoded(std::size_t(f.a - 1)), tooLong);
        else if (f.b > 1)
            row("short", encoded(std::size_t(f.b - 1)),
                "decodes to fewer than " + n(f.b) + " bytes");
        row("empty", "", exact ? tooLong : "must not be empty");
        break;
    }
    case Kind::Time: {
        const std::string message = "must be an RFC 3339 UTC time like 2026-11-24T16:05:00Z";
        row("number", 1795536300, message);
        for (const char *text :
             {"2026-11-24T16:05:00+00:00", "2026-11-24t16:05:00z", "2026-11-24T16:05:00.000Z",
              "2026-11-24 16:05:00Z", "2026-11-24T16:05Z", " 2026-11-24T16:05:00Z",
              "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
              "2026-11-24T24:00:00Z", "2026-12-31T23:59:60Z", "1969-12-31T23:59:59Z",
              "2262-04-12T00:00:00Z", "+026-11-24T16:05:00Z", "２026-11-24T16:05:00Z"})
            row(text, text, message);
        break;
    }
    case Kind::Uuid:
        row("number", 7, "must be a string");
        for (const char *text :
             {"5F0C7F8E-8B7A-4F57-9D43-1C2E9A0B6D15", "5f0c7f8e8b7a4f579d431c2e9a0b6d15",
              "{5f0c7f8e-8b7a-4f57-9d43-1c2e9a0b6d15}", "5f0c7f8e-8b7a-4f57-9d43-1c2e9a0b6d1",
              "5f0c7f8e-8b7a-4f57-9d43-1c2e9a0b6d15/../x", "../../admin"})
            row(text, text, "must be a lower-case UUID");
        break;
    case Kind::Integer: {
        const std::string message = "must be an integer from " + n(f.a) + " to " + n(f.b);
        row("string", n(f.b), message);
        row("fraction", 1.5, message);
        row("boolean", true, message);
        row("below", f.a - 1, message);
        row("above", f.b + 1, message);
        row("huge", 18446744073709551615ull, message);
        break;
    }
    case Kind::Enum:
        row("number", 7, "must be a string");
        row("upper case", "TPM", f.text);
        row("unknown", "unknown", f.text);
        row("oversize", std::string(17, 'a'), "longer than 16 bytes");
        row("empty", "", "must not be empty");
        break;
    case Kind::Object:
        row("number", 7, "must be a JSON object");
        row("array", json::array(), "must be a JSON object");
        row("string", "{}", "must be a JSON object");
        break;
    case Kind::Array: {
        row("object", json::object(), "must be an array");
        const json body = vigil::protocol::test::fixture(f.fixture);
        json many = json::array();
        for (long long i = 0; i <= f.a; ++i)
            many.push_back(body.at(json::json_pointer(p)).at(0));
        row("oversize", many, "more than " + n(f.a) + " items");
        break;
    }
    case Kind::Pcrs:
        row("object", json::object(), "must be an array");
        addRow(fixture, p, "24", json{0, 24}, p + "/1", "must be an integer from 0 to 23");
        addRow(fixture, p, "negative", json{-1}, p + "/0", "must be an integer from 0 to 23");
        addRow(fixture, p, "string", json{"7"}, p + "/0", "must be an integer from 0 to 23");
        addRow(fixture, p, "repeated", json{0, 7, 1, 7}, p + "/3", "repeats PCR 7");
        {
            json all = json::array();
            for (int i = 0; i < 25; ++i)
                all.push_back(i % 24);
            row("25 entries", all, "more than 24 items");
        }
        break;
    }
}

// Rejections the generated rows do not reach: rules across members, JWKs, identifiers.
void addSpecificRows()
{
    const auto row = [](const char *fixture, const char *pointer, const char *what,
                        const std::optional<json> &value, const char *field, const char *message) {
        addRow(fixture, pointer, what, value, field, message);
    };
    const char *tpm = "enrollment-request-tpm";
    row(tpm, "/assurance", "software with tpm", "software", "/tpm",
        "must be absent for assurance \"software\"");
    row("enrollment-request-software", "/assurance", "tpm without tpm", "tpm", "/tpm", "missing");
    row("enrollment-request-software", "/tpm", "tpm with software", json::object(), "/tpm",
        "must be absent for assurance \"software\"");
    row(tpm, "/tpm/ek_certificate", "intermediates without certificate", std::nullopt,
        "/tpm/ek_intermediates", "given without ek_certificate");
    row(tpm, "/hostname", "control character", "ws-042\n", "/hostname",
        "contains a control character");
    row(tpm, "/hostname", "delete character", "ws\x7f", "/hostname",
        "contains a control character");
    row(tpm, "/device_key/kty", "RSA key", "RSA", "/device_key",
        "JWK key type (\"kty\") is not \"EC\"");
    row(tpm, "/device_key/crv", "P-384 key", "P-384", "/device_key",
        "JWK curve (\"crv\") is not \"P-256\"");
    row(tpm, "/device_key/x", "x removed", std::nullopt, "/device_key",
        "JWK has no \"x\" string member");
    row(tpm, "/device_key/y", "y off the curve", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4",
        "/device_key", "JWK \"x\" and \"y\" are not a point on P-256");
    row(tpm, "/device_key/d", "private key", "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
        "/device_key", "JWK contains the private key member \"d\"; a public JWK must not");
    row("appraisal", "/checks/1/id", "repeated check id", "assurance", "/checks/1/id",
        "repeats check \"assurance\"");
    row("appraisal", "/checks/1/id", "upper-case check id", "Patch_level", "/checks/1/id",
        "must be lower-case letters, digits and underscores");
    row("appraisal", "/checks/1/id", "check id with a dot", "patch.level", "/checks/1/id",
        "must be lower-case letters, digits and underscores");
    row("appraisal", "/checks/1/status", "unknown is not an appraisal outcome", "unknown",
        "/checks/1/status", "must be \"pass\" or \"fail\"");
    row("token-response", "/access_token", "space", "a.b c.d", "/access_token",
        "must be a compact JWS");
    row("token-response", "/access_token", "two parts", "eyJhbGciOiJFUzI1NiJ9.e30", "/access_token",
        "must be a compact JWS");
    row("token-response", "/access_token", "header injection", "a.b.c\r\nX-Evil: 1",
        "/access_token", "must be a compact JWS");
    row("token-response", "/token_type", "bearer", "Bearer", "/token_type", "must be \"DPoP\"");
    row("token-response", "/token_type", "DPoP with more", "DPoPs", "/token_type",
        "must be \"DPoP\"");
    row("whoami", "/jkt", "SHA-384 thumbprint", encoded(48), "/jkt",
        "must decode to exactly 32 bytes");
    row("jwks", "/keys/0/x", "x removed", std::nullopt, "/keys/0",
        "JWK has no \"x\" string member");
    row("jwks", "/keys/0/d", "private key", "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
        "/keys/0", "JWK contains the private key member \"d\"; a public JWK must not");
    row("jwks", "/keys/0/kty", "kty number", 7, "/keys/0", "JWK has no \"kty\" string member");
    row("jwks", "/keys/0/alg", "alg number", 7, "/keys/0/alg", "must be a string");
}

void addVersionRows(const std::string &name)
{
    const std::string supported = "; this implementation supports version 1";
    addRow(name, "/version", "removed", std::nullopt, "/version", "missing" + supported);
    addRow(name, "/version", "2", 2, "/version", "unsupported version 2" + supported);
    addRow(name, "/version", "0", 0, "/version", "unsupported version 0" + supported);
    addRow(name, "/version", "-1", -1, "/version", "unsupported version -1" + supported);
    addRow(name, "/version", "string", "1", "/version", "must be the integer 1" + supported);
    addRow(name, "/version", "float", 1.0, "/version", "must be the integer 1" + supported);
    addRow(name, "/version", "null", nullptr, "/version", "must be the integer 1" + supported);
}

} // namespace

class TestMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data()
    {
        QTest::addColumn<QByteArray>("name");
        for (const auto &[name, example] : examples())
            QTest::newRow(name.c_str()) << QByteArray::fromStdString(name);
    }

    // Each example parses, and its toJson is the example again (member for member), both from
    // JSON and from body text.
    void roundTrip()
    {
        QFETCH(QByteArray, name);
        const json body = fixture(name.toStdString());
        const Example &example = examples().at(name.toStdString());
        QCOMPARE(example.parse(body), body);
        QCOMPARE(example.parseText(body), body);
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("pointer");
        QTest::addColumn<QByteArray>("value"); // JSON text; empty: remove the member
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("message");
        for (const Field &field : fields())
            addGeneratedRows(field);
        addSpecificRows();
        for (const auto &[name, example] : examples())
            if (example.versioned)
                addVersionRows(name);
    }

    // One member of a valid example spoiled: the error names exactly that member.
    void rejects()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, pointer);
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, message);
        const Example &example = examples().at(name.toStdString());
        const json body = mutated(
            fixture(name.toStdString()), pointer.toStdString(),
            value.isEmpty() ? std::nullopt : std::optional(json::parse(value.toStdString())));
        QCOMPARE_REJECTION(example.parse(body), field.constData(), message.constData());
        QCOMPARE_REJECTION(example.parseText(body), field.constData(), message.constData());
    }

    void versionErrorsAreUnsupportedVersion()
    {
        // No structured bindings here: clang 14 cannot capture them in the lambda.
        for (const auto &entry : examples()) {
            const std::string &name = entry.first;
            const Example &example = entry.second;
            if (!example.versioned)
                continue;
            for (const std::optional<json> &version :
                 {std::optional<json>(), std::optional<json>(2), std::optional<json>("1")}) {
                const auto rejection = rejectionOf(
                    [&] { example.parse(mutated(fixture(name), "/version", version)); });
                QVERIFY2(rejection.thrown, name.c_str());
                QVERIFY2(rejection.kind == MessageError::Kind::UnsupportedVersion, name.c_str());
            }
        }
    }

    void nonObjectsAreRejected_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("text");
        for (const auto &[name, example] : examples())
            for (const char *text : {"[]", "null", "1", "\"{}\""})
                QTest::newRow((name + " " + text).c_str())
                    << QByteArray::fromStdString(name) << QByteArray(text);
    }

    void nonObjectsAreRejected()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, text);
        const Example &example = examples().at(name.toStdString());
        QCOMPARE_REJECTION(example.parse(json::parse(text.toStdString())), "",
                           "must be a JSON object");
    }

    // Forward compatibility: members a newer peer adds are ignored, and not written back.
    void unknownMembersAreIgnored()
    {
        for (const auto &[name, example] : examples()) {
            json body = fixture(name);
            body["future_member"] = {{"anything", json::array({1, "two"})}};
            if (body.contains("tpm"))
                body["tpm"]["future_evidence"] = "AAAA";
            if (body.contains("checks"))
                body["checks"][0]["severity"] = "high";
            QCOMPARE(example.parse(body), fixture(name));
        }
    }

    void optionalMembersMayBeAbsent()
    {
        json tpm = fixture("enrollment-request-tpm");
        tpm["tpm"].erase("ek_intermediates");
        QCOMPARE(EnrollmentRequest::fromJson(tpm).toJson(), tpm);
        tpm["tpm"].erase("ek_certificate");
        const EnrollmentRequest request = EnrollmentRequest::fromJson(tpm);
        QVERIFY(!request.tpm->ekCertificate);
        QVERIFY(request.tpm->ekIntermediates.empty());
        QCOMPARE(request.toJson(), tpm);

        json appraisal = fixture("appraisal");
        appraisal["checks"][1].erase("remediation");
        appraisal["checks"] = json::array({appraisal["checks"][1]});
        appraisal["pcrs"] = json::array();
        QCOMPARE(Appraisal::fromJson(appraisal).toJson(), appraisal);
    }

    void enrollmentRequestFields()
    {
        const EnrollmentRequest request =
            parseBody<EnrollmentRequest>(fixtureText("enrollment-request-tpm"));
        QCOMPARE(request.assurance, Assurance::Tpm);
        QCOMPARE(request.hostname, std::string("ws-042"));
        QCOMPARE(request.tpm->ekIntermediates.size(), std::size_t(1));
        QCOMPARE(request.tpm->deviceKeyCertify.signature.size(), std::size_t(24));
        const auto key = vigil::protocol::parseEcPublicJwk(request.deviceKey);
        QCOMPARE(base64UrlEncode(key.x),
                 std::string("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"));

        const EnrollmentRequest software =
            parseBody<EnrollmentRequest>(fixtureText("enrollment-request-software"));
        QCOMPARE(software.assurance, Assurance::Software);
        QVERIFY(!software.tpm);
    }

    // The JWK is kept as its RFC 7638 members only: the thumbprint input and nothing else.
    void deviceKeyIsNormalised()
    {
        json body = fixture("enrollment-request-software");
        body["device_key"]["kid"] = "laptop";
        body["device_key"]["use"] = "sig";
        body["device_key"]["x5c"] = json::array({"MIIB"});
        QCOMPARE(EnrollmentRequest::fromJson(body).toJson(),
                 fixture("enrollment-request-software"));
    }

    void appraisalFields()
    {
        const Appraisal appraisal = parseBody<Appraisal>(fixtureText("appraisal"));
        QCOMPARE(appraisal.verdict, Verdict::NonCompliant);
        QCOMPARE(appraisal.checks.size(), std::size_t(9));
        QCOMPARE(appraisal.checks[6].id, std::string("firewall"));
        QCOMPARE(appraisal.checks[6].status, CheckOutcome::Fail);
        QVERIFY(appraisal.checks[6].remediation.starts_with("Turn on a host firewall"));
        QCOMPARE(appraisal.checks[0].status, CheckOutcome::Pass);
        QCOMPARE(appraisal.checks[0].remediation, std::string());
        QCOMPARE(formatRfc3339(appraisal.nextReportAt), std::string("2026-11-24T16:20:01Z"));
        QCOMPARE(appraisal.pcrs, (std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7}));
        QCOMPARE(parseBody<Appraisal>(fixtureText("appraisal-compliant")).verdict,
                 Verdict::Compliant);
    }

    // The examples tell one story (docs/protocol.md): the same device, key, nonces, appraisal
    // and token throughout, and the signed ones (made by jwcrypto, generate.py) verify here.
    void examplesAreConsistent()
    {
        const auto request = EnrollmentRequest::fromJson(fixture("enrollment-request-tpm"));
        const auto complete = EnrollmentComplete::fromJson(fixture("enrollment-complete"));
        const auto compliant = Appraisal::fromJson(fixture("appraisal-compliant"));
        const auto whoAmI = WhoAmI::fromJson(fixture("whoami"));
        const auto jwks = Jwks::fromJson(fixture("jwks"));
        const auto token = TokenResponse::fromJson(fixture("token-response"));
        const std::string jkt = vigil::protocol::jwkThumbprint(
            vigil::protocol::parseEcPublicJwk(request.deviceKey));
        QCOMPARE(whoAmI.jkt, jkt);
        QCOMPARE(whoAmI.deviceId, complete.deviceId);
        QCOMPARE(jwks.keys.size(), std::size_t(1));
        QCOMPARE(jwks.keys[0].kid, vigil::protocol::jwkThumbprint(jwks.keys[0].key));

        const Jws report =
            parseJws(ReportRequest::fromJson(fixture("report-request")).report, limits::maxReport);
        QCOMPARE(report.header["kid"], json(complete.deviceId));
        QCOMPARE(json::parse(report.payload)["eat_nonce"], json(complete.nonce));

        const Jws accessToken = parseJws(token.accessToken, limits::maxAccessToken);
        QCOMPARE(accessToken.header["kid"], json(jwks.keys[0].kid));
        QVERIFY(verifyJws(accessToken, jwks.keys[0].key));
        JwtExpectations expect;
        expect.typ = "at+jwt";
        expect.issuer = "https://verifier.example.com:8443";
        expect.audience = "vigil";
        const json claims = validateJwt(accessToken, expect, *parseRfc3339("2026-11-24T16:06:33Z"));
        QCOMPARE(claims["sub"], json(complete.deviceId));
        QCOMPARE(claims["client_id"], json(complete.deviceId));
        QCOMPARE(claims["cnf"]["jkt"], json(jkt));
        QCOMPARE(claims["appraisal_id"], json(compliant.appraisalId));
        QCOMPARE(claims["exp"].get<long long>() - claims["iat"].get<long long>(),
                 token.expiresIn.count());
        QCOMPARE(claims["exp"], json(toNumericDate(whoAmI.tokenExpiresAt)));

        DpopValidator validator;
        const auto enrollmentProof =
            validator.validate(trimmed(fileText("dpop-enrollment.jws")), "POST",
                               "https://verifier.example.com:8443/v1/enrollments",
                               *parseRfc3339("2026-11-24T16:03:00Z"));
        QCOMPARE(enrollmentProof.jkt, jkt);
        const auto whoAmIProof =
            validator.validate(trimmed(fileText("dpop-whoami.jws")), "GET",
                               "https://verifier.example.com:8443/v1/whoami",
                               *parseRfc3339("2026-11-24T16:06:33Z"), token.accessToken);
        QCOMPARE(whoAmIProof.jkt, jkt);
    }

    // docs/protocol.md quotes the examples after "<!-- example: <file> -->": each quote must be
    // the file, so the documentation cannot drift from what the code reads and writes.
    void documentationQuotesTheExamples()
    {
        const std::string docs =
            fileText("../../../docs/protocol.md"); // tests/fixtures/protocol -> the root
        const std::string marker = "<!-- example: ";
        std::size_t quoted = 0;
        for (std::size_t at = docs.find(marker); at != std::string::npos;
             at = docs.find(marker, at + 1)) {
            const std::size_t nameEnd = docs.find(" -->", at);
            QVERIFY(nameEnd != std::string::npos);
            const std::string file = docs.substr(at + marker.size(), nameEnd - at - marker.size());
            const std::size_t open = docs.find("```json\n", nameEnd);
            QVERIFY2(open == nameEnd + 5, file.c_str()); // the block follows the marker
            const std::size_t close = docs.find("\n```", open + 8);
            QVERIFY(close != std::string::npos);
            const json quote = json::parse(docs.substr(open + 8, close - open - 8));
            QVERIFY2(quote == json::parse(fileText(file)), file.c_str());
            ++quoted;
        }
        QCOMPARE(quoted, std::size_t(26));
        QVERIFY(docs.find(trimmed(fileText("dpop-enrollment.jws"))) != std::string::npos);
    }

    void integersAtTheirLimitsAreAccepted()
    {
        json complete = fixture("enrollment-complete");
        for (const long long seconds : {1LL, 604800LL}) {
            complete["report_interval_seconds"] = seconds;
            QCOMPARE(EnrollmentComplete::fromJson(complete).reportInterval.count(), seconds);
        }
        complete["pcrs"] = {23, 0};
        QCOMPARE(EnrollmentComplete::fromJson(complete).pcrs, (std::vector<unsigned>{23, 0}));
        json token = fixture("token-response");
        token["expires_in"] = 600;
        QCOMPARE(TokenResponse::fromJson(token).expiresIn.count(), 600LL);
        // RFC 6749 section 5.1: the token type is case-insensitive.
        for (const char *type : {"dpop", "DPOP"}) {
            token["token_type"] = type;
            QCOMPARE(TokenResponse::fromJson(token).expiresIn.count(), 600LL);
        }
        json nonce = fixture("nonce-response");
        nonce["nonce"] = encoded(55);
        QCOMPARE(NonceResponse::fromJson(nonce).nonce, encoded(55));
    }

    // Times are written in whole seconds; a sub-second time is floored.
    void timesAreWrittenInSeconds()
    {
        EnrollmentChallenge challenge =
            EnrollmentChallenge::fromJson(fixture("enrollment-challenge"));
        challenge.expiresAt += std::chrono::milliseconds(999);
        QCOMPARE(challenge.toJson(), fixture("enrollment-challenge"));
    }

    void jwksSkipsKeysForOtherUses()
    {
        json jwks = fixture("jwks");
        const json ecKey = jwks["keys"][0];
        json rsa = {{"kty", "RSA"}, {"n", "0vx7"}, {"e", "AQAB"}, {"kid", "rsa"}};
        json p384 = ecKey;
        p384["crv"] = "P-384";
        json encryption = ecKey;
        encryption["use"] = "enc";
        json es512 = ecKey;
        es512["alg"] = "ES512";
        jwks["keys"] = {rsa, p384, ecKey, encryption, es512};
        const Jwks parsed = Jwks::fromJson(jwks);
        QCOMPARE(parsed.keys.size(), std::size_t(1));
        QCOMPARE(parsed.keys[0].kid, std::string("cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"));
        QCOMPARE(parsed.toJson(), fixture("jwks"));

        json noAlgNoUse = ecKey;
        noAlgNoUse.erase("alg");
        noAlgNoUse.erase("use");
        QCOMPARE(Jwks::fromJson(json{{"keys", {noAlgNoUse}}}).keys.size(), std::size_t(1));
        QCOMPARE(Jwks::fromJson(json{{"keys", json::array()}}).keys.size(), std::size_t(0));
    }

    void parseBodyRejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("empty") << QByteArray("") << QByteArray("body is not valid UTF-8 JSON");
        QTest::newRow("truncated")
            << QByteArray("{\"version\":") << QByteArray("body is not valid UTF-8 JSON");
        QTest::newRow("trailing text")
            << QByteArray("{\"version\":1} x") << QByteArray("body is not valid UTF-8 JSON");
        QTest::newRow("two documents")
            << QByteArray("{\"version\":1}{}") << QByteArray("body is not valid UTF-8 JSON");
        QTest::newRow("invalid UTF-8") << QByteArray("{\"version\":1,\"h\":\"\xff\"}")
                                       << QByteArray("body is not valid UTF-8 JSON");
        QTest::newRow("comment") << QByteArray("{\"version\":1 /* c */}")
                                 << QByteArray("body is not valid UTF-8 JSON");
        QTest::newRow("byte order mark") << QByteArray("\xEF\xBB\xBF{\"version\":1}")
                                         << QByteArray("body starts with a byte order mark");
        QTest::newRow("array") << QByteArray("[{\"version\":1}]")
                               << QByteArray("body is not a JSON object");
        QTest::newRow("number") << QByteArray("1") << QByteArray("body is not a JSON object");
        QTest::newRow("duplicate member")
            << QByteArray("{\"version\":1,\"version\":2}")
            << QByteArray("body has the member name \"version\" more than once");
        QTest::newRow("nested duplicate")
            << QByteArray("{\"version\":1,\"a\":[{\"k\":1,\"k\":1}]}")
            << QByteArray("body has the member name \"k\" more than once");
        QByteArray deep = "{\"version\":1,\"a\":";
        for (int i = 0; i < 40; ++i)
            deep += "[";
        for (int i = 0; i < 40; ++i)
            deep += "]";
        deep += "}";
        QTest::newRow("deep") << deep << QByteArray("body nests deeper than 32 levels");
    }

    void parseBodyRejects()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, message);
        const std::string body = text.toStdString();
        QCOMPARE_REJECTION(parseBody<NonceRequest>(body), "", message.constData());
        QVERIFY(rejectionOf([&] { parseBody<NonceRequest>(body); }).kind ==
                MessageError::Kind::Malformed);
    }

    void parseBodyEnforcesTheSizeLimit()
    {
        const std::string body = "{\"version\":1}";
        QCOMPARE(parseBody<NonceRequest>(body, body.size()).toJson(), fixture("nonce-request"));
        QCOMPARE_REJECTION(parseBody<NonceRequest>(body, body.size() - 1), "",
                           "body is larger than 12 bytes");
        QVERIFY(rejectionOf([&] { parseBody<NonceRequest>(body, 12); }).kind ==
                MessageError::Kind::TooLarge);
        const std::string large(limits::maxBodySize + 1, ' ');
        QCOMPARE_REJECTION(parseBody<NonceRequest>(large), "", "body is larger than 1048576 bytes");
    }

    // A 1 MiB body of the largest members still parses: the caps fit inside the body limit.
    void largestReportFitsTheBodyLimit()
    {
        ReportRequest request;
        request.report = std::string(limits::maxReport, 'a');
        const std::string body = request.toJson().dump();
        QVERIFY(body.size() <= limits::maxBodySize);
        QCOMPARE(parseBody<ReportRequest>(body).report.size(), limits::maxReport);
    }

    void messageErrorsBecomeProblems()
    {
        const auto problemOf = [](const json &body) {
            try {
                EnrollmentChallenge::fromJson(body);
            } catch (const MessageError &e) {
                return problemFor(e);
            }
            return Problem{};
        };
        const Problem malformed = problemOf(
            mutated(fixture("enrollment-challenge"), "/credential/credential_blob", "A=="));
        QCOMPARE(malformed.status, 400);
        QCOMPARE(malformed.code, std::string("malformed_request"));
        QCOMPARE(malformed.field, std::string("/credential/credential_blob"));
        QCOMPARE(malformed.detail,
                 std::string("/credential/credential_blob: not base64url without padding"));
        const Problem version = problemOf(mutated(fixture("enrollment-challenge"), "/version", 7));
        QCOMPARE(version.status, 400);
        QCOMPARE(version.code, std::string("unsupported_version"));
        QCOMPARE(version.field, std::string("/version"));
    }
};

QTEST_APPLESS_MAIN(TestMessages)
#include "tst_messages.moc"
