// `vigil-verifier serve`: the API over HTTPS until SIGINT or SIGTERM.
#include "core/clock.h"
#include "protocol/jose/softwaredevicekey.h"
#include "server/admin/admincommands.h"
#include "server/admin/datadirectory.h"
#include "server/api/verifierservice.h"
#include "server/commands/commandoptions.h"
#include "server/filewatcher.h"
#include "server/http/httpsserver.h"
#include "server/policy/policystore.h"
#include "server/storage/sqlitestorage.h"
#include "server/tls/tlscertificatereloader.h"

#include <QLoggingCategory>
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

Q_LOGGING_CATEGORY(lcServe, "vigil.verifier.serve")

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

// Each connection is a descriptor, and the usual soft limit (1024) is far below the connections
// the server is built to hold: raised to the hard limit, with room kept for the database,
// watches and logs. Returns the cap that fits.
std::size_t connectionsTheDescriptorLimitAllows(std::size_t wanted)
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return std::min<std::size_t>(wanted, 896);
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    constexpr rlim_t reserved = 128;
    const rlim_t usable = limit.rlim_cur > 2 * reserved ? limit.rlim_cur - reserved : reserved;
    if (usable < wanted)
        qCWarning(lcServe) << "the descriptor limit allows" << qulonglong(usable)
                           << "connections at once (raise LimitNOFILE for more)";
    return std::min<std::size_t>(wanted, usable);
}

// serve's maintenance pass: expired nonces purged, the TLS certificate looked at again.
constexpr std::chrono::minutes passInterval{10};

// Blocks SIGINT and SIGTERM in every thread (call before starting any) and waits for either
// on its own thread, so shutdown never runs inside a signal handler.
class ShutdownSignals
{
public:
    ShutdownSignals()
    {
        sigemptyset(&m_set);
        sigaddset(&m_set, SIGINT);
        sigaddset(&m_set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &m_set, nullptr);
    }
    std::thread watch(std::function<void()> onSignal)
    {
        return std::thread([this, onSignal = std::move(onSignal)] {
            int signal = 0;
            sigwait(&m_set, &signal);
            onSignal();
        });
    }

private:
    sigset_t m_set{};
};

// "ADDRESS:PORT" or "[IPv6]:PORT" into the server's options; the address must be an IP address.
void readListenAddress(const std::string &listen, HttpsServerOptions &https)
{
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos)
        throw cli::UsageError("--listen needs ADDRESS:PORT");
    std::string address = listen.substr(0, colon);
    if (address.size() > 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
    boost::system::error_code error;
    boost::asio::ip::make_address(address, error);
    if (error)
        throw cli::UsageError("--listen needs an IP address before the port, not '" + address +
                              "'");
    const auto port = parseNumber(listen.substr(colon + 1), 0, 65535);
    if (!port)
        throw cli::UsageError("--listen needs a port from 0 to 65535");
    https.address = address;
    https.port = *port;
}

// A renewed tls.pem or tls-key.pem is looked at as soon as it changes; where inotify fails, the
// maintenance pass is all there is, and the log says so.
std::vector<std::unique_ptr<FileWatcher>> watchCertificateFiles(const DataDirectory &data,
                                                                TlsCertificateReloader &certificate)
{
    const auto watchLost = [](const std::string &error) {
        qCWarning(lcServe).noquote()
            << (error + "; a renewed TLS certificate is picked up within " +
                std::to_string(passInterval.count()) + " minutes")
                   .c_str();
    };
    std::vector<std::unique_ptr<FileWatcher>> watches;
    for (const auto &file : {data.tlsCertificate(), data.tlsKey()}) {
        try {
            watches.push_back(std::make_unique<FileWatcher>(
                file, [&certificate] { certificate.check(); }, watchLost));
        } catch (const std::exception &e) {
            watchLost("cannot watch " + file.string() + " (" + e.what() + ")");
            break; // the other file is in the same directory: it would fail alike
        }
    }
    return watches;
}

// The TLS certificate's and the CA's ends, warned about at start and then once a day.
void warnOfCertificateExpiry(const TlsCertificateInfo &presented, TimePoint caNotAfter,
                             const std::filesystem::path &dir, TimePoint now,
                             std::chrono::sys_days &lastWarned)
{
    const auto today = std::chrono::floor<std::chrono::days>(now);
    const std::string warning = certificateExpiryWarning(presented, caNotAfter, dir, now);
    if (!warning.empty() && today != lastWarned) {
        qCWarning(lcServe).noquote() << warning.c_str();
        lastWarned = today;
    }
}

