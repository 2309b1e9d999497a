#include "independentpython.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocoltesthelpers.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>

using vigil::Bytes;
using vigil::base64UrlEncode;
using vigil::base64UrlDecode;
using namespace vigil::protocol;
using namespace std::chrono_literals;
using vigil::protocol::test::enc;
using vigil::protocol::test::split;
using vigil::test::runPython;
using vigil::test::thrownMessage;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::int64_t t0 = 1795000000;
const Clock::time_point now{std::chrono::seconds(t0)};
constexpr char htu[] = "https://verifier.example/v1/tokens";
constexpr char accessToken[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkZXZpY2UifQ.sig";
constexpr char serverNonce[] = "eyJ7S_zG.eyJH0-Z.HX4w-7v";

nlohmann::json claimsFor(const std::string &jti, std::int64_t iat = t0)
{
    return {{"jti", jti}, {"htm", "POST"}, {"htu", htu}, {"iat", iat}};
}

// DpopError's code and message, or a marker saying what happened instead.
QByteArray dpopFailure(const std::function<void()> &f)
{
    try {
        f();
    } catch (const DpopError &e) {
        return QByteArray(e.code().data(), qsizetype(e.code().size())) + ": " + e.what();
    } catch (const std::exception &e) {
        return "<other exception: " + QByteArray(e.what()) + ">";
    }
    return "<no exception>";
}

// Verifies our proof as a DPoP server would with jwcrypto: the key is the header's jwk.
// Computes ath and the RFC 7638 thumbprint independently.
constexpr char jwcryptoCheckProof[] = R"PY(
import base64, hashlib, json, sys
from jwcrypto import jwk, jws
data = json.loads(sys.stdin.read())
token = jws.JWS()
token.deserialize(data['proof'])
header = token.jose_header
if header.get('typ') != 'dpop+jwt':
    sys.exit('typ is ' + repr(header.get('typ')))
if header.get('alg') != 'ES256' or 'd' in header['jwk']:
    sys.exit('bad alg or private jwk')
key = jwk.JWK(**header['jwk'])
token.verify(key, alg='ES256')
digest = hashlib.sha256(data['access_token'].encode('ascii')).digest()
ath = base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')
print(json.dumps({'claims': json.loads(token.payload), 'ath': ath, 'jkt': key.thumbprint()}))
)PY";

// A DPoP proof made by jwcrypto with a fresh P-256 key, the jwk in its header.
// argv: iat, access token, htu, nonce.
constexpr char jwcryptoMakeProof[] = R"PY(
import base64, hashlib, json, sys
from jwcrypto import jwk, jwt
key = jwk.JWK.generate(kty='EC', crv='P-256')
digest = hashlib.sha256(sys.argv[2].encode('ascii')).digest()
claims = {'jti': 'py-jti-1', 'htm': 'POST', 'htu': sys.argv[3], 'iat': int(sys.argv[1]),
          'ath': base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii'),
          'nonce': sys.argv[4]}
header = {'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': key.export_public(as_dict=True)}
token = jwt.JWT(header=header, claims=claims)
token.make_signed_token(key)
print(json.dumps({'proof': token.serialize(), 'jkt': key.thumbprint(),
                  'jwk': key.export_public(as_dict=True)}))
)PY";

} // namespace

