// Times SqliteStorage on the verifier's hot paths, on a real file (put it on the disk the
// verifier would use, not tmpfs):
//   posture: recordReport (nonce used, device read and checked, appraisal, counters, next
//            nonce: the storage part of one posture appraisal) from 1, 2 and 8 threads, each
//            thread on its own devices;
//   addNonce alone (the nonce endpoint), and deviceByJkt (every DPoP-authenticated request).
// Prints operations per second, per-operation latency (median, p99) and process CPU time per
// operation (the checkpointer thread's included), which is what "per core" budgets count.
//   bench_storage [iterations (default 20000)] [directory (default the system temp directory)]
#include "server/storage/sqlitestorage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

using namespace vigil::server;
using vigil::Bytes;
using SteadyClock = std::chrono::steady_clock;

namespace {

const TimePoint now = std::chrono::system_clock::now();
constexpr int deviceCount = 1000;

std::string deviceId(int i)
{
    return "device-" + std::to_string(i);
}

// About what a posture appraisal's response carries: eight checks with summaries.
std::string checksJson()
{
    std::string json = "[";
    for (int i = 0; i < 8; ++i) {
        json += std::string(i ? "," : "") + "{\"id\":\"check_" + std::to_string(i) +
                "\",\"status\":\"pass\",\"summary\":\"" + std::string(120, 's') +
                "\",\"remediation\":\"\"}";
    }
    return json + "]";
}

struct Result
{
    double perSecond;
    double medianUs;
    double p99Us;
    double p999Us;
    double maxUs;
    double meanUs;
    double cpuUs; // process CPU time per operation, every thread's
};

double processCpuSeconds()
{
    timespec time{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time);
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) * 1e-9;
}

void print(const char *name, int threads, const Result &r)
{
    std::printf("%-24s threads=%d %7.0f /s  cpu %5.1f us/op (%6.0f /s per core)  latency us: "
                "median %5.1f mean %6.1f p99 %7.1f p99.9 %7.1f max %7.1f\n",
                name, threads, r.perSecond, r.cpuUs, 1e6 / r.cpuUs, r.medianUs, r.meanUs, r.p99Us,
                r.p999Us, r.maxUs);
}

// Runs body(thread, i) for i in [0, perThread) on each of `threads` threads.
template <typename F> Result run(int threads, int perThread, F body)
{
    std::vector<std::vector<double>> latencies(threads);
    std::vector<std::thread> workers;
    const double cpuStart = processCpuSeconds();
    const auto start = SteadyClock::now();
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            latencies[t].reserve(perThread);
            for (int i = 0; i < perThread; ++i) {
                const auto begin = SteadyClock::now();
                body(t, i);
                latencies[t].push_back(
                    std::chrono::duration<double, std::micro>(SteadyClock::now() - begin).count());
            }
        });
    }
    for (auto &worker : workers)
        worker.join();
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const double cpu = processCpuSeconds() - cpuStart;
    std::vector<double> all;
    for (const auto &l : latencies)
        all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    const auto operations = static_cast<double>(all.size());
    double sum = 0;
    for (double l : all)
        sum += l;
    return {operations / seconds,         all[all.size() / 2], all[all.size() * 99 / 100],
            all[all.size() * 999 / 1000], all.back(),          sum / operations,
            cpu / operations * 1e6};
}

void fail(const char *what)
{
    std::fprintf(stderr, "bench_storage: %s\n", what);
    std::exit(1);
}

} // namespace

