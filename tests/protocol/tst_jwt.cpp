#include "independentpython.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jwt.h"
#include "protocol/jose/softwaredevicekey.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>

using namespace vigil::protocol;
using namespace std::chrono_literals;
using vigil::test::runPython;
using vigil::test::thrownMessage;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::int64_t t0 = 1795000000;
const Clock::time_point now{std::chrono::seconds(t0)};
constexpr char issuer[] = "https://verifier.example";

JwtExpectations accessToken()
{
    JwtExpectations expect;
    expect.typ = "at+jwt";
    expect.issuer = issuer;
    expect.audience = "vigil";
    return expect;
}

nlohmann::json goodClaims()
{
    return {{"iss", issuer},  {"sub", "device"}, {"aud", "vigil"}, {"jti", "j-1"},
            {"iat", t0 - 10}, {"nbf", t0 - 10},  {"exp", t0 + 300}};
}

// JwtError's claim and message, or a marker saying what happened instead.
QByteArray jwtFailure(const std::function<void()> &f)
{
    try {
        f();
    } catch (const JwtError &e) {
        return QByteArray::fromStdString(e.claim()) + ": " + e.what();
    } catch (const std::exception &e) {
        return "<other exception: " + QByteArray(e.what()) + ">";
    }
    return "<no exception>";
}

// Validates our JWT with jwcrypto's JWT class (signature, iss, aud, exp, nbf) and checks typ.
constexpr char jwcryptoValidate[] = R"PY(
import json, sys
from jwcrypto import jwk, jwt
data = json.loads(sys.stdin.read())
token = jwt.JWT(jwt=data['token'], key=jwk.JWK(**data['jwk']), algs=['ES256'],
                check_claims={'iss': data['iss'], 'aud': data['aud'], 'exp': None, 'nbf': None})
header = json.loads(token.header)
if header.get('typ') != 'at+jwt':
    sys.exit('typ is ' + repr(header.get('typ')))
print(json.dumps({'header': header, 'claims': json.loads(token.claims)}))
)PY";

// A JWT from jwcrypto with its own fresh P-256 key: argv[1] = now, argv[2] = lifetime.
constexpr char jwcryptoIssue[] = R"PY(
import json, sys
from jwcrypto import jwk, jwt
key = jwk.JWK.generate(kty='EC', crv='P-256')
now = int(sys.argv[1])
claims = {'iss': 'https://verifier.example', 'sub': 'device', 'aud': ['other', 'vigil'],
          'iat': now, 'nbf': now, 'exp': now + int(sys.argv[2]), 'jti': 'py-1'}
token = jwt.JWT(header={'alg': 'ES256', 'typ': 'at+jwt', 'kid': 'py'}, claims=claims)
token.make_signed_token(key)
print(json.dumps({'jwk': key.export_public(as_dict=True), 'token': token.serialize(),
                  'claims': claims}))
)PY";

} // namespace