class TestDpop : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SoftwareDeviceKey> m_key;
    std::unique_ptr<SoftwareDeviceKey> m_otherKey;

    nlohmann::json headerFor(const DeviceKey &key) const
    {
        return {{"typ", "dpop+jwt"}, {"jwk", key.publicJwk()}};
    }

    std::string proof(const nlohmann::json &claims) const
    {
        return signJws(headerFor(*m_key), claims.dump(), *m_key);
    }

    std::string proof(const nlohmann::json &header, const nlohmann::json &claims) const
    {
        return signJws(header, claims.dump(), *m_key);
    }

    std::string created(const std::string &jti = {}, std::optional<std::string> token = {},
                        std::optional<std::string> nonce = {}) const
    {
        return createDpopProof(*m_key, DpopProofRequest{"POST", htu, now, jti, token, nonce});
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_key =
            SoftwareDeviceKey::create(m_dir.filePath(QStringLiteral("device.pem")).toStdString());
        m_otherKey =
            SoftwareDeviceKey::create(m_dir.filePath(QStringLiteral("other.pem")).toStdString());
    }

    void createdProofHasTheRfc9449Shape()
    {
        const std::string compact = created({}, std::string(accessToken), std::string(serverNonce));
        const Jws jws = parseJws(compact);
        QCOMPARE(
            jws.header,
            nlohmann::json({{"alg", "ES256"}, {"jwk", m_key->publicJwk()}, {"typ", "dpop+jwt"}}));
        const auto claims = nlohmann::json::parse(jws.payload);
        QCOMPARE(claims.size(), std::size_t(6));
        QCOMPARE(base64UrlDecode(claims["jti"].get<std::string>()).value().size(), std::size_t(16));
        QCOMPARE(claims["htm"], "POST");
        QCOMPARE(claims["htu"], htu);
        QCOMPARE(claims["iat"], t0);
        QVERIFY(claims["iat"].is_number_integer());
        QCOMPARE(claims["ath"], accessTokenHash(accessToken));
        QCOMPARE(claims["nonce"], serverNonce);
        QVERIFY(verifyJws(jws, m_key->publicKey()));

        DpopValidator validator;
        const ValidatedDpop result = validator.validate(
            compact, "POST", htu, now, std::string(accessToken), std::string(serverNonce));
        QCOMPARE(result.key.x, m_key->publicKey().x);
        QCOMPARE(result.key.y, m_key->publicKey().y);
        QCOMPARE(result.jkt, m_key->thumbprint());
        QCOMPARE(result.jti, claims["jti"].get<std::string>());
    }

    void minimalProofHasNoAthOrNonce()
    {
        const auto claims = nlohmann::json::parse(parseJws(created("jti-1")).payload);
        QCOMPARE(claims,
                 nlohmann::json({{"jti", "jti-1"}, {"htm", "POST"}, {"htu", htu}, {"iat", t0}}));
        QVERIFY(nlohmann::json::parse(parseJws(created()).payload)["jti"] !=
                nlohmann::json::parse(parseJws(created()).payload)["jti"]);
    }

    void createdProofNormalisesHtu()
    {
        const std::string compact = createDpopProof(
            *m_key, {"GET", "HTTPS://Verifier.Example:443/v1/whoami?x=1#f", now, "j", {}, {}});
        QCOMPARE(nlohmann::json::parse(parseJws(compact).payload)["htu"],
                 "https://verifier.example/v1/whoami");
    }

    void createRefusesBadRequests()
    {
        QCOMPARE(thrownMessage<JoseError>([&] {
                     createDpopProof(*m_key, {"", htu, now, {}, {}, {}});
                 }),
                 QByteArray("DPoP proof needs an HTTP method (htm)"));
        QCOMPARE(thrownMessage<JoseError>([&] {
                     createDpopProof(*m_key, {"GET", "/v1/whoami", now, {}, {}, {}});
                 }),
                 QByteArray("URI has no scheme"));
        QCOMPARE(thrownMessage<JoseError>([&] {
                     createDpopProof(*m_key, {"GET", htu, now, std::string(257, 'j'), {}, {}});
                 }),
                 QByteArray("DPoP proof \"jti\" must be 1 to 256 bytes"));
    }

    // RFC 9449 section 7.1: the example access token and its ath.
    void athKnownAnswer()
    {
        QCOMPARE(accessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
                 std::string("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"));
    }

    void invalidProofs_data()
    {
        QTest::addColumn<QByteArray>("proof");
        QTest::addColumn<QByteArray>("failure");
        auto row = [](const char *name, const std::string &compact, const std::string &failure) {
            QTest::newRow(name) << QByteArray::fromStdString(compact)
                                << QByteArray::fromStdString("invalid_dpop_proof: " + failure);
        };
        const nlohmann::json good = claimsFor("j-1");
        const nlohmann::json header = headerFor(*m_key);
        auto withHeader = [&](const nlohmann::json &patch) {
            nlohmann::json h = header;
            h.merge_patch(patch);
            return h;
        };
        auto withClaims = [&](const nlohmann::json &patch) {
            nlohmann::json c = good;
            c.merge_patch(patch);
            return c;
        };
        const auto parts = split(proof(good));

        // The JWS itself.
        row("alg none", enc(withHeader({{"alg", "none"}}).dump()) + "." + parts[1] + ".",
            "DPoP proof: JWS algorithm \"none\" is not accepted; only \"ES256\" is");
        row("HS256", enc(withHeader({{"alg", "HS256"}}).dump()) + "." + parts[1] + "." + parts[2],
            "DPoP proof: JWS algorithm \"HS256\" is not accepted; only \"ES256\" is");
        row("2 parts", parts[0] + "." + parts[1],
            "DPoP proof: JWS compact serialisation must have exactly 3 parts separated by '.'");
        row("4 parts", proof(good) + ".x",
            "DPoP proof: JWS compact serialisation must have exactly 3 parts separated by '.'");
        row("bad base64url", parts[0] + "." + parts[1] + "=." + parts[2],
            "DPoP proof: JWS payload is not unpadded base64url");
        const Bytes der = ecdsaRawToDer(*base64UrlDecode(parts[2]));
        row("DER signature", parts[0] + "." + parts[1] + "." + base64UrlEncode(der),
            "DPoP proof: JWS signature is " + std::to_string(der.size()) +
                " bytes; ES256 needs 64 bytes r||s");
        const std::string big = proof(withClaims({{"pad", std::string(8192, 'p')}}));
        row("oversize", big,
            "DPoP proof: JWS is " + std::to_string(big.size()) + " bytes; the limit is 8192");

        // The header.
        row("typ missing", proof({{"jwk", m_key->publicJwk()}}, good),
            "DPoP proof header has no \"typ\"");
        row("typ JWT", proof(withHeader({{"typ", "JWT"}}), good),
            "DPoP proof header \"typ\" is not \"dpop+jwt\"");
        row("typ at+jwt", proof(withHeader({{"typ", "at+jwt"}}), good),
            "DPoP proof header \"typ\" is not \"dpop+jwt\"");
        row("jwk missing", proof({{"typ", "dpop+jwt"}}, good), "DPoP proof header has no \"jwk\"");
        row("jwk with d",
            proof(withHeader({{"jwk", {{"d", enc("secret-ish-32-bytes-of-scalar!!")}}}}), good),
            "DPoP proof header \"jwk\": JWK contains the private key member \"d\"; a public JWK "
            "must not");
        row("jwk on P-384",
            proof(withHeader({{"jwk",
                               {{"crv", "P-384"},
                                {"x", base64UrlEncode(Bytes(48, 1))},
                                {"y", base64UrlEncode(Bytes(48, 2))}}}}),
                  good),
            "DPoP proof header \"jwk\": JWK curve (\"crv\") is not \"P-256\"");
        row("jwk RSA",
            proof(withHeader({{"jwk", {{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}}}}), good),
            "DPoP proof header \"jwk\": JWK key type (\"kty\") is not \"EC\"");
        row("jwk a string", proof(withHeader({{"jwk", "thumbprint"}}), good),
            "DPoP proof header \"jwk\": JWK is not a JSON object");
        row("jwk off the curve",
            proof(withHeader({{"jwk", {{"y", m_key->publicJwk()["x"]}}}}), good),
            "DPoP proof header \"jwk\": JWK \"x\" and \"y\" are not a point on P-256");
        // Signed by this device's key but naming another key: the proof proves nothing.
        row("signed by a key other than its jwk",
            signJws(headerFor(*m_otherKey), good.dump(), *m_key),
            "DPoP proof signature does not verify with its \"jwk\"");
        row("tampered payload",
            parts[0] + "." + enc(withClaims({{"htm", "GET"}}).dump()) + "." + parts[2],
            "DPoP proof signature does not verify with its \"jwk\"");
        row("tampered header",
            enc(withHeader({{"alg", "ES256"}, {"kid", "k"}}).dump()) + "." + parts[1] + "." +
                parts[2],
            "DPoP proof signature does not verify with its \"jwk\"");

        // The claims.
        row("claims not an object", signJws(header, "[1]", *m_key),
            "DPoP proof claim set is not a JSON object");
        row("claims duplicate htm",
            signJws(header, "{\"jti\":\"a\",\"htm\":\"GET\",\"htm\":\"POST\"}", *m_key),
            "DPoP proof claim set has the member name \"htm\" more than once");
        row("jti missing", proof(withClaims({{"jti", nullptr}})),
            "DPoP proof has no \"jti\" string claim");
        row("jti number", proof(withClaims({{"jti", 7}})),
            "DPoP proof has no \"jti\" string claim");
        row("jti empty", proof(withClaims({{"jti", ""}})),
            "DPoP proof \"jti\" must be 1 to 256 bytes");
        row("jti 257 bytes", proof(withClaims({{"jti", std::string(257, 'j')}})),
            "DPoP proof \"jti\" must be 1 to 256 bytes");
        row("htm missing", proof(withClaims({{"htm", nullptr}})),
            "DPoP proof has no \"htm\" string claim");
        row("htm GET", proof(withClaims({{"htm", "GET"}})),
            "DPoP proof \"htm\" does not match the request method");
        row("htm lower case", proof(withClaims({{"htm", "post"}})),
            "DPoP proof \"htm\" does not match the request method");
        row("htu missing", proof(withClaims({{"htu", nullptr}})),
            "DPoP proof has no \"htu\" string claim");
        row("htu other path", proof(withClaims({{"htu", "https://verifier.example/v1/nonces"}})),
            "DPoP proof \"htu\" does not match the request URI");
        row("htu path case", proof(withClaims({{"htu", "https://verifier.example/V1/tokens"}})),
            "DPoP proof \"htu\" does not match the request URI");
        row("htu other host", proof(withClaims({{"htu", "https://evil.example/v1/tokens"}})),
            "DPoP proof \"htu\" does not match the request URI");
        row("htu http", proof(withClaims({{"htu", "http://verifier.example/v1/tokens"}})),
            "DPoP proof \"htu\" does not match the request URI");
        row("htu other port",
            proof(withClaims({{"htu", "https://verifier.example:8443/v1/tokens"}})),
            "DPoP proof \"htu\" does not match the request URI");
        row("htu trailing slash",
            proof(withClaims({{"htu", "https://verifier.example/v1/tokens/"}})),
            "DPoP proof \"htu\" does not match the request URI");
        row("htu relative", proof(withClaims({{"htu", "/v1/tokens"}})),
            "DPoP proof \"htu\": URI has no scheme");
        row("htu ftp", proof(withClaims({{"htu", "ftp://verifier.example/v1/tokens"}})),
            "DPoP proof \"htu\": URI scheme is not http or https");
        row("iat missing", proof(withClaims({{"iat", nullptr}})),
            "DPoP proof has no \"iat\" claim");
        row("iat string", proof(withClaims({{"iat", std::to_string(t0)}})),
            "DPoP proof \"iat\" is not a NumericDate (a number of seconds from 0 to 2^53)");
        row("iat negative", proof(withClaims({{"iat", -1}})),
            "DPoP proof \"iat\" is not a NumericDate (a number of seconds from 0 to 2^53)");
        row("iat too old", proof(withClaims({{"iat", t0 - 61}})), "DPoP proof \"iat\" is too old");
        row("iat too old, fractional", proof(withClaims({{"iat", t0 - 60.001}})),
            "DPoP proof \"iat\" is too old");
        row("iat too new", proof(withClaims({{"iat", t0 + 61}})),
            "DPoP proof \"iat\" is too far in the future");
    }

    void invalidProofs()
    {
        QFETCH(QByteArray, proof);
        QFETCH(QByteArray, failure);
        DpopValidator validator;
        QCOMPARE(dpopFailure([&] { validator.validate(proof.toStdString(), "POST", htu, now); }),
                 failure);
        QCOMPARE(validator.cachedJtis(now), std::size_t(0));
    }

    void critIsRefused()
    {
        const std::string header =
            enc("{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1,\"typ\":\"dpop+jwt\"}");
        const auto parts = split(proof(claimsFor("j")));
        DpopValidator validator;
        QCOMPARE(dpopFailure([&] {
                     validator.validate(header + "." + parts[1] + "." + parts[2], "POST", htu, now);
                 }),
                 QByteArray("invalid_dpop_proof: DPoP proof: JWS header has \"crit\"; no JWS "
                            "extension is understood"));
    }

    void typMayCarryTheApplicationPrefix()
    {
        DpopValidator validator;
        nlohmann::json header = headerFor(*m_key);
        header["typ"] = "application/DPoP+JWT";
        QCOMPARE(validator.validate(proof(header, claimsFor("j")), "POST", htu, now).jti,
                 std::string("j"));
    }

    void iatWindowBoundaries()
    {
        DpopValidator validator; // 60 s
        QCOMPARE(validator.validate(proof(claimsFor("old", t0 - 60)), "POST", htu, now).jti,
                 std::string("old"));
        QCOMPARE(validator.validate(proof(claimsFor("new", t0 + 60)), "POST", htu, now).jti,
                 std::string("new"));
        nlohmann::json fractional = claimsFor("frac");
        fractional["iat"] = t0 + 59.5;
        QCOMPARE(validator.validate(proof(fractional), "POST", htu, now).jti, std::string("frac"));

        DpopValidator narrow({10s, 100});
        QCOMPARE(
            dpopFailure([&] { narrow.validate(proof(claimsFor("x", t0 - 11)), "POST", htu, now); }),
            QByteArray("invalid_dpop_proof: DPoP proof \"iat\" is too old"));
        QCOMPARE(narrow.validate(proof(claimsFor("x", t0 - 10)), "POST", htu, now).jti,
                 std::string("x"));
    }

    void normaliseHtuForms_data()
    {
        QTest::addColumn<QByteArray>("uri");
        QTest::addColumn<QByteArray>("normalised");
        auto row = [](const char *uri, const char *normalised) {
            QTest::newRow(uri) << QByteArray(uri) << QByteArray(normalised);
        };
        row("HTTPS://Example.COM:443/a?x#y", "https://example.com/a");
        row("https://example.com/a", "https://example.com/a");
        row("https://example.com", "https://example.com/");
        row("https://example.com?q=1", "https://example.com/");
        row("https://example.com#top", "https://example.com/");
        row("https://example.com/a#frag?x", "https://example.com/a");
        row("http://example.com:80/", "http://example.com/");
        row("HTTP://EXAMPLE.COM:00080", "http://example.com/");
        row("http://example.com:443/", "http://example.com:443/");
        row("https://example.com:80/", "https://example.com:80/");
        row("https://example.com:/a", "https://example.com/a");
        row("https://example.com:08443/a", "https://example.com:8443/a");
        row("https://example.com:0/", "https://example.com:0/");
        row("https://example.com:65535/", "https://example.com:65535/");
        row("https://example.com/A/B", "https://example.com/A/B");
        row("https://example.com/%7euser/%2f%41%3a", "https://example.com/~user/%2FA%3A");
        row("https://example.com/a/./b/../c", "https://example.com/a/c");
        row("https://example.com/a/%2E%2E/c", "https://example.com/c");
        row("https://example.com/../../a", "https://example.com/a");
        row("https://example.com/a/..", "https://example.com/");
        row("https://example.com//a", "https://example.com//a");
        row("https://example.com/a;p=1/b:c@d!$&'()*+,=",
            "https://example.com/a;p=1/b:c@d!$&'()*+,=");
        row("https://[::1]:8443/x", "https://[::1]:8443/x");
        row("https://[::1]:443/x", "https://[::1]/x");
        row("https://[FE80::1]/", "https://[fe80::1]/");
        row("https://127.0.0.1/", "https://127.0.0.1/");
        row("https://my_host.example~/", "https://my_host.example~/");
    }

    void normaliseHtuForms()
    {
        QFETCH(QByteArray, uri);
        QFETCH(QByteArray, normalised);
        const std::string once = vigil::protocol::normaliseHtu(uri.toStdString());
        QCOMPARE(once, normalised.toStdString());
        QCOMPARE(vigil::protocol::normaliseHtu(once), once);
    }

    void normaliseHtuRefuses_data()
    {
        QTest::addColumn<QByteArray>("uri");
        QTest::addColumn<QByteArray>("message");
        auto row = [](const char *name, const QByteArray &uri, const char *message) {
            QTest::newRow(name) << uri << QByteArray(message);
        };
        row("empty", "", "URI has no scheme");
        row("relative", "/v1/tokens", "URI has no scheme");
        row("no scheme", "example.com/a", "URI has no scheme");
        row("ftp", "ftp://example.com/", "URI scheme is not http or https");
        row("httpx", "httpx://example.com/", "URI scheme is not http or https");
        row("no authority", "https:example.com/a", "URI has no authority (\"//host\")");
        row("empty host", "https:///a", "URI has no host");
        row("empty host with port", "https://:443/a", "URI has no host");
        row("userinfo", "https://user@example.com/",
            "URI has userinfo, which HTTP URIs must not carry");
        row("userinfo with password", "https://u:p@example.com/",
            "URI has userinfo, which HTTP URIs must not carry");
        row("port too large", "https://example.com:65536/", "URI port is greater than 65535");
        row("port far too large", "https://example.com:443443443443443443443/",
            "URI port is greater than 65535");
        row("port not a number", "https://example.com:https/", "URI port is not a decimal number");
        row("port negative", "https://example.com:-1/", "URI port is not a decimal number");
        row("two ports", "https://example.com:1:2/", "URI port is not a decimal number");
        row("space in host", "https://exa mple.com/",
            "URI has a space, control or non-ASCII character");
        row("space in path", "https://example.com/a b",
            "URI has a space, control or non-ASCII character");
        row("NUL", QByteArray("https://example.com/a\0b", 23),
            "URI has a space, control or non-ASCII character");
        row("non-ASCII", "https://example.com/caf\xc3\xa9",
            "URI has a space, control or non-ASCII character");
        row("percent in host", "https://ex%41mple.com/",
            "URI host has a character other than letters, digits, '-', '.', '_', '~'");
        row("sub-delim in host", "https://ex!ample.com/",
            "URI host has a character other than letters, digits, '-', '.', '_', '~'");
        row("unclosed IPv6", "https://[::1/", "URI host is not a valid IPv6 literal");
        row("empty IPv6", "https://[]/", "URI host is not a valid IPv6 literal");
        row("IPvFuture", "https://[v1.x]/", "URI host is not a valid IPv6 literal");
        row("junk after IPv6", "https://[::1]x/", "URI host is not a valid IPv6 literal");
        row("bad percent", "https://example.com/%zz",
            "URI path has a '%' that is not followed by two hex digits");
        row("short percent", "https://example.com/%4",
            "URI path has a '%' that is not followed by two hex digits");
        row("percent at end", "https://example.com/%",
            "URI path has a '%' that is not followed by two hex digits");
        row("quote in path", "https://example.com/a\"b",
            "URI path has a character RFC 3986 does not allow there");
        row("brace in path", "https://example.com/a{b}",
            "URI path has a character RFC 3986 does not allow there");
        row("backslash in path", "https://example.com/a\\b",
            "URI path has a character RFC 3986 does not allow there");
    }

    void normaliseHtuRefuses()
    {
        QFETCH(QByteArray, uri);
        QFETCH(QByteArray, message);
        QCOMPARE(thrownMessage<JoseError>([&] {
                     vigil::protocol::normaliseHtu(
                         std::string_view(uri.constData(), std::size_t(uri.size())));
                 }),
                 message);
    }

    // RFC 9449 4.3 step 9: equivalent URIs match, in either direction.
    void htuNormalisationEquivalentsAreAccepted()
    {
        DpopValidator validator;
        nlohmann::json claims = claimsFor("eq-1");
        claims["htu"] = "HTTPS://Example.COM:443/a?x#y";
        QCOMPARE(validator.validate(proof(claims), "POST", "https://example.com/a", now).jti,
                 std::string("eq-1"));
        claims = claimsFor("eq-2");
        claims["htu"] = "https://example.com/a";
        QCOMPARE(
            validator.validate(proof(claims), "POST", "HTTPS://Example.COM:443/a?x#y", now).jti,
            std::string("eq-2"));
        claims = claimsFor("eq-3");
        claims["htu"] = "https://example.com/%61/./b";
        QCOMPARE(
            validator.validate(proof(claims), "POST", "https://example.com:443/a/b?q", now).jti,
            std::string("eq-3"));
    }

    // The request URI comes from the client's request target: a bad one refuses the proof.
    void invalidRequestUriRefusesTheProof()
    {
        DpopValidator validator;
        QCOMPARE(dpopFailure([&] { validator.validate(created("j"), "POST", "/v1/tokens", now); }),
                 QByteArray("invalid_dpop_proof: DPoP request URI: URI has no scheme"));
        QCOMPARE(dpopFailure([&] {
                     validator.validate(created("j"), "POST", "https://verifier.example/v1/a b",
                                        now);
                 }),
                 QByteArray("invalid_dpop_proof: DPoP request URI: URI has a space, control or "
                            "non-ASCII character"));
        QCOMPARE(validator.cachedJtis(now), std::size_t(0));
    }

    void replayIsRefused()
    {
        DpopValidator validator;
        const std::string compact = created("replay-1");
        QCOMPARE(validator.validate(compact, "POST", htu, now).jti, std::string("replay-1"));
        const QByteArray replay(
            "invalid_dpop_proof: DPoP proof \"jti\" has already been used (replay)");
        QCOMPARE(dpopFailure([&] { validator.validate(compact, "POST", htu, now); }), replay);
        // A different proof reusing the jti is a replay too; the same jti from another key is not.
        QCOMPARE(dpopFailure([&] { validator.validate(created("replay-1"), "POST", htu, now); }),
                 replay);
        const std::string other =
            createDpopProof(*m_otherKey, {"POST", htu, now, "replay-1", {}, {}});
        QCOMPARE(validator.validate(other, "POST", htu, now).jkt, m_otherKey->thumbprint());

        // Still remembered at the last instant its iat passes the window...
        QCOMPARE(dpopFailure([&] { validator.validate(compact, "POST", htu, now + 60s); }), replay);
        QCOMPARE(validator.cachedJtis(now + 60s), std::size_t(2));
        // ...and after that the iat check refuses it on its own, and the entry can go.
        QCOMPARE(dpopFailure([&] { validator.validate(compact, "POST", htu, now + 60s + 1ms); }),
                 QByteArray("invalid_dpop_proof: DPoP proof \"iat\" is too old"));
        QCOMPARE(validator.cachedJtis(now + 60s + 1ms), std::size_t(0));
    }

    // check is validate without recording: it refuses what recordUse remembered, and a proof is
    // used only once recordUse returns.
    void checkRefusesAReplayAndRecordsNothing()
    {
        DpopValidator validator;
        const std::string compact = created("check-1");
        const ValidatedDpop checked = validator.check(compact, "POST", htu, now);
        QCOMPARE(checked.jti, std::string("check-1"));
        QCOMPARE(checked.iat, std::chrono::duration<double>(now.time_since_epoch()).count());
        QCOMPARE(validator.check(compact, "POST", htu, now).jkt, checked.jkt);
        QCOMPARE(validator.cachedJtis(now), std::size_t(0));

        validator.recordUse(checked, now);
        QCOMPARE(validator.cachedJtis(now), std::size_t(1));
        const QByteArray replay(
            "invalid_dpop_proof: DPoP proof \"jti\" has already been used (replay)");
        QCOMPARE(dpopFailure([&] { validator.check(compact, "POST", htu, now); }), replay);
        QCOMPARE(dpopFailure([&] { validator.recordUse(checked, now); }), replay);
        QCOMPARE(validator.cachedJtis(now), std::size_t(1));
    }

    void refusedProofsDoNotUseTheirJti()
    {
        DpopValidator validator;
        nlohmann::json claims = claimsFor("once");
        claims["htm"] = "GET";
        QCOMPARE(
            dpopFailure([&] { validator.validate(proof(claims), "POST", htu, now); }),
            QByteArray("invalid_dpop_proof: DPoP proof \"htm\" does not match the request method"));
        QCOMPARE(
            dpopFailure([&] {
                validator.validate(created("once"), "POST", htu, now, std::string(accessToken));
            }),
            QByteArray("invalid_dpop_proof: DPoP proof has no \"ath\" claim for the access token"));
        QCOMPARE(validator.cachedJtis(now), std::size_t(0));
        QCOMPARE(validator.validate(created("once"), "POST", htu, now).jti, std::string("once"));
    }

    void cacheIsBoundedAndNeverForgetsALiveJti()
    {
        DpopValidator validator({60s, 2});
        QCOMPARE(validator.validate(proof(claimsFor("a", t0)), "POST", htu, now + 10s).jti,
                 std::string("a"));
        QCOMPARE(validator.validate(proof(claimsFor("b", t0 + 10)), "POST", htu, now + 10s).jti,
                 std::string("b"));
        const std::string c = proof(claimsFor("c", t0 + 10));
        const QByteArray full("invalid_dpop_proof: DPoP replay cache is full of live proofs; proof "
                              "refused");
        QCOMPARE(dpopFailure([&] { validator.validate(c, "POST", htu, now + 10s); }), full);
        QCOMPARE(dpopFailure([&] { validator.validate(c, "POST", htu, now + 60s); }), full);
        // A replay is still a replay when the cache is full.
        QCOMPARE(
            dpopFailure(
                [&] { validator.validate(proof(claimsFor("a", t0)), "POST", htu, now + 60s); }),
            QByteArray("invalid_dpop_proof: DPoP proof \"jti\" has already been used (replay)"));
        // The oldest entry ("a", expiring at t0 + 60) goes first and makes room.
        QCOMPARE(validator.cachedJtis(now + 61s), std::size_t(1));
        QCOMPARE(validator.validate(c, "POST", htu, now + 61s).jti, std::string("c"));
        QCOMPARE(
            dpopFailure([&] {
                validator.validate(proof(claimsFor("b", t0 + 10)), "POST", htu, now + 61s);
            }),
            QByteArray("invalid_dpop_proof: DPoP proof \"jti\" has already been used (replay)"));
        QCOMPARE(validator.cachedJtis(now + 71s), std::size_t(0));
    }

    void athIsChecked()
    {
        DpopValidator validator;
        const std::optional<std::string> token(accessToken);
        QCOMPARE(validator.validate(created("ath-ok", token), "POST", htu, now, token).jti,
                 std::string("ath-ok"));
        QCOMPARE(
            dpopFailure([&] { validator.validate(created("ath-none"), "POST", htu, now, token); }),
            QByteArray("invalid_dpop_proof: DPoP proof has no \"ath\" claim for the access token"));
        QCOMPARE(
            dpopFailure([&] {
                validator.validate(created("ath-other", std::string("another token")), "POST", htu,
                                   now, token);
            }),
            QByteArray("invalid_dpop_proof: DPoP proof \"ath\" does not match the access token"));
        nlohmann::json claims = claimsFor("ath-number");
        claims["ath"] = 1;
        QCOMPARE(
            dpopFailure([&] { validator.validate(proof(claims), "POST", htu, now, token); }),
            QByteArray("invalid_dpop_proof: DPoP proof \"ath\" does not match the access token"));
        // Padding is not base64url: the hash must match exactly.
        claims = claimsFor("ath-padded");
        claims["ath"] = vigil::protocol::accessTokenHash(accessToken) + "=";
        QCOMPARE(
            dpopFailure([&] { validator.validate(proof(claims), "POST", htu, now, token); }),
            QByteArray("invalid_dpop_proof: DPoP proof \"ath\" does not match the access token"));
        // Without an access token, ath is not looked at.
        QCOMPARE(validator.validate(created("ath-ignored", std::string("x")), "POST", htu, now).jti,
                 std::string("ath-ignored"));
    }

    void nonceIsChecked()
    {
        DpopValidator validator;
        const std::optional<std::string> nonce(serverNonce);
        QCOMPARE(validator.validate(created("n-ok", {}, nonce), "POST", htu, now, {}, nonce).jti,
                 std::string("n-ok"));
        QCOMPARE(
            dpopFailure(
                [&] { validator.validate(created("n-none"), "POST", htu, now, {}, nonce); }),
            QByteArray("use_dpop_nonce: DPoP proof has no \"nonce\"; the server requires one"));
        QCOMPARE(
            dpopFailure([&] {
                validator.validate(created("n-old", {}, std::string("old-nonce")), "POST", htu, now,
                                   {}, nonce);
            }),
            QByteArray("use_dpop_nonce: DPoP proof \"nonce\" is not the current server nonce"));
        nlohmann::json claims = claimsFor("n-number");
        claims["nonce"] = 42;
        QCOMPARE(
            dpopFailure([&] { validator.validate(proof(claims), "POST", htu, now, {}, nonce); }),
            QByteArray("use_dpop_nonce: DPoP proof \"nonce\" is not the current server nonce"));
        try {
            validator.validate(created("n-kind"), "POST", htu, now, {}, nonce);
            QFAIL("no exception");
        } catch (const DpopError &e) {
            QVERIFY(e.kind() == DpopError::Code::UseNonce);
        }
        // A nonce the server did not ask for is ignored.
        QCOMPARE(validator.validate(created("n-extra", {}, nonce), "POST", htu, now).jti,
                 std::string("n-extra"));
        QCOMPARE(validator.cachedJtis(now), std::size_t(2));
    }

    void concurrentReplaysAcceptExactlyOne()
    {
        DpopValidator validator;
        const std::string compact = created("race");
        std::atomic<int> accepted{0};
        std::atomic<int> replays{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&] {
                for (int round = 0; round < 20; ++round) {
                    try {
                        validator.validate(compact, "POST", htu, now);
                        ++accepted;
                    } catch (const DpopError &) {
                        ++replays;
                    }
                }
            });
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(accepted.load(), 1);
        QCOMPARE(replays.load(), 8 * 20 - 1);

        // Distinct proofs from many threads are all accepted and all remembered.
        std::vector<std::string> proofs;
        for (int i = 0; i < 64; ++i)
            proofs.push_back(created("p-" + std::to_string(i)));
        threads.clear();
        accepted = 0;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (std::size_t i = std::size_t(t); i < proofs.size(); i += 4) {
                    validator.validate(proofs[i], "POST", htu, now);
                    ++accepted;
                }
            });
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(accepted.load(), 64);
        QCOMPARE(validator.cachedJtis(now), std::size_t(65));
    }

    void dpopErrorCodes()
    {
        QCOMPARE(std::string(DpopError(DpopError::Code::InvalidProof, "x").code()),
                 "invalid_dpop_proof");
        QCOMPARE(std::string(DpopError(DpopError::Code::UseNonce, "x").code()), "use_dpop_nonce");
        const JoseError &base = DpopError(DpopError::Code::InvalidProof, "m");
        QCOMPARE(QByteArray(base.what()), QByteArray("m"));
    }

    // Independent implementation: jwcrypto verifies our proof with the key from its own
    // header and agrees on ath and the thumbprint.
    void ourProofVerifiesInJwcrypto()
    {
        const std::string compact = created({}, std::string(accessToken), std::string(serverNonce));
        const nlohmann::json input{{"proof", compact}, {"access_token", accessToken}};
        QByteArray output, error;
        QVERIFY2(
            runPython(jwcryptoCheckProof, QByteArray::fromStdString(input.dump()), output, error),
            error.constData());
        const auto result = nlohmann::json::parse(output.toStdString());
        QCOMPARE(result["claims"]["ath"], result["ath"]);
        QCOMPARE(result["claims"]["htm"], "POST");
        QCOMPARE(result["claims"]["htu"], htu);
        QCOMPARE(result["claims"]["iat"], t0);
        QCOMPARE(result["claims"]["nonce"], serverNonce);
        QCOMPARE(result["jkt"], m_key->thumbprint());

        // jwcrypto refuses a proof whose header names another key.
        const nlohmann::json forged{
            {"proof", signJws(headerFor(*m_otherKey), claimsFor("f").dump(), *m_key)},
            {"access_token", accessToken}};
        QVERIFY(!runPython(jwcryptoCheckProof, QByteArray::fromStdString(forged.dump()), output,
                           error));
    }

    // Independent implementation: a proof jwcrypto makes with its own key validates here, with
    // ath, nonce and an htu that only matches after normalisation.
    void jwcryptoProofValidatesHere()
    {
        QByteArray output, error;
        QVERIFY2(runPython(jwcryptoMakeProof,
                           {QString::number(t0), QString::fromLatin1(accessToken),
                            QStringLiteral("HTTPS://Verifier.Example:443/v1/tokens?from=py"),
                            QString::fromLatin1(serverNonce)},
                           {}, output, error),
                 error.constData());
        const auto result = nlohmann::json::parse(output.toStdString());
        DpopValidator validator;
        const ValidatedDpop validated =
            validator.validate(result["proof"].get<std::string>(), "POST", htu, now + 5s,
                               std::string(accessToken), std::string(serverNonce));
        QCOMPARE(validated.jkt, result["jkt"].get<std::string>());
        QCOMPARE(validated.jti, std::string("py-jti-1"));
        const EcPublicKey key = parseEcPublicJwk(result["jwk"]);
        QCOMPARE(validated.key.x, key.x);
        QCOMPARE(validated.key.y, key.y);
        QCOMPARE(
            dpopFailure([&] {
                validator.validate(result["proof"].get<std::string>(), "POST", htu, now + 5s,
                                   std::string(accessToken), std::string(serverNonce));
            }),
            QByteArray("invalid_dpop_proof: DPoP proof \"jti\" has already been used (replay)"));
        QCOMPARE(
            dpopFailure([&] {
                DpopValidator fresh;
                fresh.validate(result["proof"].get<std::string>(), "POST", htu, now,
                               std::string("a different token"));
            }),
            QByteArray("invalid_dpop_proof: DPoP proof \"ath\" does not match the access token"));
    }
};

QTEST_APPLESS_MAIN(TestDpop)
#include "tst_dpop.moc"
