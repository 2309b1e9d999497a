// vigil-tray as people run it: the built binary as a process on a private desktop (Xvfb, trayer,
// dunst, a session bus), against a scripted vigild on a local socket (docs/ipc.md: subscribe,
// then state events). Measures start to icon shown on the panel, resident memory after start
// and after many state changes, and wake-ups while nothing changes.
//   bench_tray [runs] [events] [idle-seconds]     (default 10 3600 30)
//
//   runs          starts timed from the process's start to the compliant icon on the panel
//   events        state changes per batch (two batches): compliant, non-compliant with a
//                 different failing check each time, offline, in turn, sent as fast as the
//                 tray reads them
//   idle-seconds  the idle window: context switches of each of the tray's threads across it
//
// Figures and targets: docs/performance.md, section "vigil-tray".
#include "desktopsession.h"
#include "tests/app/scriptedvigild.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QLocalServer>
#include <QLocalSocket>
#include <QProcess>
#include <QThread>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <linux/sockios.h>
#include <map>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

using namespace vigil;
using namespace std::chrono_literals;
using protocol::ipc::AgentState;
using protocol::ipc::Status;
using test::DesktopSession;

namespace {

[[noreturn]] void fail(const QString &message)
{
    std::fprintf(stderr, "bench_tray: %s\n", qPrintable(message));
    std::exit(1);
}

// The fill colours of the state icons (ui/icons/make_icons.py).
constexpr QRgb compliantGreen = 0x2ea44f;
constexpr std::array<QRgb, 6> stateColours{0x2ea44f, 0xe3a21a, 0xd73a49,
                                           0x9aa4ae, 0x58a6ff, 0xd0d7de};

// trayer docks icons in the top rows of the screen.
const QRect panel(0, 0, 1280, 48);

int pixelsOf(const QImage &image, QRgb colour)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            count += (line[x] & 0xffffff) == colour;
    }
    return count;
}

bool anyStateIcon(const QImage &image)
{
    return std::any_of(stateColours.begin(), stateColours.end(),
                       [&](QRgb colour) { return pixelsOf(image, colour) > 20; });
}

// Statuses with times around now, so that none of them is in grace (report overdue, token about
// to expire) and the tray arms no timer that would fire during the bench.
Status compliant()
{
    const auto now = std::chrono::system_clock::now();
    Status status = test::compliantStatus();
    status.lastReportAt = std::chrono::floor<std::chrono::seconds>(now);
    status.lastVerdict->appraisedAt = *status.lastReportAt;
    status.nextReportAt = *status.lastReportAt + 15min;
    status.tokenExpiresAt = *status.lastReportAt + 10min;
    return status;
}

Status nonCompliant(int n)
{
    static const std::array<const char *, 6> checks{
        "firewall", "disk_encryption", "os_version", "screen_lock", "patch_level", "secure_boot"};
    Status status = compliant();
    status.state = AgentState::NonCompliant;
    status.tokenExpiresAt.reset();
    const std::string check = checks[size_t(n) % checks.size()];
    status.reason = "1 check fails: " + check;
    status.lastVerdict->verdict = protocol::Verdict::NonCompliant;
    status.lastVerdict->failingChecks = {
        {check, protocol::CheckOutcome::Fail,
         check + " does not meet the policy (" + std::to_string(n) + ")",
         "Fix " + check + " as the helpdesk page says"}};
    return status;
}

Status offline()
{
    Status status = compliant();
    status.state = AgentState::Offline;
    status.tokenExpiresAt.reset();
    status.verifierReachable = false;
    status.verifierLastError = "connect to verifier.example.com:8443 timed out";
    return status;
}

