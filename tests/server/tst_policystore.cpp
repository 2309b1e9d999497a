#include "independentpython.h"
#include "server/policy/policystore.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <condition_variable>
#include <fcntl.h>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace vigil::server;
using namespace std::chrono_literals;

namespace {

// A generous bound: inotify delivers in microseconds, but CI machines stall.
constexpr auto patience = 30s;

std::string policyWithTtl(int seconds)
{
    return "{\"version\": 1, \"token_ttl_seconds\": " + std::to_string(seconds) + "}";
}

void writeFile(const std::string &path, const std::string &content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

// What the store's callbacks reported, for the test thread to wait on.
struct Reports
{
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<std::shared_ptr<const Policy>> reloads;
    std::vector<std::string> errors;

    PolicyStore::ReloadCallback onReload()
    {
        return [this](const std::shared_ptr<const Policy> &policy) {
            {
                const std::lock_guard lock(mutex);
                reloads.push_back(policy);
            }
            arrived.notify_all();
        };
    }

    PolicyStore::ErrorCallback onError()
    {
        return [this](const std::string &message) {
            {
                const std::lock_guard lock(mutex);
                errors.push_back(message);
            }
            arrived.notify_all();
        };
    }

    // Waits until a reload delivered a policy with this token TTL.
    bool waitForTtl(int seconds)
    {
        std::unique_lock lock(mutex);
        return arrived.wait_for(lock, patience, [&] {
            return std::any_of(reloads.begin(), reloads.end(),
                               [&](const auto &p) { return p->tokenTtl.count() == seconds; });
        });
    }

    bool waitForErrors(std::size_t count)
    {
        std::unique_lock lock(mutex);
        return arrived.wait_for(lock, patience, [&] { return errors.size() >= count; });
    }

    std::vector<std::string> errorsSoFar()
    {
        const std::lock_guard lock(mutex);
        return errors;
    }

    std::vector<long long> ttlsSoFar()
    {
        const std::lock_guard lock(mutex);
        std::vector<long long> ttls;
        for (const auto &policy : reloads)
            ttls.push_back(policy->tokenTtl.count());
        return ttls;
    }
};

} // namespace

class TestPolicyStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void loadsAtConstruction()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(240));
        PolicyStore store(path);
        QCOMPARE(store.current()->tokenTtl.count(), 240);
        QCOMPARE(store.file(), std::optional<std::filesystem::path>(path));
    }

    void invalidFileAtConstructionThrows()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        QCOMPARE(vigil::test::thrownMessage<PolicyError>([&] { PolicyStore store(path); }),
                 QByteArray::fromStdString(path + ": cannot open: No such file or directory"));
        writeFile(path, policyWithTtl(601));
        QCOMPARE(vigil::test::thrownMessage<PolicyError>([&] { PolicyStore store(path); }),
                 QByteArray::fromStdString(
                     path + ": /token_ttl_seconds: expected an integer 30..600, got 601"));
    }

    void missingDirectoryCannotBeWatched()
    {
        QTemporaryDir dir;
        const auto missing = dir.filePath(QStringLiteral("nowhere")).toStdString();
        QCOMPARE(
            vigil::test::thrownMessage<std::system_error>(
                [&] { PolicyStore store(missing + "/policy.json"); }),
            QByteArray::fromStdString("cannot watch " + missing + ": No such file or directory"));
    }

    void reloadsWhenTheFileIsRewritten()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());
        const auto before = store.current();

        writeFile(path, policyWithTtl(200));
        QVERIFY(reports.waitForTtl(200));
        QCOMPARE(store.current()->tokenTtl.count(), 200);
        QCOMPARE(before->tokenTtl.count(), 300); // readers holding the old one keep it intact
        QCOMPARE(reports.errorsSoFar(), std::vector<std::string>{});
    }

    void reloadsWhenAFileIsRenamedOntoIt()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        const auto staged = dir.filePath(QStringLiteral(".policy.json.tmp")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());

        writeFile(staged, policyWithTtl(120));
        QCOMPARE(::rename(staged.c_str(), path.c_str()), 0);
        QVERIFY(reports.waitForTtl(120));
        QCOMPARE(store.current()->tokenTtl.count(), 120);
        // The staging file's own writes were not taken for the policy's.
        QCOMPARE(reports.ttlsSoFar(), std::vector<long long>{120});
    }

    void reloadsWhenTheFileIsDeletedAndWrittenAgain()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());

        QCOMPARE(::unlink(path.c_str()), 0);
        writeFile(path, policyWithTtl(90));
        QVERIFY(reports.waitForTtl(90));
        QCOMPARE(store.current()->tokenTtl.count(), 90);
        QCOMPARE(reports.errorsSoFar(), std::vector<std::string>{});
    }

    // `cp` and many editors create the file empty, then write it: the empty file is not
    // reported as a broken policy.
    void fileCreatedEmptyIsWaitedForUntilWritten()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());
        QCOMPARE(::unlink(path.c_str()), 0);

        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        QVERIFY(fd >= 0);
        const auto text = policyWithTtl(60);
        QCOMPARE(::write(fd, text.data(), text.size()), ssize_t(text.size()));
        QCOMPARE(::close(fd), 0);
        QVERIFY(reports.waitForTtl(60));
        QCOMPARE(reports.errorsSoFar(), std::vector<std::string>{});
    }

    void invalidFileKeepsThePolicyInForce()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());
        const auto before = store.current();

        writeFile(path, policyWithTtl(601));
        QVERIFY(reports.waitForErrors(1));
        QCOMPARE(reports.errorsSoFar(),
                 std::vector<std::string>{
                     path + ": /token_ttl_seconds: expected an integer 30..600, got 601"});
        QCOMPARE(store.current(), before);
        QCOMPARE(reports.ttlsSoFar(), std::vector<long long>{});

        writeFile(path, "{\"version\": 1,");
        QVERIFY(reports.waitForErrors(2));
        QCOMPARE(reports.errorsSoFar().back(),
                 path + ": not valid UTF-8 JSON at line 1, column 15");
        QCOMPARE(store.current(), before);

        // Fixed: taken up again.
        writeFile(path, policyWithTtl(150));
        QVERIFY(reports.waitForTtl(150));
        QCOMPARE(store.current()->tokenTtl.count(), 150);
    }

    void otherFilesInTheDirectoryAreIgnored()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());

        writeFile(dir.filePath(QStringLiteral("policy.json.bak")).toStdString(), "garbage");
        writeFile(dir.filePath(QStringLiteral("notes.txt")).toStdString(), "garbage");
        QCOMPARE(::rename(dir.filePath(QStringLiteral("notes.txt")).toStdString().c_str(),
                          dir.filePath(QStringLiteral("notes2.txt")).toStdString().c_str()),
                 0);
        // Events arrive in order: had any of those been taken for the policy, its reload (of
        // the unchanged file) would come before this one.
        writeFile(path, policyWithTtl(45));
        QVERIFY(reports.waitForTtl(45));
        QCOMPARE(reports.ttlsSoFar(), std::vector<long long>{45});
        QCOMPARE(reports.errorsSoFar(), std::vector<std::string>{});
    }

    void reloadOnRequest()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());
        QVERIFY(store.reload());
        QVERIFY(reports.waitForTtl(300));
    }

    void fixedPolicyIsNeverReloaded()
    {
        Policy policy;
        policy.tokenTtl = std::chrono::seconds(77);
        PolicyStore store(policy);
        QCOMPARE(store.current()->tokenTtl.count(), 77);
        QVERIFY(!store.reload());
        QCOMPARE(store.file(), std::nullopt);
    }

    // Readers on other threads see one whole policy or the next, never a torn one, while the
    // file changes under them.
    void readersDuringReloads()
    {
        QTemporaryDir dir;
        const auto path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        const auto policyText = [](int ttl) {
            return "{\"version\": 1, \"token_ttl_seconds\": " + std::to_string(ttl) +
                   ", \"nonce_ttl_seconds\": " + std::to_string(ttl + 1) + "}";
        };
        writeFile(path, policyText(100));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());

        std::atomic<bool> stop{false};
        std::atomic<long long> reads{0};
        std::atomic<bool> torn{false};
        std::vector<std::thread> readers;
        for (int i = 0; i < 4; ++i)
            readers.emplace_back([&] {
                while (!stop) {
                    const auto policy = store.current();
                    if (policy->nonceTtl != policy->tokenTtl + std::chrono::seconds(1))
                        torn = true;
                    ++reads;
                }
            });
        for (int ttl = 101; ttl <= 120; ++ttl) {
            writeFile(path, policyText(ttl));
            QVERIFY(reports.waitForTtl(ttl));
        }
        stop = true;
        for (auto &reader : readers)
            reader.join();
        QVERIFY(!torn);
        QVERIFY(reads > 0);
        QCOMPARE(store.current()->tokenTtl.count(), 120);
    }

    void directoryRemovedIsReported()
    {
        QTemporaryDir parent;
        const auto directory = parent.filePath(QStringLiteral("etc")).toStdString();
        std::filesystem::create_directory(directory);
        const auto path = directory + "/policy.json";
        writeFile(path, policyWithTtl(300));
        Reports reports;
        PolicyStore store(path, reports.onReload(), reports.onError());

        std::filesystem::remove_all(directory);
        QVERIFY(reports.waitForErrors(1));
        QCOMPARE(reports.errorsSoFar(),
                 std::vector<std::string>{"stopped watching " + path + ": " + directory +
                                          " was removed or renamed"});
        QCOMPARE(store.current()->tokenTtl.count(), 300);
    }
};

QTEST_APPLESS_MAIN(TestPolicyStore)
#include "tst_policystore.moc"
