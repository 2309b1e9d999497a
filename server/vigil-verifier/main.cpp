// vigil-verifier: the reference verifier — enrollment, posture appraisal and access tokens over
// HTTPS, plus the administrative commands that manage its data directory.
#include "core/clock.h"
#include "protocol/jose/softwaredevicekey.h"
#include "server/admin/admincommands.h"
#include "server/admin/datadirectory.h"
#include "server/api/verifierservice.h"
#include "server/filewatcher.h"
#include "server/http/httpsserver.h"
#include "server/logline.h"
#include "server/policy/policystore.h"
#include "server/storage/sqlitestorage.h"
#include "server/tls/tlscertificatereloader.h"

#include <QLoggingCategory>
#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

Q_LOGGING_CATEGORY(lcServe, "vigil.verifier.serve")

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

using namespace vigil::server;

// serve's maintenance pass: expired nonces purged, the TLS certificate looked at again.
constexpr std::chrono::minutes passInterval{10};

constexpr const char *usage = R"(Usage: vigil-verifier <command> [options]

Commands:
  init --data DIR --name NAME [--name NAME ...]
                         Create the data directory: a CA, a TLS certificate for the
                         names agents connect to, the token-signing key, an empty
                         database and the default policy. Prints the CA fingerprint.
  serve --data DIR [--listen ADDR:PORT] [--public-url URL] [--threads N]
        [--device-rate PER_SECOND] [--device-burst N]
        [--address-rate PER_SECOND] [--address-burst N]
                         Serve the API over HTTPS (default 127.0.0.1:8443).
                         Requests are limited per device (default 1/s, bursts of
                         20) and, for enrollment and reports that are no enrolled
                         device's, per client address (default 2/s, bursts of 20;
                         raise it when many devices enroll from behind one NAT).
  token create --data DIR [--uses N] [--ttl DURATION] [--label TEXT] [--json]
                         Create an enrollment token (default: single use, 24h).
  token list --data DIR [--json]
  token revoke --data DIR ID
  devices list --data DIR [--json]
  devices show --data DIR ID [--json]
  devices revoke --data DIR ID [--reason TEXT]
                         A revoked device gets no token from that moment.
  policy check FILE      Validate a policy file; errors point at the bad entry.
  tls renew --data DIR [--name NAME ...] [--new-key] [--json]
                         Issue the TLS certificate again from the data directory's
                         CA, for 397 days (never past the CA's end), for the names
                         given or else the names it has. Agents keep trusting it
                         (same CA); a running serve presents it from its next
                         connection. serve warns 30 days before the certificate runs
                         out, and 180 days before the CA does. Also mends a tls.pem
                         that serve refuses (give --name when it is unreadable).
                         --new-key replaces the TLS key too, for one others may
                         have seen or one that is lost.

Options:
  --data DIR             The verifier's data directory (also $VIGIL_VERIFIER_DATA).
  --json                 Print machine-readable JSON.
  -h, --help             Show this help.
  --version              Show the version.

DURATION is seconds or a number with s, m, h or d (e.g. 30m, 24h, 7d).
Exit status: 0 on success, 1 if the command failed (reason on stderr), 2 on a usage error.
)";

int usageError(const std::string &message)
{
    std::cerr << "vigil-verifier: " << message << "\n\n" << usage;
    return 2;
}

struct Arguments
{
    std::vector<std::string> words;
    std::map<std::string, std::vector<std::string>> values;
    bool json = false;
    bool newKey = false;

    std::string value(const std::string &option) const
    {
        const auto it = values.find(option);
        return it == values.end() ? std::string() : it->second.back();
    }
};

const std::vector<std::string> valueOptions = {
    "--data",        "--name",         "--listen",       "--public-url",  "--threads",
    "--uses",        "--ttl",          "--label",        "--reason",      "--device-rate",
    "--device-burst", "--address-rate", "--address-burst"};