// vigild's side of the socket: subscribe answered with the status, then events to every
// subscriber, each sent once the tray has read the one before (the socket's queue is empty).
class Vigild
{
public:
    explicit Vigild(const QString &path)
    {
        QLocalServer::removeServer(path);
        if (!m_server.listen(path))
            fail(QStringLiteral("cannot listen on ") + path);
        QObject::connect(&m_server, &QLocalServer::newConnection, [this] {
            while (QLocalSocket *socket = m_server.nextPendingConnection()) {
                QObject::connect(socket, &QLocalSocket::readyRead,
                                 [this, socket] { read(socket); });
                QObject::connect(socket, &QLocalSocket::disconnected, [this, socket] {
                    std::erase(m_subscribers, socket);
                    socket->deleteLater();
                });
            }
        });
    }

    bool subscribed() const { return !m_subscribers.empty(); }

    // Sends status as an event and waits until every subscriber has read it.
    void send(const Status &status)
    {
        m_status = status;
        const std::string line = test::eventLine(status);
        for (QLocalSocket *socket : m_subscribers) {
            socket->write(line.data(), qint64(line.size()));
            while (socket->bytesToWrite() > 0 && socket->waitForBytesWritten(1000)) {
            }
            QElapsedTimer waited;
            waited.start();
            int unread = 1;
            while (ioctl(int(socket->socketDescriptor()), SIOCOUTQ, &unread) == 0 && unread > 0) {
                if (waited.hasExpired(10000))
                    fail(QStringLiteral("vigil-tray stopped reading its socket"));
                QThread::usleep(50);
            }
        }
    }

private:
    void read(QLocalSocket *socket)
    {
        while (socket->canReadLine()) {
            const auto request =
                nlohmann::json::parse(socket->readLine().toStdString(), nullptr, false);
            if (request.is_object() && request.value("method", "") == "subscribe") {
                m_subscribers.push_back(socket);
                const std::string answer = test::responseLine(request["id"], m_status.toJson());
                socket->write(answer.data(), qint64(answer.size()));
            }
        }
    }

    QLocalServer m_server;
    std::vector<QLocalSocket *> m_subscribers;
    Status m_status = compliant();
};

// Waits, serving the event loop, until done() or the timeout; whether done() held.
template <typename Done> bool waitFor(Done done, std::chrono::milliseconds timeout)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.hasExpired(timeout.count()))
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 2);
        QThread::msleep(2);
    }
    return true;
}

struct Memory
{
    long rss = 0; // KiB
    long pss = 0;
    long anonymous = 0;
};

// A number from a "Key: value" line of a file under /proc (such files have no size, so they are
// read whole rather than line by line to their end).
long procField(const QString &path, const QByteArray &key)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QByteArrayList lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith(key + ':'))
            return line.mid(key.size() + 1).simplified().split(' ').value(0).toLong();
    }
    return 0;
}

Memory memoryOf(qint64 pid)
{
    const QString proc = QStringLiteral("/proc/%1/").arg(pid);
    return {procField(proc + QStringLiteral("status"), "VmRSS"),
            procField(proc + QStringLiteral("smaps_rollup"), "Pss"),
            procField(proc + QStringLiteral("status"), "RssAnon")};
}

QString shown(const Memory &memory)
{
    return QStringLiteral("VmRSS %1 MiB, Pss %2 MiB, anonymous %3 MiB")
        .arg(double(memory.rss) / 1024, 0, 'f', 1)
        .arg(double(memory.pss) / 1024, 0, 'f', 1)
        .arg(double(memory.anonymous) / 1024, 0, 'f', 1);
}

// CPU time of all the process's threads, user and system, in clock ticks (/proc/PID/stat).
long cpuTicks(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray line = file.readAll();
    // The name (field 2) may hold spaces; fields 14 and 15 come after it.
    const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
    return fields.value(11).toLong() + fields.value(12).toLong();
}

struct Switches
{
    QString name;
    long voluntary = 0;
    long involuntary = 0;
};

// Context switches of each thread, by thread id.
std::map<qint64, Switches> switchesOf(qint64 pid)
{
    std::map<qint64, Switches> threads;
    const QString task = QStringLiteral("/proc/%1/task").arg(pid);
    for (const QString &tid : QDir(task).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(task + QLatin1Char('/') + tid + QStringLiteral("/comm"));
        if (!comm.open(QIODevice::ReadOnly))
            continue;
        const QString status = task + QLatin1Char('/') + tid + QStringLiteral("/status");
        threads[tid.toLongLong()] = {QString::fromUtf8(comm.readAll().trimmed()),
                                     procField(status, "voluntary_ctxt_switches"),
                                     procField(status, "nonvoluntary_ctxt_switches")};
    }
    return threads;
}