class TestJwt : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SoftwareDeviceKey> m_key;

    Jws token(const std::string &claimsText, const nlohmann::json &header = {{"typ", "at+jwt"}})
    {
        return parseJws(signJws(header, claimsText, *m_key));
    }

    Jws token(const nlohmann::json &claims) { return token(claims.dump()); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_key =
            SoftwareDeviceKey::create(m_dir.filePath(QStringLiteral("issuer.pem")).toStdString());
    }

    void validTokenReturnsItsClaims()
    {
        const Jws jws = token(goodClaims());
        QVERIFY(verifyJws(jws, m_key->publicKey()));
        QCOMPARE(validateJwt(jws, accessToken(), now), goodClaims());
    }

    void invalidClaims_data()
    {
        QTest::addColumn<QByteArray>("claims"); // JSON merged over goodClaims(); null removes
        QTest::addColumn<QByteArray>("failure");
        auto row = [](const char *name, const char *patch, const char *failure) {
            QTest::newRow(name) << QByteArray(patch) << QByteArray(failure);
        };
        const char *notDate =
            "JWT \"exp\" is not a NumericDate (a number of seconds from 0 to 2^53)";
        // now = t0 = 1795000000, leeway 30 s.
        row("expired", R"({"exp":1794990000})", "exp: JWT has expired (\"exp\")");
        row("expired exactly at exp + leeway", R"({"exp":1794999970})",
            "exp: JWT has expired (\"exp\")");
        row("expired, fractional", R"({"exp":1794999969.999})", "exp: JWT has expired (\"exp\")");
        row("exp missing", R"({"exp":null})", "exp: JWT has no \"exp\" claim");
        for (const char *bad :
             {R"({"exp":"1795000300"})", R"({"exp":true})", R"({"exp":[1795000300]})",
              R"({"exp":{}})", R"({"exp":-1})", R"({"exp":-0.5})", R"({"exp":9007199254740993})",
              R"({"exp":18446744073709551615})", R"({"exp":1e300})"})
            QTest::newRow(bad) << QByteArray(bad) << QByteArray("exp: ") + notDate;
        row("nbf in the future", R"({"nbf":1795000031})", "nbf: JWT is not valid yet (\"nbf\")");
        row("nbf string", R"({"nbf":"0"})",
            "nbf: JWT \"nbf\" is not a NumericDate (a number of seconds from 0 to 2^53)");
        row("iat in the future", R"({"iat":1795000031})", "iat: JWT \"iat\" is in the future");
        row("iat bool", R"({"iat":false})",
            "iat: JWT \"iat\" is not a NumericDate (a number of seconds from 0 to 2^53)");
        row("wrong iss", "{\"iss\":\"https://evil.example\"}",
            "iss: JWT issuer (\"iss\") is not the expected one");
        row("iss differs in case", "{\"iss\":\"https://Verifier.example\"}",
            "iss: JWT issuer (\"iss\") is not the expected one");
        row("iss missing", R"({"iss":null})", "iss: JWT has no \"iss\" claim");
        row("iss not a string", "{\"iss\":[\"https://verifier.example\"]}",
            "iss: JWT \"iss\" is not a string");
        row("wrong aud", R"({"aud":"other"})",
            "aud: JWT audience (\"aud\") does not include the expected one");
        row("aud array without us", R"({"aud":["a","b"]})",
            "aud: JWT audience (\"aud\") does not include the expected one");
        row("aud empty array", R"({"aud":[]})",
            "aud: JWT audience (\"aud\") does not include the expected one");
        row("aud array with a non-string", R"({"aud":["vigil",1]})",
            "aud: JWT \"aud\" is not a string or an array of strings");
        row("aud number", R"({"aud":7})",
            "aud: JWT \"aud\" is not a string or an array of strings");
        row("aud missing", R"({"aud":null})", "aud: JWT has no \"aud\" claim");
        row("sub not a string", R"({"sub":1})", "sub: JWT \"sub\" is not a string");
        row("jti not a string", R"({"jti":{}})", "jti: JWT \"jti\" is not a string");
    }

    void invalidClaims()
    {
        QFETCH(QByteArray, claims);
        QFETCH(QByteArray, failure);
        nlohmann::json merged = goodClaims();
        merged.merge_patch(nlohmann::json::parse(claims.toStdString()));
        const Jws jws = token(merged);
        QCOMPARE(jwtFailure([&] { validateJwt(jws, accessToken(), now); }), failure);
    }

    void malformedClaimSets_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<QByteArray>("failure");
        QTest::newRow("array") << QByteArray("[]")
                               << QByteArray(": JWT claim set is not a JSON object");
        QTest::newRow("not JSON") << QByteArray("exp=1")
                                  << QByteArray(": JWT claim set is not valid UTF-8 JSON");
        QTest::newRow("empty") << QByteArray()
                               << QByteArray(": JWT claim set is not valid UTF-8 JSON");
        QTest::newRow("duplicate exp")
            << QByteArray("{\"exp\":1,\"iss\":\"https://verifier.example\",\"exp\":1795000300}")
            << QByteArray(": JWT claim set has the member name \"exp\" more than once");
        QTest::newRow("too deep") << QByteArray("{\"x\":" + QByteArray(40, '[') +
                                                QByteArray(40, ']') + "}")
                                  << QByteArray(": JWT claim set nests deeper than 32 levels");
    }

    void malformedClaimSets()
    {
        QFETCH(QByteArray, payload);
        QFETCH(QByteArray, failure);
        const Jws jws = token(payload.toStdString());
        QCOMPARE(jwtFailure([&] { validateJwt(jws, accessToken(), now); }), failure);
    }

    void boundariesAreInclusiveWhereRfc7519Says()
    {
        nlohmann::json claims = goodClaims();
        claims["exp"] = t0 - 29; // now < exp + leeway
        claims["nbf"] = t0 + 30; // now >= nbf - leeway
        claims["iat"] = t0 + 30; // not after now + leeway
        QCOMPARE(validateJwt(token(claims), accessToken(), now), claims);
        claims["exp"] = 1795000300.25; // non-integer NumericDates are valid
        claims["nbf"] = 1794999999.5;
        QCOMPARE(validateJwt(token(claims), accessToken(), now), claims);
        claims["exp"] = 9007199254740992LL; // 2^53
        QCOMPARE(validateJwt(token(claims), accessToken(), now), claims);
    }

    void fractionalNow()
    {
        JwtExpectations expect = accessToken();
        expect.leeway = 0s;
        nlohmann::json claims = goodClaims();
        claims["exp"] = 1795000000.5;
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now + 500ms); }),
                 QByteArray("exp: JWT has expired (\"exp\")"));
        QCOMPARE(validateJwt(token(claims), expect, now + 499ms), claims);
    }

    void leewayIsClampedTo300Seconds()
    {
        JwtExpectations expect = accessToken();
        expect.leeway = 3600s;
        nlohmann::json claims = goodClaims();
        claims["exp"] = t0 - 299;
        QCOMPARE(validateJwt(token(claims), expect, now), claims);
        claims["exp"] = t0 - 300;
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now); }),
                 QByteArray("exp: JWT has expired (\"exp\")"));
        claims = goodClaims();
        claims["nbf"] = t0 + 301;
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now); }),
                 QByteArray("nbf: JWT is not valid yet (\"nbf\")"));
        claims["nbf"] = t0 + 300;
        QCOMPARE(validateJwt(token(claims), expect, now), claims);

        // A negative leeway is none.
        expect.leeway = -100s;
        claims = goodClaims();
        claims["exp"] = t0;
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now); }),
                 QByteArray("exp: JWT has expired (\"exp\")"));
        claims["exp"] = t0 + 1;
        QCOMPARE(validateJwt(token(claims), expect, now), claims);
    }

    void maxAge()
    {
        JwtExpectations expect = accessToken();
        expect.maxAge = 600s;
        nlohmann::json claims = goodClaims();
        claims["iat"] = t0 - 630; // now - maxAge - leeway
        QCOMPARE(validateJwt(token(claims), expect, now), claims);
        claims["iat"] = t0 - 631;
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now); }),
                 QByteArray("iat: JWT is older than its maximum age (\"iat\")"));
        claims.erase("iat");
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now); }),
                 QByteArray("iat: JWT has no \"iat\" claim"));
        // Without maxAge, iat is optional.
        QCOMPARE(validateJwt(token(claims), accessToken(), now), claims);
    }

    void expOptionalWhenNotRequired()
    {
        JwtExpectations expect = accessToken();
        expect.requireExp = false;
        nlohmann::json claims = goodClaims();
        claims.erase("exp");
        QCOMPARE(validateJwt(token(claims), expect, now), claims);
        claims["exp"] = "soon"; // still checked when present
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), expect, now); }),
                 QByteArray("exp: JWT \"exp\" is not a NumericDate (a number of seconds from 0 to "
                            "2^53)"));
    }

    void audienceArrayAndUnexpectedAudience()
    {
        nlohmann::json claims = goodClaims();
        claims["aud"] = {"other", "vigil"};
        QCOMPARE(validateJwt(token(claims), accessToken(), now), claims);

        // RFC 7519 4.1.3: a token addressed to someone is refused by a caller naming no one.
        JwtExpectations noAudience = accessToken();
        noAudience.audience.reset();
        QCOMPARE(jwtFailure([&] { validateJwt(token(claims), noAudience, now); }),
                 QByteArray("aud: JWT has an \"aud\" claim but no audience is expected here"));
        claims.erase("aud");
        QCOMPARE(validateJwt(token(claims), noAudience, now), claims);

        // Without an expected issuer any string iss passes.
        JwtExpectations noIssuer = noAudience;
        noIssuer.issuer.reset();
        claims["iss"] = "anyone";
        QCOMPARE(validateJwt(token(claims), noIssuer, now), claims);
    }

    void typComparison_data()
    {
        QTest::addColumn<QByteArray>("typ"); // empty: no typ member
        QTest::addColumn<QByteArray>("failure");
        const QByteArray ok;
        QTest::newRow("exact") << QByteArray("at+jwt") << ok;
        QTest::newRow("upper case") << QByteArray("AT+JWT") << ok;
        QTest::newRow("application/ prefix") << QByteArray("application/at+jwt") << ok;
        QTest::newRow("mixed-case prefix") << QByteArray("Application/At+Jwt") << ok;
        const QByteArray mismatch("typ: JWT header \"typ\" is not \"at+jwt\"");
        QTest::newRow("JWT") << QByteArray("JWT") << mismatch;
        QTest::newRow("other type") << QByteArray("dpop+jwt") << mismatch;
        QTest::newRow("other top-level type") << QByteArray("text/at+jwt") << mismatch;
        QTest::newRow("suffix") << QByteArray("at+jwt2") << mismatch;
        QTest::newRow("parameter") << QByteArray("at+jwt;v=1") << mismatch;
        QTest::newRow("missing") << QByteArray()
                                 << QByteArray(
                                        "typ: JWT header has no \"typ\"; expected \"at+jwt\"");
    }

    void typComparison()
    {
        QFETCH(QByteArray, typ);
        QFETCH(QByteArray, failure);
        nlohmann::json header = nlohmann::json::object();
        if (!typ.isEmpty())
            header["typ"] = typ.toStdString();
        const Jws jws = token(goodClaims().dump(), header);
        if (failure.isEmpty())
            QCOMPARE(validateJwt(jws, accessToken(), now), goodClaims());
        else
            QCOMPARE(jwtFailure([&] { validateJwt(jws, accessToken(), now); }), failure);
    }

    void emptyExpectedTypSkipsTheCheck()
    {
        JwtExpectations expect = accessToken();
        expect.typ.clear();
        QCOMPARE(validateJwt(token(goodClaims().dump(), nlohmann::json::object()), expect, now),
                 goodClaims());
        QCOMPARE(validateJwt(token(goodClaims().dump(), {{"typ", "whatever"}}), expect, now),
                 goodClaims());
    }

    void typMatchesHelper()
    {
        QVERIFY(typMatches("dpop+jwt", "DPoP+JWT"));
        QVERIFY(typMatches("application/dpop+jwt", "dpop+jwt"));
        QVERIFY(typMatches("dpop+jwt", "application/dpop+jwt"));
        QVERIFY(!typMatches("application/dpop+jwt", "text/dpop+jwt"));
        QVERIFY(!typMatches("", "dpop+jwt"));
    }

    // Values no JSON text can carry, reaching numericDate from a json built in code.
    void numericDateRefusesNonFinite()
    {
        for (double value :
             {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
              -std::numeric_limits<double>::infinity()})
            QCOMPARE(jwtFailure([&] { numericDate(nlohmann::json(value), "exp"); }),
                     QByteArray("exp: JWT \"exp\" is not a NumericDate (a number of seconds from 0 "
                                "to 2^53)"));
        QCOMPARE(numericDate(nlohmann::json(0), "iat"), 0.0);
        QCOMPARE(numericDate(nlohmann::json(-0.0), "iat"), 0.0);
        QCOMPARE(numericDate(nlohmann::json(1795000000.25), "iat"), 1795000000.25);
    }

    // Independent implementation: our JWT passes jwcrypto's JWT validation (signature, iss, aud,
    // exp, nbf against the real clock) with the public JWK, and its typ is at+jwt.
    void ourJwtValidatesInJwcrypto()
    {
        const auto realNow =
            std::chrono::floor<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
        nlohmann::json claims = goodClaims();
        claims["iat"] = realNow;
        claims["nbf"] = realNow;
        claims["exp"] = realNow + 300;
        const std::string jwt =
            signJws({{"typ", "at+jwt"}, {"kid", m_key->thumbprint()}}, claims.dump(), *m_key);
        nlohmann::json input{
            {"token", jwt}, {"jwk", m_key->publicJwk()}, {"iss", issuer}, {"aud", "vigil"}};
        QByteArray output, error;
        QVERIFY2(
            runPython(jwcryptoValidate, QByteArray::fromStdString(input.dump()), output, error),
            error.constData());
        const auto result = nlohmann::json::parse(output.toStdString());
        QCOMPARE(result["claims"], claims);
        QCOMPARE(
            result["header"],
            nlohmann::json({{"alg", "ES256"}, {"kid", m_key->thumbprint()}, {"typ", "at+jwt"}}));

        // jwcrypto's checks are real: wrong issuer and an expired token are refused there too.
        input["iss"] = "https://evil.example";
        QVERIFY(
            !runPython(jwcryptoValidate, QByteArray::fromStdString(input.dump()), output, error));
        QVERIFY2(error.contains("iss"), error.constData());
        input["iss"] = issuer;
        claims["exp"] = realNow - 3600;
        claims["nbf"] = realNow - 7200;
        input["token"] = signJws({{"typ", "at+jwt"}}, claims.dump(), *m_key);
        QVERIFY(
            !runPython(jwcryptoValidate, QByteArray::fromStdString(input.dump()), output, error));
        QVERIFY2(error.contains("xpired"), error.constData());
    }

    // Independent implementation: a JWT jwcrypto signs with its own P-256 key validates here.
    void jwcryptoJwtValidatesHere()
    {
        QByteArray output, error;
        QVERIFY2(runPython(jwcryptoIssue, {QString::number(t0), QStringLiteral("300")}, {}, output,
                           error),
                 error.constData());
        auto result = nlohmann::json::parse(output.toStdString());
        const EcPublicKey key = parseEcPublicJwk(result["jwk"]);
        const Jws jws = parseJws(result["token"].get<std::string>());
        QVERIFY(verifyJws(jws, key));
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
        QCOMPARE(jws.header, nlohmann::json({{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", "py"}}));
        QCOMPARE(validateJwt(jws, accessToken(), now + 10s), result["claims"]);
        QCOMPARE(jwtFailure([&] { validateJwt(jws, accessToken(), now + 330s); }),
                 QByteArray("exp: JWT has expired (\"exp\")"));
        QCOMPARE(jwtFailure([&] { validateJwt(jws, accessToken(), now - 31s); }),
                 QByteArray("nbf: JWT is not valid yet (\"nbf\")"));
    }
};

QTEST_APPLESS_MAIN(TestJwt)
#include "tst_jwt.moc"
