// Posture appraisals per second, end to end: the real vigil-verifier process pinned to one core,
// many TPM devices on a swtpm reporting over keep-alive HTTPS from the other core. Printed
// beside the crypto bound of one core (`openssl speed ecdsap256`, two ES256 verifies per
// report: the EAT and the quote).
//   bench_verifier [devices] [reports-per-device] [connections]     (default 40 250 16)
//
// Every report is a real one: an EAT signed by the device's TPM key around a TPM2_Quote made by
// the swtpm for a nonce the verifier issued. Quotes and signatures are made before the timed
// phase (a swtpm quote and signature cost ~1.5 ms of the load generator's core, which would
// otherwise bound the figure), so the timed phase is the verifier's work plus HTTPS.
#include "httpsclient.h"
#include "server/admin/admincommands.h"
#include "server/admin/datadirectory.h"
#include "server/storage/sqlitestorage.h"
#include "swtpmsimulator.h"
#include "testdevice.h"

#include <QByteArray>
#include <QProcess>
#include <QRegularExpression>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sched.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

using namespace vigil;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char *serverCore = "0";
constexpr const char *loadCore = "1";

[[noreturn]] void fail(const std::string &message)
{
    std::fprintf(stderr, "bench_verifier: %s\n", message.c_str());
    std::exit(1);
}

// CPU seconds a process has used (user and system, all its threads), from /proc/PID/stat.
double processCpuSeconds(qint64 pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i < 14; ++i)
        fields >> field;
    double utime = 0, stime = 0;
    if (!(fields >> utime >> stime))
        fail("cannot read /proc/" + std::to_string(pid) + "/stat");
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Clock ticks of one core: all of them, and those the hypervisor gave to another guest.
struct CoreTicks
{
    double total = 0;
    double stolen = 0;
};

CoreTicks coreTicks(const char *core)
{
    std::ifstream stat("/proc/stat");
    const std::string name = std::string("cpu") + core;
    for (std::string line; std::getline(stat, line);) {
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label != name)
            continue;
        CoreTicks ticks;
        double value = 0;
        // user nice system idle iowait irq softirq steal: the eighth is steal.
        for (int i = 0; i < 8 && fields >> value; ++i) {
            ticks.total += value;
            if (i == 7)
                ticks.stolen = value;
        }
        return ticks;
    }
    fail("no " + name + " in /proc/stat");
}

// `openssl speed` verifies per second for ECDSA P-256 on one core.
double opensslVerifiesPerSecond()
{
    QProcess speed;
    speed.start(QStringLiteral("taskset"),
                {QStringLiteral("-c"), QString::fromLatin1(serverCore), QStringLiteral("openssl"),
                 QStringLiteral("speed"), QStringLiteral("-elapsed"), QStringLiteral("-seconds"),
                 QStringLiteral("3"), QStringLiteral("ecdsap256")});
    if (!speed.waitForFinished(60000) || speed.exitCode() != 0)
        fail("openssl speed failed");
    const QString output = QString::fromLatin1(speed.readAllStandardOutput());
    const auto match =
        QRegularExpression(QStringLiteral(R"(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+))"))
            .match(output);
    if (!match.hasMatch())
        fail("cannot read openssl speed's output");
    return match.captured(2).toDouble();
}

struct PreparedDevice
{
    std::string id;
    std::vector<std::string> bodies; // report request bodies, in quote order
};

} // namespace