class Tray
{
public:
    Tray(DesktopSession &session, const QString &socket)
    {
        m_process.setProcessEnvironment(session.environment());
        m_process.setStandardOutputFile(QProcess::nullDevice());
        m_process.setStandardErrorFile(session.directory() + QStringLiteral("/vigil-tray.log"));
        m_process.setProgram(QStringLiteral(VIGIL_TRAY));
        m_process.setArguments({QStringLiteral("--socket"), socket});
    }
    ~Tray() { stop(); }

    void start()
    {
        m_process.start();
        if (!m_process.waitForStarted())
            fail(QStringLiteral("vigil-tray did not start: ") + m_process.errorString());
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }
    qint64 pid() const { return m_process.processId(); }
    bool running() const { return m_process.state() == QProcess::Running; }

private:
    QProcess m_process;
};

QByteArray cpuModel()
{
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (cpuinfo.open(QIODevice::ReadOnly)) {
        const QByteArrayList lines = cpuinfo.readAll().split('\n');
        for (const QByteArray &line : lines) {
            if (line.startsWith("model name"))
                return line.mid(line.indexOf(':') + 1).trimmed();
        }
    }
    return "unknown CPU";
}

double percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    const auto index =
        size_t(std::clamp(p / 100 * double(values.size()) - 0.5, 0.0, double(values.size() - 1)));
    return values[index];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const QStringList arguments = application.arguments();
    const int runs = arguments.value(1, QStringLiteral("10")).toInt();
    const int events = arguments.value(2, QStringLiteral("3600")).toInt();
    const int idleSeconds = arguments.value(3, QStringLiteral("30")).toInt();
    if (runs < 1 || events < 1 || idleSeconds < 1)
        fail(QStringLiteral("usage: bench_tray [runs] [events] [idle-seconds]"));

    if (const QString missing = DesktopSession::missingPrograms(DesktopSession::TrayHost::Trayer);
        !missing.isEmpty())
        fail(QStringLiteral("the desktop needs ") + missing);
    DesktopSession session(DesktopSession::TrayHost::Trayer);
    if (!session.start())
        fail(session.error());
    const QString socket = session.directory() + QStringLiteral("/vigild.sock");
    Vigild vigild(socket);
    const auto panelImage = [&] {
        const QImage image = session.grab(panel);
        if (image.isNull())
            fail(session.error());
        return image;
    };

    // 1. Start to icon: polled on the panel every few milliseconds; the process is ended and
    // its icon gone from the panel before the next run.
    std::vector<double> startMs;
    for (int run = 0; run < runs; ++run) {
        Tray tray(session, socket);
        QElapsedTimer started;
        started.start();
        tray.start();
        if (!waitFor([&] { return pixelsOf(panelImage(), compliantGreen) > 20; }, 10s))
            fail(QStringLiteral("no compliant icon on the panel within 10 s (see ") +
                 session.directory() + QStringLiteral("/vigil-tray.log)"));
        startMs.push_back(double(started.nsecsElapsed()) / 1e6);
        tray.stop();
        if (!waitFor([&] { return !anyStateIcon(panelImage()); }, 5s))
            fail(QStringLiteral("the icon stayed on the panel after vigil-tray ended"));
    }

    // 2. to 4. One tray for the rest: memory after start, two batches of state changes, idle.
    Tray tray(session, socket);
    tray.start();
    const qint64 pid = tray.pid();
    if (!waitFor([&] { return vigild.subscribed() && pixelsOf(panelImage(), compliantGreen) > 20; },
                 10s))
        fail(QStringLiteral("the long-running tray did not show its icon"));
    QThread::sleep(1);
    const Memory afterStart = memoryOf(pid);

    struct Batch
    {
        double seconds;
        double cpuMsPerEvent;
        Memory memory;
    };
    std::vector<Batch> batches;
    int sent = 0;
    for (int batch = 0; batch < 2; ++batch) {
        const long ticksBefore = cpuTicks(pid);
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < events; ++i, ++sent) {
            switch (i % 3) {
            case 0:
                vigild.send(compliant());
                break;
            case 1:
                vigild.send(nonCompliant(sent));
                break;
            default:
                vigild.send(offline());
                break;
            }
        }
        vigild.send(compliant());
        const double seconds = double(timer.nsecsElapsed()) / 1e9;
        // Whatever the last events started (notifications to dunst) ends before the memory is
        // read; the compliant icon on the panel says the tray has shown the last one.
        if (!waitFor([&] { return pixelsOf(panelImage(), compliantGreen) > 20; }, 10s))
            fail(QStringLiteral("the tray did not come back to compliant after the batch"));
        QThread::sleep(2);
        const double cpuMs =
            double(cpuTicks(pid) - ticksBefore) * 1000.0 / double(sysconf(_SC_CLK_TCK));
        batches.push_back({seconds, cpuMs / (events + 1), memoryOf(pid)});
        if (!tray.running())
            fail(QStringLiteral("vigil-tray ended during the state changes"));
    }

    // Idle: connected, the icon shown, nothing sent.
    QThread::sleep(2);
    const auto before = switchesOf(pid);
    QElapsedTimer idle;
    idle.start();
    QThread::sleep(unsigned(idleSeconds));
    const auto after = switchesOf(pid);
    const double idleElapsed = double(idle.nsecsElapsed()) / 1e9;
    const Memory afterIdle = memoryOf(pid);
    tray.stop();
    session.stop();

    std::printf("machine: %ld cores, %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpuModel().constData());
    std::printf("\n1. start to compliant icon on the panel (%d runs)\n", runs);
    std::printf("   median %.0f ms, p90 %.0f ms, min %.0f ms, max %.0f ms\n",
                percentile(startMs, 50), percentile(startMs, 90),
                *std::min_element(startMs.begin(), startMs.end()),
                *std::max_element(startMs.begin(), startMs.end()));
    std::printf("\n2. resident memory 1 s after start\n   %s\n", qPrintable(shown(afterStart)));
    std::printf("\n3. after state changes (compliant / non-compliant / offline in turn)\n");
    for (size_t i = 0; i < batches.size(); ++i)
        std::printf("   batch %zu, %d events in %.1f s, %.2f ms CPU an event: %s\n", i + 1,
                    events + 1, batches[i].seconds, batches[i].cpuMsPerEvent,
                    qPrintable(shown(batches[i].memory)));
    std::printf("   growth, start to batch 1: VmRSS %+ld KiB; batch 1 to batch 2: VmRSS %+ld KiB,"
                " Pss %+ld KiB, anonymous %+ld KiB\n",
                batches[0].memory.rss - afterStart.rss,
                batches[1].memory.rss - batches[0].memory.rss,
                batches[1].memory.pss - batches[0].memory.pss,
                batches[1].memory.anonymous - batches[0].memory.anonymous);
    std::printf("\n4. wake-ups across %.0f s idle (context switches, voluntary + involuntary)\n",
                idleElapsed);
    long total = 0;
    for (const auto &[tid, thread] : after) {
        const auto was = before.find(tid);
        const long voluntary = thread.voluntary - (was == before.end() ? 0 : was->second.voluntary);
        const long involuntary =
            thread.involuntary - (was == before.end() ? 0 : was->second.involuntary);
        total += voluntary + involuntary;
        std::printf("   %8lld %-16s %5ld + %ld\n", static_cast<long long>(tid),
                    qPrintable(thread.name), voluntary, involuntary);
    }
    std::printf("   all %zu threads: %ld; memory at the end: %s\n", after.size(), total,
                qPrintable(shown(afterIdle)));
    return 0;
}