// Expired nonces and enrollments go on a timer, not on request paths: pass() runs at once and
// then every passInterval on a thread of its own, until the object goes away.
class MaintenancePass
{
public:
    explicit MaintenancePass(std::function<void()> pass)
        : m_thread([this, pass = std::move(pass)] {
              std::unique_lock lock(m_mutex);
              while (!m_stopping) {
                  lock.unlock();
                  pass();
                  lock.lock();
                  m_stopped.wait_for(lock, passInterval, [this] { return m_stopping; });
              }
          })
    {
    }
    ~MaintenancePass()
    {
        {
            const std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_stopped.notify_all();
        m_thread.join();
    }
    MaintenancePass(const MaintenancePass &) = delete;
    MaintenancePass &operator=(const MaintenancePass &) = delete;

private:
    std::mutex m_mutex;
    std::condition_variable m_stopped;
    bool m_stopping = false;
    std::thread m_thread; // last: starts once the members it uses exist
};

class ServeCommand : public cli::Command
{
public:
    ServeCommand()
    {
        m_name = u"serve"_s;
        m_synopsis = u"--data DIR [--listen ADDR:PORT] [--public-url URL] [options]"_s;
        m_description = u"Serve the API over HTTPS (default 127.0.0.1:8443)."_s;
        m_help = u"Serves the API over HTTPS (default 127.0.0.1:8443) until SIGINT or SIGTERM. "
                 "Requests are limited per device (default 1/s, bursts of 20) and, for enrollment "
                 "and reports that are no enrolled device's, per client address (default 2/s, "
                 "bursts of 20; raise it when many devices enroll from behind one NAT).\n\n"
                 "A renewed TLS certificate (tls renew) is presented from the next connection. "
                 "serve warns 30 days before the certificate runs out, and 180 days before the CA "
                 "does."_s;
        m_options = {dataOption(),  m_listen,      m_publicUrl,    m_threads,   m_deviceRate,
                     m_deviceBurst, m_addressRate, m_addressBurst, m_totpIssuer};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override;

private:
    const QCommandLineOption m_listen{
        u"listen"_s, u"The address and port to listen on; port 0 picks a free one."_s,
        u"ADDR:PORT"_s};
    const QCommandLineOption m_publicUrl{
        u"public-url"_s,
        u"The URL devices use (default https://ADDR:PORT); needed when listening on every "
        "address."_s,
        u"URL"_s};
    const QCommandLineOption m_threads{
        u"threads"_s, u"Requests handled at once (default 16, at most 1024)."_s, u"N"_s};
    const QCommandLineOption m_deviceRate{
        u"device-rate"_s, u"Requests per second each device may make (default 1)."_s,
        u"PER_SECOND"_s};
    const QCommandLineOption m_deviceBurst{
        u"device-burst"_s, u"Requests a device may make at once (default 20)."_s, u"N"_s};
    const QCommandLineOption m_addressRate{
        u"address-rate"_s,
        u"Requests per second each client address may make for what is no enrolled device's "
        "(default 2)."_s,
        u"PER_SECOND"_s};
    const QCommandLineOption m_totpIssuer{
        u"totp-issuer"_s,
        u"The issuer authenticator apps show beside a user's TOTP (default Vigil)."_s, u"NAME"_s};
    const QCommandLineOption m_addressBurst{
        u"address-burst"_s, u"Requests a client address may make at once (default 20)."_s, u"N"_s};
};

int ServeCommand::run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err)
{
    const auto dir = dataDirectory(invocation);
    HttpsServerOptions https;
    if (const std::string listen = invocation.value(m_listen); !listen.empty())
        readListenAddress(listen, https);
    const std::string address = https.address;
    readNumber(invocation, m_threads, 1, 1024, https.threads,
               "--threads needs a number from 1 to 1024");
    VerifierOptions options;
    constexpr double maxRate = 1e9;
    readNumber(invocation, m_deviceRate, 0.001, maxRate, options.deviceRequestsPerSecond,
               "--device-rate needs a number of requests per second above 0");
    readNumber(invocation, m_deviceBurst, 1.0, maxRate, options.deviceBurst,
               "--device-burst needs a number of requests, at least 1");
    readNumber(invocation, m_addressRate, 0.001, maxRate, options.peerRequestsPerSecond,
               "--address-rate needs a number of requests per second above 0");
    readNumber(invocation, m_addressBurst, 1.0, maxRate, options.peerBurst,
               "--address-burst needs a number of requests, at least 1");
    if (const std::string issuer = invocation.value(m_totpIssuer); !issuer.empty()) {
        // The otpauth:// label is ISSUER:NAME: a ':' would move the split.
        if (issuer.find(':') != std::string::npos || issuer.size() > 64)
            throw cli::UsageError("--totp-issuer needs a name of at most 64 bytes without ':'");
        options.totpIssuer = issuer;
    }
    std::string publicUrl = invocation.value(m_publicUrl);
    if (publicUrl.empty() && boost::asio::ip::make_address(https.address).is_unspecified())
        throw cli::UsageError("listening on every address needs --public-url (the URL devices "
                              "use, e.g. https://verifier.example.com:8443)");

    ShutdownSignals signals;
    try {
        const DataDirectory data = DataDirectory::open(dir);
        auto storage = SqliteStorage::open(data.database());
        PolicyStore policies(
            data.policy(),
            [&data](const std::shared_ptr<const Policy> &) {
                qCInfo(lcServe) << "policy reloaded from" << data.policy().c_str();
            },
            [](const std::string &error) {
                qCWarning(lcServe)
                    << "policy change rejected, the previous policy stays:" << error.c_str();
            });
        auto tokenKey = vigil::protocol::SoftwareDeviceKey::load(data.tokenSigningKey());
        vigil::SystemClock clock;

        https.credentials = data.tlsCredentials();
        https.maxConnections = connectionsTheDescriptorLimitAllows(https.maxConnections);
        std::unique_ptr<VerifierService> service;
        HttpsServer server(
            https, [&service](const HttpRequest &request) { return service->handle(request); },
            [](const std::string &method, const std::string &path, int status,
               std::chrono::microseconds duration, const std::string &peer) {
                qCInfo(lcServe).noquote()
                    << peer.c_str() << method.c_str() << path.c_str() << status
                    << QString::number(double(duration.count()) / 1000.0, 'f', 1) +
                           QStringLiteral(" ms");
            });

        options.publicUrl =
            publicUrl.empty()
                ? "https://" +
                      (address.find(':') != std::string::npos ? "[" + address + "]" : address) +
                      ":" + std::to_string(server.port())
                : publicUrl;
        options.ekCaDirectory = data.ekCaDirectory().string();
        options.secretBoxKey = data.secretBoxKey();
        service = std::make_unique<VerifierService>(*storage, policies, *tokenKey, clock, options);

        // A renewed tls.pem is presented from the next handshake. The watches see a renewal at
        // once; the periodic pass below retries what could not be read then, and is all there
        // is where inotify is not available.
        TlsCertificateReloader certificate(data, server, clock);
        const TimePoint caNotAfter = data.caNotAfter(); // agents pin it: it never changes here
        const auto certificateWatches = watchCertificateFiles(data, certificate);
        const MaintenancePass maintenance([&, lastWarned = std::chrono::sys_days{}]() mutable {
            try {
                storage->purgeExpired(clock.now());
            } catch (const std::exception &e) {
                qCWarning(lcServe) << "purging expired nonces failed:" << e.what();
            }
            certificate.check();
            warnOfCertificateExpiry(certificate.presented(), caNotAfter, dir, clock.now(),
                                    lastWarned);
        });
        std::thread watcher = signals.watch([&] {
            qCInfo(lcServe) << "stopping";
            server.stop();
        });

        out << "vigil-verifier: serving " << options.publicUrl << " on " << address << ":"
            << server.port() << std::endl;
        const bool ok = server.serve();
        // The signal thread is still waiting when serve() ended on its own (listener failure).
        pthread_kill(watcher.native_handle(), SIGTERM);
        watcher.join();
        return ok ? 0 : 1;
    } catch (const std::exception &e) {
        err << "vigil-verifier: " << e.what() << "\n";
        return 1;
    }
}

} // namespace

std::unique_ptr<cli::Command> serve()
{
    return std::make_unique<ServeCommand>();
}

} // namespace vigil::server::commands