// The whole of text as a number from min to max, or nothing ("5x", "" and "1e999" are not).
template <typename Number>
std::optional<Number> parseNumber(const std::string &text, Number min, Number max)
{
    Number value{};
    const char *end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end || !(value >= min && value <= max))
        return std::nullopt;
    return value;
}

// Reads a numeric option into target when it is given; false when it is given but no number
// from min to max.
template <typename Number>
bool numericOption(const Arguments &arguments, const std::string &option, Number min, Number max,
                   Number &target)
{
    if (!arguments.values.count(option))
        return true;
    const auto value = parseNumber(arguments.value(option), min, max);
    if (value)
        target = *value;
    return value.has_value();
}

// A usage error found below main's argument loop: exit 2 with the usage, like the others.
struct UsageError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

std::filesystem::path dataDirectory(const Arguments &arguments)
{
    std::string dir = arguments.value("--data");
    if (dir.empty())
        if (const char *env = std::getenv("VIGIL_VERIFIER_DATA"))
            dir = env;
    if (dir.empty())
        throw UsageError("no data directory: give --data DIR or set VIGIL_VERIFIER_DATA");
    return dir;
}

std::unique_ptr<SqliteStorage> openStorage(const std::filesystem::path &dir)
{
    return SqliteStorage::open(DataDirectory::open(dir).database());
}

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

