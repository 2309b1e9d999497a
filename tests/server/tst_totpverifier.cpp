// TotpVerifier on a real database: the window, each step once, the delays and the lock, on a
// manual clock; and a code from oathtool (an independent TOTP implementation) accepted.
#include "manualclock.h"
#include "oathtool.h"
#include "server/mfa/totp.h"
#include "server/mfa/totpverifier.h"
#include "server/storage/sqlitestorage.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

using vigil::Bytes;
using namespace vigil::server;
using vigil::test::ManualClock;
using Result = TotpCheck::Result;

namespace QTest {

template <> inline char *toString(const Result &result)
{
    static const char *const names[] = {"Accepted", "InvalidCode", "RateLimited", "Locked",
                                        "NoTotp"};
    return qstrdup(names[static_cast<int>(result)]);
}

} // namespace QTest

namespace {

using std::chrono::seconds;

// The start of a time step: t0 + 29 s is still in it.
const TimePoint t0 = TimePoint(seconds(1795000020)) - seconds(1795000020 % 30);
const std::uint64_t s0 = 1795000020 / 30;

} // namespace

class TestTotpVerifier : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_serial = 0;
    std::unique_ptr<SqliteStorage> m_storage;
    std::unique_ptr<SecretBox> m_box;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<TotpVerifier> m_verifier;
    User m_user;
    Bytes m_secret;

    // The secret from an otpauth:// URI.
    static Bytes secretOf(const std::string &uri)
    {
        const QUrl url(QString::fromStdString(uri));
        const QString secret = QUrlQuery(url).queryItemValue(QStringLiteral("secret"));
        return vigil::base32Decode(secret.toStdString()).value_or(Bytes{});
    }

    std::string code(std::uint64_t step) const { return hotp(m_secret, step); }
    std::string currentCode() const
    {
        return code(*totpTimeStep(m_clock->now(), std::chrono::seconds(30)));
    }

    // A user with a pending TOTP secret, begun at t0.
    void begin()
    {
        m_clock->set(t0);
        const auto enrollment = m_verifier->beginEnrollment(m_user, "Vigil");
        QVERIFY(enrollment);
        QCOMPARE(enrollment->expiresAt, t0 + std::chrono::minutes(15));
        QVERIFY(enrollment->otpauthUri.starts_with("otpauth://totp/Vigil:alice?secret="));
        QVERIFY(
            enrollment->otpauthUri.ends_with("&issuer=Vigil&algorithm=SHA1&digits=6&period=30"));
        m_secret = secretOf(enrollment->otpauthUri);
        QCOMPARE(m_secret.size(), std::size_t(20));
    }

    // begin(), then activated with the code of step s0.
    void activated()
    {
        begin();
        const TotpCheck check = m_verifier->activate(m_user.id, code(s0));
        QCOMPARE(check.result, Result::Accepted);
        QCOMPARE(check.step, s0);
    }

    // Six digits that no step in the window has as its code now.
    std::string wrongCode() const
    {
        const std::uint64_t current = *totpTimeStep(m_clock->now(), std::chrono::seconds(30));
        for (int n = 0;; ++n) {
            std::string candidate = std::to_string(n);
            candidate.insert(0, 6 - candidate.size(), '0');
            if (candidate != code(current - 1) && candidate != code(current) &&
                candidate != code(current + 1))
                return candidate;
        }
    }

    int failures() const { return m_storage->userTotp(m_user.id)->consecutiveFailures; }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void init()
    {
        m_storage = SqliteStorage::open(m_dir.filePath(QString::number(++m_serial)).toStdString());
        m_box = std::make_unique<SecretBox>(Bytes(32, 0x5a));
        m_clock = std::make_unique<ManualClock>(t0);
        m_verifier = std::make_unique<TotpVerifier>(*m_storage, *m_box, *m_clock);
        m_user = User{"0d8c7c39-7f4a-4b0e-9a64-0a7f2a3f1e11", "alice", t0, std::nullopt};
        QVERIFY(m_storage->addUser(m_user));
    }

    void activationNeedsAGoodCodeInTime()
    {
        begin();
        QCOMPARE(m_verifier->verify(m_user.id, code(s0)).result, Result::NoTotp); // pending
        QCOMPARE(m_verifier->activate(m_user.id, code(s0 + 2)).result, Result::InvalidCode);
        QCOMPARE(failures(), 1);
        // The secret is sealed under the user's id, never stored plainly.
        const Bytes sealed = m_storage->userTotp(m_user.id)->sealedSecret;
        QCOMPARE(m_box->open(sealed, m_user.id), m_secret);
        QVERIFY(std::search(sealed.begin(), sealed.end(), m_secret.begin(), m_secret.end()) ==
                sealed.end());

        m_clock->advance(std::chrono::minutes(15));
        QCOMPARE(m_verifier->activate(m_user.id, code(s0 + 30)).result, Result::NoTotp);
        // A new secret, then the right code.
        begin();
        m_clock->advance(seconds(40));
        const TotpCheck check = m_verifier->activate(m_user.id, code(s0 + 1));
        QCOMPARE(check.result, Result::Accepted);
        QCOMPARE(check.step, s0 + 1);
        QCOMPARE(m_storage->userTotp(m_user.id)->state, TotpState::Active);
        QCOMPARE(failures(), 0);
        QVERIFY(!m_verifier->beginEnrollment(m_user, "Vigil")); // active already
        QCOMPARE(m_verifier->activate(m_user.id, code(s0 + 1)).result, Result::NoTotp);
    }

    void acceptsOneStepEitherSideButNotTwo()
    {
        activated();
        m_clock->set(t0 + seconds(30 * 10 + 15)); // step s0 + 10
        QCOMPARE(m_verifier->verify(m_user.id, code(s0 + 8)).result, Result::InvalidCode);
        QCOMPARE(m_verifier->verify(m_user.id, code(s0 + 12)).result, Result::InvalidCode);
        TotpCheck check = m_verifier->verify(m_user.id, code(s0 + 9));
        QCOMPARE(check.result, Result::Accepted);
        QCOMPARE(check.step, s0 + 9);
        QCOMPARE(m_verifier->verify(m_user.id, code(s0 + 10)).result, Result::Accepted);
        check = m_verifier->verify(m_user.id, code(s0 + 11));
        QCOMPARE(check.result, Result::Accepted);
        QCOMPARE(check.step, s0 + 11);
    }

    void eachStepOnce()
    {
        activated();
        // The activation's own code is spent.
        QCOMPARE(m_verifier->verify(m_user.id, code(s0)).result, Result::InvalidCode);
        m_clock->advance(seconds(30));
        QCOMPARE(m_verifier->verify(m_user.id, code(s0 + 1)).result, Result::Accepted);
        QCOMPARE(m_verifier->verify(m_user.id, code(s0 + 1)).result, Result::InvalidCode);
        // An earlier step, though in the window, comes after a later one was used: refused.
        QCOMPARE(m_verifier->verify(m_user.id, code(s0)).result, Result::InvalidCode);
        QCOMPARE(failures(), 2);
    }

    void malformedCodesAreRefused_data()
    {
        QTest::addColumn<QString>("code");
        QTest::newRow("empty") << QString();
        QTest::newRow("five digits") << QStringLiteral("12345");
        QTest::newRow("seven digits") << QStringLiteral("1234567");
        QTest::newRow("letter") << QStringLiteral("12a456");
        QTest::newRow("space") << QStringLiteral("123 456");
    }

    void malformedCodesAreRefused()
    {
        QFETCH(QString, code);
        activated();
        m_clock->advance(seconds(30));
        QCOMPARE(m_verifier->verify(m_user.id, code.toStdString()).result, Result::InvalidCode);
        QCOMPARE(failures(), 1);
        // The right code with something around it is no right code.
        QCOMPARE(m_verifier->verify(m_user.id, this->code(s0 + 1) + "\n").result,
                 Result::InvalidCode);
    }

    void delaysThenLocks()
    {
        activated();
        for (int i = 1; i <= 3; ++i)
            QCOMPARE(m_verifier->verify(m_user.id, wrongCode()).result, Result::InvalidCode);
        QCOMPARE(failures(), 3);
        for (int failuresSoFar = 3; failuresSoFar < 9; ++failuresSoFar) {
            const seconds delay(1 << (failuresSoFar - 3));
            QCOMPARE(TotpVerifier::delayAfter(failuresSoFar), delay);
            // Too soon, even with the right code: nothing counted, nothing accepted.
            m_clock->advance(delay - std::chrono::milliseconds(500));
            const TotpCheck early = m_verifier->verify(m_user.id, currentCode());
            QCOMPARE(early.result, Result::RateLimited);
            QCOMPARE(early.retryAfter, seconds(1));
            QCOMPARE(failures(), failuresSoFar);
            m_clock->advance(std::chrono::milliseconds(500));
            QCOMPARE(m_verifier->verify(m_user.id, wrongCode()).result, Result::InvalidCode);
        }
        QCOMPARE(failures(), 9);
        const TotpCheck early = m_verifier->verify(m_user.id, wrongCode());
        QCOMPARE(early.result, Result::RateLimited);
        QCOMPARE(early.retryAfter, seconds(64));
        m_clock->advance(seconds(64));
        QTest::ignoreMessage(QtWarningMsg,
                             "user alice (0d8c7c39-7f4a-4b0e-9a64-0a7f2a3f1e11): TOTP locked "
                             "after 10 consecutive failures; `vigil-verifier users unlock alice` "
                             "unlocks it");
        QCOMPARE(m_verifier->verify(m_user.id, wrongCode()).result, Result::Locked);
        QVERIFY(m_storage->userTotp(m_user.id)->locked);
        // Locked: even the right code, however long after.
        m_clock->advance(std::chrono::hours(24));
        QCOMPARE(m_verifier->verify(m_user.id, currentCode()).result, Result::Locked);
        QCOMPARE(failures(), 10);

        QVERIFY(m_storage->unlockTotp(m_user.id));
        QCOMPARE(m_verifier->verify(m_user.id, currentCode()).result, Result::Accepted);
    }

    void aGoodCodeResetsTheCount()
    {
        activated();
        for (int i = 0; i < 3; ++i)
            QCOMPARE(m_verifier->verify(m_user.id, wrongCode()).result, Result::InvalidCode);
        m_clock->advance(seconds(31)); // step s0 + 1, past the 1 s delay
        QCOMPARE(m_verifier->verify(m_user.id, code(s0 + 1)).result, Result::Accepted);
        QCOMPARE(failures(), 0);
        // No delay now: three failures in a row again before the first wait.
        for (int i = 0; i < 3; ++i)
            QCOMPARE(m_verifier->verify(m_user.id, wrongCode()).result, Result::InvalidCode);
        QCOMPARE(m_verifier->verify(m_user.id, wrongCode()).result, Result::RateLimited);
    }

    void delays()
    {
        QCOMPARE(TotpVerifier::delayAfter(0), seconds(0));
        QCOMPARE(TotpVerifier::delayAfter(2), seconds(0));
        QCOMPARE(TotpVerifier::delayAfter(3), seconds(1));
        QCOMPARE(TotpVerifier::delayAfter(4), seconds(2));
        QCOMPARE(TotpVerifier::delayAfter(9), seconds(64));
    }

    void noTotpNoCheck()
    {
        QCOMPARE(m_verifier->verify(m_user.id, "123456").result, Result::NoTotp);
        QCOMPARE(m_verifier->activate(m_user.id, "123456").result, Result::NoTotp);
        QCOMPARE(m_verifier->verify("no-such-user", "123456").result, Result::NoTotp);
    }

    // A secret sealed under another key, or moved from another user, never yields a code.
    void aSecretThatDoesNotOpenThrows()
    {
        activated();
        m_clock->advance(seconds(30));
        const SecretBox other(Bytes(32, 0x11));
        TotpVerifier verifier(*m_storage, other, *m_clock);
        QVERIFY_THROWS_EXCEPTION(SecretBoxError, verifier.verify(m_user.id, code(s0 + 1)));
        QCOMPARE(failures(), 0);
    }

    // oathtool, given the secret from the URI, makes a code that verify accepts.
    void acceptsACodeFromOathtool()
    {
        begin();
        m_clock->set(t0 + seconds(95)); // step s0 + 3
        const std::string theirs =
            vigil::test::oathtool(vigil::base32Encode(m_secret), m_clock->now());
        QCOMPARE(theirs.size(), std::size_t(6));
        const TotpCheck check = m_verifier->activate(m_user.id, theirs);
        QCOMPARE(check.result, Result::Accepted);
        QCOMPARE(check.step, s0 + 3);
    }
};

QTEST_APPLESS_MAIN(TestTotpVerifier)
#include "tst_totpverifier.moc"
