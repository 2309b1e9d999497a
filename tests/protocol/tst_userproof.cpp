#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/jose/userproof.h"
#include "protocoltesthelpers.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>

using namespace vigil::protocol;
using namespace std::chrono_literals;
using vigil::Bytes;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::int64_t t0 = 1795000000;
const Clock::time_point now{std::chrono::seconds(t0)};
constexpr char userId[] = "0b6f0c43-5f0e-4c9a-9d83-2d2b9a6f1e10";
constexpr char htu[] = "https://verifier.example/v1/users/0b6f0c43-5f0e-4c9a-9d83-2d2b9a6f1e10/"
                       "sessions";
constexpr char jti[] = "AAECAwQFBgcICQoLDA0ODw"; // 16 bytes

// UserProofError's message, or a marker saying what happened instead.
QByteArray failure(const std::function<void()> &f)
{
    try {
        f();
    } catch (const UserProofError &e) {
        return QByteArray(e.what());
    } catch (const std::exception &e) {
        return "<other exception: " + QByteArray(e.what()) + ">";
    }
    return "<no exception>";
}

} // namespace

class TestUserProof : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SoftwareDeviceKey> m_userKey;
    std::unique_ptr<SoftwareDeviceKey> m_otherKey;
    std::string m_deviceJkt;

    DigestSigner signer(DeviceKey &key)
    {
        return [&key](std::span<const std::uint8_t> digest) { return key.sign(digest); };
    }

    UserProofRequest request(Clock::time_point iat = now) const
    {
        return {userId, "POST", htu, iat, jti, m_deviceJkt};
    }

    UserProofExpectations expect() const { return {userId, "POST", htu, m_deviceJkt}; }

    std::string proof(const UserProofRequest &r)
    {
        return createUserProof(m_userKey->publicKey(), signer(*m_userKey), r);
    }

    // A proof signed by key with the given header and claims, for forms createUserProof
    // never makes.
    std::string handMade(DeviceKey &key, const nlohmann::json &header, const nlohmann::json &claims)
    {
        return signJws(header, claims.dump(), key);
    }

    nlohmann::json claims() const
    {
        return {{"user_id", userId}, {"htm", "POST"}, {"htu", htu},
                {"iat", t0},         {"jti", jti},    {"jkt", m_deviceJkt}};
    }

    nlohmann::json header() const
    {
        return {{"typ", userProofType}, {"kid", m_userKey->thumbprint()}};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const std::filesystem::path dir = m_dir.path().toStdString();
        m_userKey = SoftwareDeviceKey::create(dir / "user.pem");
        m_otherKey = SoftwareDeviceKey::create(dir / "other.pem");
        m_deviceJkt = SoftwareDeviceKey::create(dir / "device.pem")->thumbprint();
    }

    void createsTheContractsForm()
    {
        const std::string compact = proof(request());
        const Jws jws = parseJws(compact);
        QCOMPARE(jws.header, nlohmann::json({{"alg", "ES256"},
                                             {"typ", "vigil-user-proof+jwt"},
                                             {"kid", m_userKey->thumbprint()}}));
        QCOMPARE(nlohmann::json::parse(jws.payload), claims());
        QVERIFY(verifyJws(jws, m_userKey->publicKey()));
        QCOMPARE(QByteArray::fromStdString(userProofKeyId(compact)),
                 QByteArray::fromStdString(m_userKey->thumbprint()));
    }

    void randomJtiWhenNoneIsGiven()
    {
        UserProofRequest r = request();
        r.jti.clear();
        const auto a = nlohmann::json::parse(parseJws(proof(r)).payload)["jti"].get<std::string>();
        const auto b = nlohmann::json::parse(parseJws(proof(r)).payload)["jti"].get<std::string>();
        QCOMPARE(vigil::base64UrlDecode(a)->size(), std::size_t(16));
        QVERIFY(a != b);
    }

    void signerFailurePropagates()
    {
        const DigestSigner refusing = [](std::span<const std::uint8_t>) -> Bytes {
            throw vigil::KeyError("wrong PIN");
        };
        try {
            createUserProof(m_userKey->publicKey(), refusing, request());
            QFAIL("no exception");
        } catch (const vigil::KeyError &e) {
            QCOMPARE(QByteArray(e.what()), QByteArray("wrong PIN"));
        }
    }

    void createRefusesIncompleteRequests()
    {
        UserProofRequest r = request();
        r.jkt.clear();
        QVERIFY_THROWS_EXCEPTION(JoseError, proof(r));
        r = request();
        r.htu = "ftp://verifier.example/";
        QVERIFY_THROWS_EXCEPTION(JoseError, proof(r));
    }

    void acceptsAndThenRefusesTheReplay()
    {
        UserProofValidator validator;
        const std::string compact = proof(request());
        // check alone records nothing: the same proof passes check twice.
        validator.check(compact, m_userKey->publicKey(), expect(), now);
        const auto result = validator.validate(compact, m_userKey->publicKey(), expect(), now);
        QCOMPARE(QByteArray::fromStdString(result.kid),
                 QByteArray::fromStdString(m_userKey->thumbprint()));
        QCOMPARE(QByteArray::fromStdString(result.jti), QByteArray(jti));
        QCOMPARE(result.iat, double(t0));
        QCOMPARE(failure([&] { validator.check(compact, m_userKey->publicKey(), expect(), now); }),
                 QByteArray("user proof: \"jti\" has already been used (replay)"));
        QCOMPARE(failure([&] { validator.recordUse(result, now); }),
                 QByteArray("user proof: \"jti\" has already been used (replay)"));
        // The htu is compared in its normalised form.
        UserProofExpectations e = expect();
        e.htu = "HTTPS://Verifier.Example:443/v1/users/0b6f0c43-5f0e-4c9a-9d83-2d2b9a6f1e10/"
                "sessions?x=1";
        UserProofRequest other = request();
        other.jti = "EBESExQVFhcYGRobHB0eHw";
        validator.validate(proof(other), m_userKey->publicKey(), e, now);
    }

    void refusesWhatDoesNotMatch_data()
    {
        QTest::addColumn<QByteArray>("member");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("user_id") << QByteArray("user_id")
                                 << QByteArray("user proof: \"user_id\" is not the user of the "
                                               "request");
        QTest::newRow("htm") << QByteArray("htm")
                             << QByteArray("user proof: \"htm\" does not match the request "
                                           "method");
        QTest::newRow("htu") << QByteArray("htu")
                             << QByteArray("user proof: \"htu\" does not match the request URI");
        QTest::newRow("jkt") << QByteArray("jkt")
                             << QByteArray("user proof: \"jkt\" is not the key of the device "
                                           "that signed the request");
    }

    void refusesWhatDoesNotMatch()
    {
        QFETCH(QByteArray, member);
        QFETCH(QByteArray, message);
        UserProofExpectations e = expect();
        if (member == "user_id")
            e.userId = "11111111-2222-3333-4444-555555555555";
        else if (member == "htm")
            e.htm = "GET";
        else if (member == "htu")
            e.htu = "https://verifier.example/v1/users/x/tokens";
        else
            e.jkt = m_otherKey->thumbprint(); // a proof made for another device
        UserProofValidator validator;
        QCOMPARE(
            failure([&] { validator.check(proof(request()), m_userKey->publicKey(), e, now); }),
            message);
    }

    void refusesOtherKeys()
    {
        UserProofValidator validator;
        // Made by another key, which names itself: not the enrolled key.
        const std::string other =
            createUserProof(m_otherKey->publicKey(), signer(*m_otherKey), request());
        QCOMPARE(failure([&] { validator.check(other, m_userKey->publicKey(), expect(), now); }),
                 QByteArray("user proof: \"kid\" is not the user key enrolled for this user on "
                            "this device"));
        // Made by another key that claims the enrolled key's kid.
        const std::string forged = handMade(*m_otherKey, header(), claims());
        QCOMPARE(failure([&] { validator.check(forged, m_userKey->publicKey(), expect(), now); }),
                 QByteArray("user proof: signature does not verify with the user's key"));
    }

    void refusesBadForms_data()
    {
        QTest::addColumn<QByteArray>("headerPatch");
        QTest::addColumn<QByteArray>("claimsPatch");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("typ dpop") << QByteArray(R"({"typ":"dpop+jwt"})") << QByteArray("{}")
                                  << QByteArray("user proof: header \"typ\" is not "
                                                "\"vigil-user-proof+jwt\"");
        QTest::newRow("no typ") << QByteArray(R"({"typ":null})") << QByteArray("{}")
                                << QByteArray("user proof: header has no \"typ\"");
        QTest::newRow("no kid") << QByteArray(R"({"kid":null})") << QByteArray("{}")
                                << QByteArray("user proof: header has no \"kid\"");
        QTest::newRow("jwk") << QByteArray(R"({"jwk":{"kty":"EC"}})") << QByteArray("{}")
                             << QByteArray("user proof: header carries a key; user proofs name "
                                           "theirs by \"kid\" only");
        QTest::newRow("short jti") << QByteArray("{}") << QByteArray(R"({"jti":"AAEC"})")
                                   << QByteArray("user proof: \"jti\" must be base64url of at "
                                                 "least 16 bytes, at most 256 characters");
        QTest::newRow("no jti") << QByteArray("{}") << QByteArray(R"({"jti":null})")
                                << QByteArray("user proof: no \"jti\" string claim");
        QTest::newRow("numeric user_id") << QByteArray("{}") << QByteArray(R"({"user_id":7})")
                                         << QByteArray("user proof: no \"user_id\" string claim");
        QTest::newRow("old") << QByteArray("{}") << QByteArray(R"({"iat":1794999939})")
                             << QByteArray("user proof: \"iat\" is too old");
        QTest::newRow("future") << QByteArray("{}") << QByteArray(R"({"iat":1795000061})")
                                << QByteArray("user proof: \"iat\" is too far in the future");
        QTest::newRow("iat text") << QByteArray("{}") << QByteArray(R"({"iat":"1795000000"})")
                                  << QByteArray("user proof: \"iat\" is not a NumericDate");
        QTest::newRow("no iat") << QByteArray("{}") << QByteArray(R"({"iat":null})")
                                << QByteArray("user proof: no \"iat\" claim");
        QTest::newRow("bad htu") << QByteArray("{}") << QByteArray(R"({"htu":"mailto:x"})")
                                 << QByteArray("user proof: \"htu\": URI scheme is not http or "
                                               "https");
    }

    void refusesBadForms()
    {
        QFETCH(QByteArray, headerPatch);
        QFETCH(QByteArray, claimsPatch);
        QFETCH(QByteArray, message);
        nlohmann::json h = header();
        h.merge_patch(nlohmann::json::parse(headerPatch.toStdString()));
        nlohmann::json c = claims();
        c.merge_patch(nlohmann::json::parse(claimsPatch.toStdString()));
        UserProofValidator validator;
        const std::string compact = handMade(*m_userKey, h, c);
        QCOMPARE(failure([&] { validator.check(compact, m_userKey->publicKey(), expect(), now); }),
                 message);
    }

    void refusesWhatIsNotAJws()
    {
        UserProofValidator validator;
        for (const std::string &text : {std::string(), std::string("a.b"), std::string("a.b.c"),
                                        std::string(maxUserProofLength + 1, 'a')}) {
            const QByteArray message =
                failure([&] { validator.check(text, m_userKey->publicKey(), expect(), now); });
            QVERIFY2(message.startsWith("user proof: "), message.constData());
        }
        QVERIFY_THROWS_EXCEPTION(UserProofError, userProofKeyId("a.b.c"));
        // A proof cut short loses its signature.
        const std::string compact = proof(request());
        QVERIFY(failure([&] {
                    validator.check(compact.substr(0, compact.size() - 4), m_userKey->publicKey(),
                                    expect(), now);
                }).startsWith("user proof: "));
    }

    void aFullCacheRefuses()
    {
        UserProofValidator validator(60s, 1);
        validator.validate(proof(request()), m_userKey->publicKey(), expect(), now);
        UserProofRequest r = request();
        r.jti = "EBESExQVFhcYGRobHB0eHw";
        QCOMPARE(
            failure([&] { validator.validate(proof(r), m_userKey->publicKey(), expect(), now); }),
            QByteArray("user proof: replay cache is full of live proofs; proof refused"));
        // Once the first proof's iat has left the window its slot is free again.
        r.iat = now + 61s;
        validator.validate(proof(r), m_userKey->publicKey(), expect(), now + 61s);
    }
};

QTEST_GUILESS_MAIN(TestUserProof)
#include "tst_userproof.moc"