int serve(const Arguments &arguments)
{
    const auto dir = dataDirectory(arguments);
    std::string address = "127.0.0.1";
    int port = 8443;
    if (const std::string listen = arguments.value("--listen"); !listen.empty()) {
        const auto colon = listen.rfind(':');
        if (colon == std::string::npos)
            return usageError("--listen needs ADDRESS:PORT");
        address = listen.substr(0, colon);
        if (address.size() > 2 && address.front() == '[' && address.back() == ']')
            address = address.substr(1, address.size() - 2);
        const auto parsed = parseNumber(listen.substr(colon + 1), 0, 65535);
        if (!parsed)
            return usageError("--listen needs a port from 0 to 65535");
        port = *parsed;
    }
    HttpsServerOptions https;
    if (!numericOption(arguments, "--threads", 1, 1024, https.threads))
        return usageError("--threads needs a number from 1 to 1024");
    VerifierOptions options;
    constexpr double maxRate = 1e9;
    if (!numericOption(arguments, "--device-rate", 0.001, maxRate,
                       options.deviceRequestsPerSecond))
        return usageError("--device-rate needs a number of requests per second above 0");
    if (!numericOption(arguments, "--device-burst", 1.0, maxRate, options.deviceBurst))
        return usageError("--device-burst needs a number of requests, at least 1");
    if (!numericOption(arguments, "--address-rate", 0.001, maxRate,
                       options.peerRequestsPerSecond))
        return usageError("--address-rate needs a number of requests per second above 0");
    if (!numericOption(arguments, "--address-burst", 1.0, maxRate, options.peerBurst))
        return usageError("--address-burst needs a number of requests, at least 1");
    std::string publicUrl = arguments.value("--public-url");
    if (publicUrl.empty() && (address == "0.0.0.0" || address == "::"))
        return usageError("listening on every address needs --public-url (the URL devices "
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
                qCWarning(lcServe) << "policy change rejected, the previous policy stays:"
                                   << error.c_str();
            });
        auto tokenKey = vigil::protocol::SoftwareDeviceKey::load(data.tokenSigningKey());
        vigil::SystemClock clock;

        https.address = address;
        https.port = port;
        https.credentials = data.tlsCredentials();
        https.maxConnections = connectionsTheDescriptorLimitAllows(https.maxConnections);
        std::unique_ptr<VerifierService> service;
        HttpsServer server(
            https, [&service](const HttpRequest &request) { return service->handle(request); },
            [](const std::string &method, const std::string &path, int status,
               std::chrono::microseconds duration, const std::string &peer) {
                qCInfo(lcServe).noquote()
                    << peer.c_str() << method.c_str() << path.c_str() << status
                    << QString::number(double(duration.count()) / 1000.0, 'f', 1) + QStringLiteral(" ms");
            });

        options.publicUrl = publicUrl.empty() ? "https://" +
                                                    (address.find(':') != std::string::npos
                                                         ? "[" + address + "]"
                                                         : address) +
                                                    ":" + std::to_string(server.port())
                                              : publicUrl;
        options.ekCaDirectory = data.ekCaDirectory().string();
        service = std::make_unique<VerifierService>(*storage, policies, *tokenKey, clock, options);

        // A renewed tls.pem is presented from the next handshake. The watches see a renewal at
        // once; the periodic pass below retries what could not be read then, and is all there
        // is where inotify is not available.
        TlsCertificateReloader certificate(data, server, clock);
        const TimePoint caNotAfter = data.caNotAfter(); // agents pin it: it never changes here
        const auto watchLost = [](const std::string &error) {
            qCWarning(lcServe).noquote()
                << (error + "; a renewed TLS certificate is picked up within " +
                    std::to_string(passInterval.count()) + " minutes")
                       .c_str();
        };
        std::vector<std::unique_ptr<FileWatcher>> certificateWatches;
        for (const auto &file : {data.tlsCertificate(), data.tlsKey()}) {
            try {
                certificateWatches.push_back(std::make_unique<FileWatcher>(
                    file, [&certificate] { certificate.check(); }, watchLost));
            } catch (const std::exception &e) {
                watchLost("cannot watch " + file.string() + " (" + e.what() + ")");
                break; // the other file is in the same directory: it would fail alike
            }
        }

        // Expired nonces and enrollments go on a timer, not on request paths; so does the
        // look at the TLS certificate's and the CA's ends, warned about at start and then once a
        // day.
        std::mutex mutex;
        std::condition_variable stopped;
        bool stopping = false;
        std::thread purger([&] {
            std::chrono::sys_days lastWarned{};
            std::unique_lock lock(mutex);
            while (!stopping) {
                lock.unlock();
                try {
                    storage->purgeExpired(clock.now());
                } catch (const std::exception &e) {
                    qCWarning(lcServe) << "purging expired nonces failed:" << e.what();
                }
                certificate.check();
                const auto now = clock.now();
                const auto today = std::chrono::floor<std::chrono::days>(now);
                const std::string warning =
                    certificateExpiryWarning(certificate.presented(), caNotAfter, dir, now);
                if (!warning.empty() && today != lastWarned) {
                    qCWarning(lcServe).noquote() << warning.c_str();
                    lastWarned = today;
                }
                lock.lock();
                stopped.wait_for(lock, passInterval, [&] { return stopping; });
            }
        });
        std::thread watcher = signals.watch([&] {
            qCInfo(lcServe) << "stopping";
            server.stop();
        });

        std::cout << "vigil-verifier: serving " << options.publicUrl << " on " << address << ":"
                  << server.port() << std::endl;
        const bool ok = server.serve();
        {
            const std::lock_guard lock(mutex);
            stopping = true;
        }
        stopped.notify_all();
        purger.join();
        // The signal thread is still waiting when serve() ended on its own (listener failure).
        pthread_kill(watcher.native_handle(), SIGTERM);
        watcher.join();
        return ok ? 0 : 1;
    } catch (const std::exception &e) {
        std::cerr << "vigil-verifier: " << e.what() << "\n";
        return 1;
    }
}