int main(int argc, char **argv)
{
    const int iterations = argc > 1 ? std::max(100, std::atoi(argv[1])) : 20000;
    const std::filesystem::path parent =
        argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path();
    const std::filesystem::path dir = parent / ("vigil-storage-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::printf("%d operations per line, database in %s\n", iterations, dir.c_str());

    {
        auto storage = SqliteStorage::open(dir / "verifier.db");
        for (int i = 0; i < deviceCount; ++i) {
            Device device;
            device.id = deviceId(i);
            device.jkt = "jkt-" + std::to_string(i);
            device.deviceKeyJwk = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" +
                                  std::string(43, 'x') + "\",\"y\":\"" + std::string(43, 'y') +
                                  "\"}";
            device.assurance = "tpm";
            device.hostname = "ws-" + std::to_string(i);
            device.ekPublic = Bytes(314, 0x11);
            device.akPublic = Bytes(90, 0x22);
            device.enrollmentTokenId = "et_0123456789abcdef";
            device.enrolledAt = now;
            storage->addDevice(device);
        }
        const std::string checks = checksJson();

        for (const int threads : {1, 2, 8}) {
            // Each thread owns deviceCount / threads devices, with each one's outstanding nonce
            // and last counters, as the report handler would see them.
            const int owned = deviceCount / threads;
            struct DeviceState
            {
                std::string nonce;
                std::uint64_t clock = 0;
            };
            std::vector<std::vector<DeviceState>> state(threads, std::vector<DeviceState>(owned));
            const auto nonceName = [threads](int t, int i) {
                return "nonce-" + std::to_string(threads) + "-" + std::to_string(t) + "-" +
                       std::to_string(i) + std::string(24, 'n');
            };
            for (int t = 0; t < threads; ++t) {
                for (int d = 0; d < owned; ++d) {
                    state[t][d].nonce = nonceName(t, -1 - d);
                    storage->addNonce(deviceId(t * owned + d), state[t][d].nonce,
                                      now + std::chrono::minutes(5));
                    if (const auto counters = storage->device(deviceId(t * owned + d))->counters)
                        state[t][d].clock = counters->clock;
                }
            }
            const int perThread = iterations / threads;
            const Result r = run(threads, perThread, [&](int t, int i) {
                DeviceState &device = state[t][i % owned];
                const std::string id = deviceId(t * owned + i % owned);
                ReportRecord record;
                Appraisal &appraisal = record.appraisal;
                appraisal.id = "a-" + std::to_string(threads) + "-" + std::to_string(t) + "-" +
                               std::to_string(i);
                appraisal.deviceId = id;
                appraisal.appraisedAt = now;
                appraisal.verdict = "compliant";
                appraisal.checksJson = checks;
                appraisal.reportJti = "jti-" + appraisal.id;
                record.nonce = device.nonce;
                record.counters = TpmCounters{device.clock + 1000, 1, 0};
                record.nextNonce = nonceName(t, i);
                record.nextNonceExpiresAt = now + std::chrono::minutes(5);
                storage->recordReport(record, [&](const Device &stored, NonceUse nonce) {
                    if (nonce != NonceUse::Consumed)
                        fail("recordReport did not consume the nonce it was given");
                    if ((stored.counters ? stored.counters->clock : 0) != device.clock)
                        fail("recordReport showed other counters than the last report stored");
                });
                device.clock += 1000;
                device.nonce = record.nextNonce;
            });
            print("posture (recordReport)", threads, r);
        }

        for (const int threads : {1, 8}) {
            const int perThread = iterations / threads;
            const auto name = [threads](int t, int i) {
                return "solo-" + std::to_string(threads) + "-" + std::to_string(t) + "-" +
                       std::to_string(i);
            };
            const Result add = run(threads, perThread, [&](int t, int i) {
                storage->addNonce(deviceId((t * perThread + i) % deviceCount), name(t, i),
                                  now + std::chrono::minutes(5));
            });
            print("addNonce", threads, add);
        }

        for (const int threads : {1, 8}) {
            const int perThread = iterations / threads;
            const Result r = run(threads, perThread, [&](int t, int i) {
                if (!storage->deviceByJkt("jkt-" + std::to_string((t * 7919 + i) % deviceCount)))
                    fail("deviceByJkt lost a device");
            });
            print("deviceByJkt", threads, r);
        }
    }
    // What this machine does to a pure-CPU operation of a posture iteration's length: on a
    // busy machine the latency tails above are mostly this, not SQLite.
    const Result spin = run(1, iterations, [](int, int) {
        const auto until = SteadyClock::now() + std::chrono::microseconds(60);
        while (SteadyClock::now() < until) {
        }
    });
    print("baseline: 60 us of CPU", 1, spin);
    std::filesystem::remove_all(dir);
    return 0;
}
