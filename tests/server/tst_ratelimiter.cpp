// RateLimiter: per-key token buckets at exact instants (the limiter takes `now`, so no test
// sleeps), and the Retry-After header the verifier derives from its answer.
#include "manualclock.h"
#include "protocol/jose/softwaredevicekey.h"
#include "server/api/ratelimiter.h"
#include "server/api/verifierservice.h"
#include "server/policy/policy.h"
#include "server/policy/policystore.h"
#include "server/storage/sqlitestorage.h"

#include <QTemporaryDir>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace vigil::server;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// Any fixed instant: the limiter only looks at differences.
const RateLimiter::TimePoint t0 = RateLimiter::TimePoint(std::chrono::hours(1000));

// "<n> allowed, then wait <ms> ms": how many requests key gets through at `now` before the
// first refusal, and what that refusal says.
QByteArray drain(RateLimiter &limiter, const std::string &key, RateLimiter::TimePoint now)
{
    for (int allowed = 0; allowed < 1000; ++allowed) {
        const milliseconds wait = limiter.acquire(key, now);
        if (wait > 0ms)
            return QByteArray::number(allowed) + " allowed, then wait " +
                   QByteArray::number(qlonglong(wait.count())) + " ms";
    }
    return "never refused";
}

QByteArray expected(int allowed, long long waitMs)
{
    return QByteArray::number(allowed) + " allowed, then wait " + QByteArray::number(waitMs) +
           " ms";
}

} // namespace