int run(const Arguments &arguments)
{
    const auto &words = arguments.words;
    const auto now = std::chrono::system_clock::now();
    const bool json = arguments.json;
    const bool tlsRenew = words.size() == 2 && words[0] == "tls" && words[1] == "renew";
    if (arguments.newKey && !tlsRenew)
        return usageError("--new-key is an option of tls renew only");
    if (words[0] == "init" && words.size() == 1) {
        if (arguments.values.count("--name") == 0)
            return usageError("init needs at least one --name (what agents connect to)");
        return initDataDirectory(dataDirectory(arguments), arguments.values.at("--name"), now,
                                 std::cout, std::cerr);
    }
    if (words[0] == "serve" && words.size() == 1)
        return serve(arguments);
    if (words[0] == "policy" && words.size() == 3 && words[1] == "check")
        return checkPolicy(words[2], std::cout, std::cerr);
    if (tlsRenew) {
        const auto names = arguments.values.find("--name");
        return renewTlsCertificate(
            dataDirectory(arguments),
            names == arguments.values.end() ? std::vector<std::string>() : names->second,
            arguments.newKey ? DataDirectory::TlsKey::New : DataDirectory::TlsKey::Keep, now, json,
            std::cout, std::cerr);
    }

    // Opened only once the command line is known to be good: a usage error must not be
    // reported as a problem with the data directory.
    const auto storage = [&arguments] { return openStorage(dataDirectory(arguments)); };
    if (words[0] == "token" && words.size() >= 2) {
        if (words[1] == "create" && words.size() == 2) {
            TokenOptions options;
            if (!numericOption(arguments, "--uses", 1, 1000000, options.uses))
                return usageError("--uses needs a number from 1 to 1000000");
            if (const auto ttl = arguments.value("--ttl"); !ttl.empty()) {
                const auto parsed = parseDuration(ttl);
                if (!parsed)
                    return usageError("--ttl needs a duration such as 30m, 24h or 7d");
                options.ttl = *parsed;
            }
            options.label = arguments.value("--label");
            return createEnrollmentToken(*storage(), options, now, json, std::cout);
        }
        if (words[1] == "list" && words.size() == 2)
            return listEnrollmentTokens(*storage(), now, json, std::cout);
        if (words[1] == "revoke" && words.size() == 3)
            return revokeEnrollmentToken(*storage(), words[2], now, std::cout, std::cerr);
    }
    if (words[0] == "devices" && words.size() >= 2) {
        if (words[1] == "list" && words.size() == 2)
            return listDevices(*storage(), json, std::cout);
        if (words[1] == "show" && words.size() == 3)
            return showDevice(*storage(), words[2], json, std::cout, std::cerr);
        if (words[1] == "revoke" && words.size() == 3)
            return revokeDevice(*storage(), words[2], arguments.value("--reason"), now, std::cout,
                                std::cerr);
    }
    std::string command;
    for (const auto &word : words)
        command += (command.empty() ? "" : " ") + word;
    return usageError("unknown command '" + command + "'");
}

} // namespace

int main(int argc, char **argv)
{
    installLogHandler();
    // tss2-mu logs malformed input it is handed; hostile input must not flood the log.
    setenv("TSS2_LOG", "all+NONE", 1);

    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::cout << usage;
            return 0;
        }
        if (arg == "--version") {
            std::cout << "vigil-verifier " VIGIL_VERSION "\n";
            return 0;
        }
        if (arg == "--json") {
            arguments.json = true;
        } else if (arg == "--new-key") {
            arguments.newKey = true;
        } else if (std::find(valueOptions.begin(), valueOptions.end(), arg) != valueOptions.end()) {
            if (i + 1 >= argc)
                return usageError("option " + arg + " needs a value");
            arguments.values[arg].push_back(argv[++i]);
        } else if (!arg.starts_with('-')) {
            arguments.words.push_back(arg);
        } else {
            return usageError("unexpected argument '" + arg + "'");
        }
    }
    if (arguments.words.empty())
        return usageError("no command given");
    try {
        return run(arguments);
    } catch (const UsageError &e) {
        return usageError(e.what());
    } catch (const std::exception &e) {
        std::cerr << "vigil-verifier: " << e.what() << "\n";
        return 1;
    }
}
