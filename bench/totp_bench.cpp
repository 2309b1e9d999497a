// The verifier's TOTP checks per second on one core (docs/performance.md): TotpVerifier::verify
// as a sign-in runs it, on a real SQLite database, the process pinned to one core. Three
// figures: right codes (read the user's row, open the sealed secret, three HMAC-SHA-1, write
// the accepted step), wrong codes (the same, writing the failure), and the codes alone (open
// and three HMACs, no database), printed beside `openssl speed -hmac sha1` on the same core.
//   bench_totp [users] [database directory]       (default 2000, a temporary directory)
#include "core/clock.h"
#include "server/mfa/secretbox.h"
#include "server/mfa/totp.h"
#include "server/mfa/totpverifier.h"
#include "server/randomid.h"
#include "server/storage/sqlitestorage.h"

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sched.h>
#include <string>
#include <vector>

using namespace vigil;
using namespace vigil::server;
using SteadyClock = std::chrono::steady_clock;

namespace {

class FixedClock final : public Clock
{
public:
    explicit FixedClock(std::chrono::system_clock::time_point at) : m_at(at) {}
    std::chrono::system_clock::time_point now() const override { return m_at; }

private:
    std::chrono::system_clock::time_point m_at;
};

[[noreturn]] void fail(const std::string &message)
{
    std::fprintf(stderr, "bench_totp: %s\n", message.c_str());
    std::exit(1);
}

double seconds(SteadyClock::duration elapsed)
{
    return std::chrono::duration<double>(elapsed).count();
}

// HMAC-SHA-1 operations per second over 16-byte inputs on core 0: `openssl speed -hmac sha1`.
double opensslHmacSha1PerSecond()
{
    QProcess openssl;
    openssl.start(QStringLiteral("taskset"),
                  {QStringLiteral("-c"), QStringLiteral("0"), QStringLiteral("openssl"),
                   QStringLiteral("speed"), QStringLiteral("-seconds"), QStringLiteral("3"),
                   QStringLiteral("-mr"), QStringLiteral("-hmac"), QStringLiteral("sha1")});
    if (!openssl.waitForFinished(60000))
        fail("openssl speed did not finish");
    for (const QByteArray &line : openssl.readAllStandardOutput().split('\n'))
        if (line.startsWith("+F:")) {
            // +F:<n>:hmac(sha1):<bytes/s for 16>:<64>:…
            const auto fields = line.split(':');
            if (fields.size() > 3)
                return fields[3].toDouble() / 16.0;
        }
    fail("no +F: line from openssl speed");
}

} // namespace

int main(int argc, char **argv)
{
    const int users = argc > 1 ? std::atoi(argv[1]) : 2000;
    if (users < 1)
        fail("users must be a positive number");
    cpu_set_t cores;
    CPU_ZERO(&cores);
    CPU_SET(0, &cores);
    if (sched_setaffinity(0, sizeof cores, &cores) != 0)
        fail("cannot pin to core 0");

    QTemporaryDir temporary;
    const std::filesystem::path directory =
        argc > 2 ? std::filesystem::path(argv[2])
                 : std::filesystem::path(temporary.path().toStdString());
    auto storage = SqliteStorage::open(directory / "bench-totp.db");
    const SecretBox box(randomBytes(SecretBox::keySize));
    const FixedClock clock(std::chrono::system_clock::time_point(std::chrono::seconds(1795537005)));
    TotpVerifier verifier(*storage, box, clock);
    const std::uint64_t step = *totpTimeStep(clock.now(), std::chrono::seconds(30));

    // Users with active TOTP whose last accepted step is long past.
    std::vector<std::string> ids;
    std::vector<Bytes> secrets;
    std::vector<std::string> codes;
    for (int i = 0; i < users; ++i) {
        User user;
        user.id = randomUuid();
        user.name = "user" + std::to_string(i);
        user.createdAt = clock.now();
        storage->addUser(user);
        Bytes secret = randomBytes(TotpVerifier::secretSize);
        storage->putPendingTotp(user.id, box.seal(secret, user.id),
                                clock.now() + std::chrono::minutes(15));
        if (!storage->activateTotp(user.id, step - 10, clock.now()))
            fail("activation failed");
        ids.push_back(user.id);
        codes.push_back(hotp(secret, step));
        secrets.push_back(std::move(secret));
    }
    std::vector<Bytes> sealed;
    for (const auto &id : ids)
        sealed.push_back(storage->userTotp(id)->sealedSecret);

    // Right codes: each user's current code once.
    auto started = SteadyClock::now();
    for (int i = 0; i < users; ++i)
        if (verifier.verify(ids[std::size_t(i)], codes[std::size_t(i)]).result !=
            TotpCheck::Result::Accepted)
            fail("a right code was refused");
    const double right = users / seconds(SteadyClock::now() - started);

    // Wrong codes: one per user (the first failure waits for nothing).
    started = SteadyClock::now();
    for (int i = 0; i < users; ++i) {
        const std::string wrong = codes[std::size_t(i)] == "000000" ? "000001" : "000000";
        if (verifier.verify(ids[std::size_t(i)], wrong).result != TotpCheck::Result::InvalidCode)
            fail("a wrong code was not refused as such");
    }
    const double wrong = users / seconds(SteadyClock::now() - started);

    // The codes alone: open the sealed secret, three HOTPs (the window), no database.
    const int rounds = 20;
    std::size_t matches = 0;
    started = SteadyClock::now();
    for (int r = 0; r < rounds; ++r)
        for (int i = 0; i < users; ++i) {
            const Bytes secret = box.open(sealed[std::size_t(i)], ids[std::size_t(i)]);
            for (std::uint64_t s = step - 1; s <= step + 1; ++s)
                matches += hotp(secret, s) == codes[std::size_t(i)];
        }
    const double compute = rounds * users / seconds(SteadyClock::now() - started);
    if (matches != std::size_t(rounds) * std::size_t(users))
        fail("the compute loop lost its codes");

    // The two parts of that apart: opening the sealed secret, and the three HOTPs.
    started = SteadyClock::now();
    for (int r = 0; r < rounds; ++r)
        for (int i = 0; i < users; ++i)
            matches += box.open(sealed[std::size_t(i)], ids[std::size_t(i)]).size();
    const double opens = rounds * users / seconds(SteadyClock::now() - started);
    started = SteadyClock::now();
    for (int r = 0; r < rounds; ++r)
        for (int i = 0; i < users; ++i)
            for (std::uint64_t s = step - 1; s <= step + 1; ++s)
                matches += hotp(secrets[std::size_t(i)], s).size();
    const double hotps = rounds * users / seconds(SteadyClock::now() - started);

    const double hmacs = opensslHmacSha1PerSecond();
    std::printf("TOTP checks on one core, %d users, SQLite at %s\n", users,
                (directory / "bench-totp.db").c_str());
    std::printf("  right code (read, open, 3 HMAC, write step): %9.0f checks/s\n", right);
    std::printf("  wrong code (read, open, 3 HMAC, write failure): %6.0f checks/s\n", wrong);
    std::printf("  codes alone (open, 3 HMAC):                  %9.0f checks/s\n", compute);
    std::printf("    of which opening the secret alone:          %9.0f per second\n", opens);
    std::printf("    of which the 3 HOTPs alone:                 %9.0f per second\n", hotps);
    std::printf("  openssl speed -hmac sha1 (16-byte inputs):   %9.0f HMACs/s (%.0f checks/s "
                "at 3 HMACs each)\n",
                hmacs, hmacs / 3);
    return 0;
}