class TestRateLimiter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aNewKeyGetsItsBurstAtOnceThenWaitsOneToken_data()
    {
        QTest::addColumn<double>("rate");
        QTest::addColumn<double>("burst");
        QTest::addColumn<int>("allowed");
        QTest::addColumn<long long>("waitMs");
        // Rates whose token interval is exact in binary, so the milliseconds are exact too.
        QTest::newRow("2/s, burst 5") << 2.0 << 5.0 << 5 << 500LL;
        QTest::newRow("1/s, burst 20 (device default)") << 1.0 << 20.0 << 20 << 1000LL;
        QTest::newRow("0.25/s, burst 1") << 0.25 << 1.0 << 1 << 4000LL;
        QTest::newRow("8/s, burst 3") << 8.0 << 3.0 << 3 << 125LL;
        QTest::newRow("burst below one still allows one") << 1.0 << 0.0 << 1 << 1000LL;
        QTest::newRow("fractional burst rounds down") << 1.0 << 2.5 << 2 << 500LL;
    }
    void aNewKeyGetsItsBurstAtOnceThenWaitsOneToken()
    {
        QFETCH(double, rate);
        QFETCH(double, burst);
        QFETCH(int, allowed);
        QFETCH(long long, waitMs);
        RateLimiter limiter(rate, burst);
        QCOMPARE(drain(limiter, "device:a", t0), expected(allowed, waitMs));
    }

    void tokensComeBackAtTheRate()
    {
        RateLimiter limiter(4.0, 2.0); // one token every 250 ms
        QCOMPARE(drain(limiter, "k", t0), expected(2, 250));

        // 125 ms: half a token, still refused, and told the remaining 125 ms.
        QCOMPARE(limiter.acquire("k", t0 + 125ms).count(), 125LL);
        // 250 ms: a whole token, exactly one request.
        QCOMPARE(limiter.acquire("k", t0 + 250ms).count(), 0LL);
        QCOMPARE(limiter.acquire("k", t0 + 250ms).count(), 250LL);
        // 750 ms: two more tokens (the bucket holds at most the burst of 2).
        QCOMPARE(drain(limiter, "k", t0 + 750ms), expected(2, 250));
    }

    void anIdleKeyRefillsOnlyUpToTheBurst()
    {
        RateLimiter limiter(4.0, 3.0);
        QCOMPARE(drain(limiter, "k", t0), expected(3, 250));
        // An hour is 14400 tokens at this rate; the bucket keeps 3.
        QCOMPARE(drain(limiter, "k", t0 + 1h), expected(3, 250));
    }

    void retryAfterIsTheTimeUntilTheNextToken()
    {
        RateLimiter limiter(0.5, 1.0); // one token every 2 s
        QCOMPARE(limiter.acquire("k", t0).count(), 0LL);
        QCOMPARE(limiter.acquire("k", t0).count(), 2000LL);
        QCOMPARE(limiter.acquire("k", t0 + 500ms).count(), 1500LL);
        // Waiting exactly as told is enough.
        QCOMPARE(limiter.acquire("k", t0 + 2s).count(), 0LL);
    }

    void refusedRequestsDoNotPostponeTheNextToken()
    {
        // A client hammering while refused must not push its own Retry-After further out: a
        // refusal takes nothing from the bucket.
        RateLimiter limiter(1.0, 1.0);
        QCOMPARE(limiter.acquire("k", t0).count(), 0LL);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(limiter.acquire("k", t0 + 500ms).count(), 500LL);
        QCOMPARE(limiter.acquire("k", t0 + 1s).count(), 0LL);
    }

    void aClockGoingBackGivesNoExtraTokens()
    {
        // steady_clock does not go back, but two threads may pass instants out of order.
        RateLimiter limiter(1.0, 1.0);
        QCOMPARE(limiter.acquire("k", t0 + 10s).count(), 0LL);
        QCOMPARE(limiter.acquire("k", t0).count(), 1000LL);
        QCOMPARE(limiter.acquire("k", t0 + 10s).count(), 1000LL);
        QCOMPARE(limiter.acquire("k", t0 + 11s).count(), 0LL);
    }

    void keysAreIndependent()
    {
        RateLimiter limiter(1.0, 2.0);
        QCOMPARE(drain(limiter, "device:a", t0), expected(2, 1000));
        QCOMPARE(drain(limiter, "device:b", t0), expected(2, 1000));
        QCOMPARE(limiter.acquire("peer:192.0.2.7", t0).count(), 0LL);
        // a's refill is a's alone.
        QCOMPARE(limiter.acquire("device:a", t0 + 1s).count(), 0LL);
        QCOMPARE(limiter.acquire("device:b", t0 + 500ms).count(), 500LL);
    }

    void aFullTableDropsBucketsThatRefilledAndKeepsDrainingOnes()
    {
        RateLimiter limiter(1.0, 1.0, 2);
        QCOMPARE(limiter.acquire("a", t0).count(), 0LL);         // a full again at t0 + 1 s
        QCOMPARE(limiter.acquire("b", t0 + 500ms).count(), 0LL); // b full again at t0 + 1.5 s
        // At t0 + 1 s the table is full; a has refilled, so a goes and b, still draining, stays.
        QCOMPARE(limiter.acquire("c", t0 + 1s).count(), 0LL);
        QCOMPARE(limiter.acquire("b", t0 + 1s).count(), 500LL);
        QCOMPARE(limiter.acquire("c", t0 + 1s).count(), 1000LL);
    }

    void theTableStaysBoundedWhenEveryBucketIsDraining()
    {
        // Ten clients, each with an empty bucket, in a table of three: at most three are still
        // remembered (the others would get a fresh burst: the price of bounded memory).
        RateLimiter limiter(1.0, 1.0, 3);
        for (int i = 0; i < 10; ++i)
            QCOMPARE(limiter.acquire("k" + std::to_string(i), t0).count(), 0LL);
        // The newest key was inserted last and nothing has displaced it.
        QCOMPARE(limiter.acquire("k9", t0).count(), 1000LL);
        int remembered = 0;
        for (int i = 0; i < 9; ++i)
            if (limiter.acquire("k" + std::to_string(i), t0) > 0ms)
                ++remembered;
        QVERIFY2(remembered <= 2, QByteArray::number(remembered) + " of 9 older keys remembered");
    }

    void manyKeysInABoundedTableStillLimitEachActiveKey()
    {
        RateLimiter limiter(1.0, 1.0, 1000);
        for (int i = 0; i < 5000; ++i)
            QCOMPARE(limiter.acquire("peer:" + std::to_string(i), t0 + milliseconds(i)).count(),
                     0LL);
        // The latest client is limited as if it were alone.
        QCOMPARE(limiter.acquire("peer:4999", t0 + 4999ms).count(), 1000LL);
    }

    void theVerifierAnswersRetryAfterInWholeSecondsRoundedUp()
    {
        // The service turns the limiter's milliseconds into Retry-After: 0.4 requests per
        // second is a token every 2500 ms, which must be announced as 3 s, never 2.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path base = dir.path().toStdString();
        auto storage = SqliteStorage::open(base / "verifier.db");
        PolicyStore policies{Policy{}};
        auto tokenKey = vigil::protocol::SoftwareDeviceKey::create(base / "token-key.pem");
        vigil::test::ManualClock clock(std::chrono::system_clock::now());
        VerifierOptions options;
        options.publicUrl = "https://verifier.test";
        options.peerRequestsPerSecond = 0.4;
        options.peerBurst = 2;
        VerifierService service(*storage, policies, *tokenKey, clock, options);

        HttpRequest request;
        request.method = "POST";
        request.path = "/v1/enrollments";
        request.body = R"({"version":1})";
        request.peerAddress = "192.0.2.1";
        // Within the burst the request goes on to be read (and is malformed).
        QCOMPARE(service.handle(request).status, 400);
        QCOMPARE(service.handle(request).status, 400);
        const HttpResponse limited = service.handle(request);
        QCOMPARE(limited.status, 429);
        QCOMPARE(limited.contentType, std::string("application/problem+json"));
        const auto problem = nlohmann::json::parse(limited.body);
        QCOMPARE(problem.at("code").get<std::string>(), std::string("rate_limited"));
        QVERIFY(problem.at("detail").get<std::string>().find("retry later") != std::string::npos);
        const auto retryAfter =
            std::find_if(limited.headers.begin(), limited.headers.end(),
                         [](const auto &header) { return header.first == "Retry-After"; });
        QVERIFY(retryAfter != limited.headers.end());
        // 3 unless this test took over half a second between the requests above.
        QCOMPARE(retryAfter->second, std::string("3"));

        // Another address has its own bucket.
        request.peerAddress = "192.0.2.2";
        QCOMPARE(service.handle(request).status, 400);
    }
};

QTEST_APPLESS_MAIN(TestRateLimiter)
#include "tst_ratelimiter.moc"