int main(int argc, char **argv)
{
    const int deviceCount = argc > 1 ? std::atoi(argv[1]) : 40;
    const int reportsPerDevice = argc > 2 ? std::atoi(argv[2]) : 250;
    const int connections = argc > 3 ? std::atoi(argv[3]) : 16;
    if (deviceCount < 1 || reportsPerDevice < 1 || connections < 1)
        fail("usage: bench_verifier [devices] [reports-per-device] [connections]");
    setenv("TSS2_LOG", "all+NONE", 1);

    // The load generator stays off the server's core.
    cpu_set_t loadCpu;
    CPU_ZERO(&loadCpu);
    CPU_SET(std::atoi(loadCore), &loadCpu);
    if (sched_setaffinity(0, sizeof loadCpu, &loadCpu) != 0)
        fail("cannot pin the load generator to core " + std::string(loadCore));

    test::SwtpmSimulator swtpm;
    const auto scratch = swtpm.scratchDirectory();
    const auto data = scratch / "verifier";
    std::ostringstream out, err;
    if (server::initDataDirectory(data, {"127.0.0.1"}, std::chrono::system_clock::now(), out,
                                  err) != 0)
        fail(err.str());
    const auto dir = server::DataDirectory::open(data);
    for (const auto &entry : std::filesystem::directory_iterator(swtpm.caDirectory()))
        if (entry.path().extension() == ".pem")
            std::filesystem::copy_file(entry.path(), dir.ekCaDirectory() / entry.path().filename());
    // Nonces must outlive the preparation phase.
    std::ofstream(dir.policy()) << R"({"version": 1, "nonce_ttl_seconds": 1800})";

    QProcess verifier;
    // The access log is written as in production (its cost is part of the figure) but not
    // shown.
    verifier.setStandardErrorFile(QProcess::nullDevice());
    verifier.start(QStringLiteral("taskset"),
                   {QStringLiteral("-c"), QString::fromLatin1(serverCore),
                    QStringLiteral(VIGIL_BINARY_DIR "/server/vigil-verifier"),
                    QStringLiteral("serve"), QStringLiteral("--data"),
                    QString::fromStdString(data.string()), QStringLiteral("--listen"),
                    QStringLiteral("127.0.0.1:0"), QStringLiteral("--threads"),
                    QString::number(connections + 8), QStringLiteral("--device-rate"),
                    QStringLiteral("1000000"), QStringLiteral("--device-burst"),
                    QStringLiteral("1000000"),
                    // Every bench device enrolls from this one address, like a fleet behind
                    // one NAT.
                    QStringLiteral("--address-rate"), QStringLiteral("1000000"),
                    QStringLiteral("--address-burst"), QStringLiteral("1000000")});
    if (!verifier.waitForReadyRead(15000))
        fail("vigil-verifier did not start");
    const QString banner = QString::fromUtf8(verifier.readLine());
    const auto url = QRegularExpression(QStringLiteral("serving (https://\\S+)")).match(banner);
    if (!url.hasMatch())
        fail("unexpected banner: " + banner.toStdString());
    const std::string baseUrl = url.captured(1).toStdString();

    std::ostringstream tokenOut;
    {
        auto storage = server::SqliteStorage::open(dir.database());
        server::TokenOptions options;
        options.uses = deviceCount;
        server::createEnrollmentToken(*storage, options, std::chrono::system_clock::now(), false,
                                      tokenOut);
    }
    const std::string enrollmentToken = tokenOut.str().substr(0, tokenOut.str().find('\n'));

    // Preparation: enroll each device, fetch its nonces, make its quotes and reports.
    std::printf("preparing %d devices x %d reports...\n", deviceCount, reportsPerDevice);
    std::fflush(stdout);
    const auto preparationStart = SteadyClock::now();
    std::vector<PreparedDevice> devices(deviceCount);
    auto setupClient = std::make_unique<test::HttpsClient>(dir.caCertificate());
    const auto now = [] { return std::chrono::system_clock::now(); };
    for (int d = 0; d < deviceCount; ++d) {
        // One TpmIdentity at a time: the swtpm has three transient object slots.
        auto device = test::TestDevice::tpm(swtpm, scratch / ("device" + std::to_string(d)), now);
        const json enrolled = device->enroll(*setupClient, baseUrl, enrollmentToken);
        devices[d].id = enrolled.at("device_id");
        const auto pcrs = enrolled.at("pcrs").get<std::vector<unsigned>>();
        std::vector<std::string> nonces{enrolled.at("nonce")};
        const std::string nonceUrl = baseUrl + "/v1/nonces";
        while (static_cast<int>(nonces.size()) < reportsPerDevice) {
            const auto response = setupClient->postJson(nonceUrl, R"({"version":1})",
                                                       {device->dpopHeader("POST", nonceUrl)});
            if (response.status != 200)
                fail("nonce: " + response.body);
            nonces.push_back(json::parse(response.body).at("nonce"));
        }
        for (const auto &nonce : nonces)
            devices[d].bodies.push_back(
                json{{"version", 1}, {"report", device->report(devices[d].id, nonce, pcrs)}}
                    .dump());
    }
    setupClient.reset(); // its idle keep-alive connection would hold a server thread
    std::printf("prepared in %.1f s\n",
                std::chrono::duration<double>(SteadyClock::now() - preparationStart).count());

    // Timed phase: `connections` keep-alive clients, each sending its devices' reports in
    // order (a device's quotes must arrive in the order the TPM made them).
    std::atomic<long> compliant{0}, other{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    std::string firstFailure;
    std::mutex failureMutex;
    for (int c = 0; c < connections; ++c) {
        threads.emplace_back([&, c] {
            test::HttpsClient client(dir.caCertificate());
            client.get(baseUrl + "/v1/health"); // connect and handshake before the clock runs
            while (!go)
                std::this_thread::yield();
            const std::string reportUrl = baseUrl + "/v1/reports";
            for (int d = c; d < deviceCount; d += connections)
                for (const auto &body : devices[d].bodies) {
                    const auto response = client.postJson(reportUrl, body);
                    if (response.status == 200 &&
                        response.body.find(R"("verdict":"compliant")") != std::string::npos) {
                        ++compliant;
                    } else {
                        ++other;
                        const std::lock_guard lock(failureMutex);
                        if (firstFailure.empty())
                            firstFailure = response.body;
                    }
                }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto start = SteadyClock::now();
    const double cpuAtStart = processCpuSeconds(verifier.processId());
    const CoreTicks ticksAtStart = coreTicks(serverCore);
    go = true;
    for (auto &thread : threads)
        thread.join();
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const double serverCpu = processCpuSeconds(verifier.processId()) - cpuAtStart;
    const CoreTicks ticksAtEnd = coreTicks(serverCore);
    const double stolenShare = (ticksAtEnd.stolen - ticksAtStart.stolen) /
                               std::max(1.0, ticksAtEnd.total - ticksAtStart.total);

    verifier.terminate();
    if (!verifier.waitForFinished(30000))
        fail("vigil-verifier did not stop within 30 s of SIGTERM");

    const long total = compliant + other;
    const double rate = static_cast<double>(total) / seconds;
    const double verifies = opensslVerifiesPerSecond();
    const double bound = verifies / 2.0;
    std::printf("reports: %ld (%ld compliant, %ld other) over %d connections in %.2f s\n", total,
                compliant.load(), other.load(), connections, seconds);
    if (other > 0)
        std::printf("first failure: %s\n", firstFailure.c_str());
    std::printf("appraisals/s on one server core: %.0f\n", rate);
    // Beside the rate: when the two agree the server was CPU-bound on its core; a gap means it
    // waited (for the load generator, for the disk) or the host took the core.
    const double cpuPerReport = serverCpu / static_cast<double>(total);
    std::printf("server CPU per appraisal: %.0f us (%.0f/s if the core were the server's "
                "alone); server core stolen by the host: %.1f %%\n",
                cpuPerReport * 1e6, 1.0 / cpuPerReport, stolenShare * 100);
    std::printf("crypto bound (openssl speed ecdsap256: %.0f verify/s, 2 per report): %.0f/s\n",
                verifies, bound);
    std::printf("ratio to the crypto bound: %.3f\n", rate / bound);
    std::printf("target >= 2000 appraisals/s per core: %s\n", rate >= 2000 ? "met" : "NOT met");
    return other > 0 ? 1 : 0;
}
