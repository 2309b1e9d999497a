// TokenBroker: a stored token is current until the exact instant it expires, is refreshed at
// three quarters of its lifetime, can be dropped with a reason, and whyNone tells which.
#include "app/agent/tokenbroker.h"
#include "manualclock.h"
#include "testprinters.h"

#include <QtTest>
#include <chrono>
#include <optional>

using namespace vigil;
using namespace std::chrono_literals;
using agent::TokenBroker;

namespace {

const auto start = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 9h;

protocol::TokenResponse token(std::string value, std::chrono::seconds expiresIn)
{
    protocol::TokenResponse response;
    response.accessToken = std::move(value);
    response.expiresIn = expiresIn;
    return response;
}

} // namespace

class TestTokenBroker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_clock.emplace(start);
        m_broker.emplace(*m_clock);
    }

    void noneBeforeTheFirstFetch()
    {
        QVERIFY(!m_broker->current());
        QVERIFY(!m_broker->refreshDue());
        QCOMPARE(m_broker->whyNone(), "no token has been fetched yet");
    }

    void storedTokenIsCurrent()
    {
        m_clock->advance(5s);
        m_broker->store(token("first", 600s));
        const auto held = m_broker->current();
        QVERIFY(held);
        QCOMPARE(held->accessToken, "first");
        QVERIFY(held->obtainedAt == start + 5s);
        QVERIFY(held->expiresAt == start + 5s + 600s);
        QCOMPARE(m_broker->whyNone(), "");
    }

    void expiresAtTheExactInstant()
    {
        m_broker->store(token("first", 600s));
        m_clock->set(start + 600s - 1ns);
        QVERIFY(m_broker->current());
        QCOMPARE(m_broker->whyNone(), "");
        m_clock->set(start + 600s);
        QVERIFY(!m_broker->current());
        QCOMPARE(m_broker->whyNone(), "the token expired and could not be refreshed");
        m_clock->advance(1h);
        QVERIFY(!m_broker->current());
        QCOMPARE(m_broker->whyNone(), "the token expired and could not be refreshed");
    }

    void refreshIsDueAtThreeQuartersOfTheLifetime()
    {
        m_clock->advance(10s);
        m_broker->store(token("first", 600s));
        QVERIFY(m_broker->refreshDue() == start + 10s + 450s);
        m_broker->store(token("short", 1s));
        QVERIFY(m_broker->refreshDue() == start + 10s + 750ms);
        // Still due (in the past) once it expired, so the agent fetches a new one.
        m_clock->advance(2s);
        QVERIFY(m_broker->refreshDue() == start + 10s + 750ms);
    }

    void newTokenReplacesTheOld()
    {
        m_broker->store(token("first", 60s));
        m_clock->advance(50s);
        m_broker->store(token("second", 60s));
        QCOMPARE(m_broker->current()->accessToken, "second");
        QVERIFY(m_broker->current()->expiresAt == start + 110s);
        m_clock->advance(30s); // past the first one's expiry
        QVERIFY(m_broker->current());
        QVERIFY(m_broker->refreshDue() == start + 50s + 45s);
    }

    void droppedWithItsReason()
    {
        m_broker->store(token("first", 600s));
        m_broker->drop("the device is not compliant: disk-encryption");
        QVERIFY(!m_broker->current());
        QVERIFY(!m_broker->refreshDue());
        QCOMPARE(m_broker->whyNone(), "the device is not compliant: disk-encryption");
        // Still the reason later: a dropped token does not "expire".
        m_clock->advance(1h);
        QCOMPARE(m_broker->whyNone(), "the device is not compliant: disk-encryption");
    }

    void storeAfterDropClearsTheReason()
    {
        m_broker->drop("revoked");
        m_broker->store(token("again", 60s));
        QVERIFY(m_broker->current());
        QCOMPARE(m_broker->whyNone(), "");
        m_clock->advance(60s);
        QCOMPARE(m_broker->whyNone(), "the token expired and could not be refreshed");
        m_broker->drop("a report was missed");
        QCOMPARE(m_broker->whyNone(), "a report was missed");
    }

private:
    std::optional<test::ManualClock> m_clock;
    std::optional<TokenBroker> m_broker;
};

QTEST_GUILESS_MAIN(TestTokenBroker)
#include "tst_tokenbroker.moc"
