#include "app/agent/vigild.h"

#include "app/agent/agent.h"
#include "app/agent/agentlogging.h"
#include "app/agent/configreloader.h"
#include "app/agent/ipc/ipcserver.h"
#include "app/agent/service/servicelog.h"
#include "app/agent/service/servicenotifier.h"
#include "app/agent/service/terminationsignals.h"
#include "app/agent/statelock.h"
#include "app/agent/triggers/activeusermonitor.h"
#include "app/agent/triggers/logindmonitor.h"
#include "app/agent/triggers/networkmonitor.h"
#include "app/agent/triggers/pathmonitor.h"
#include "app/agent/vigildconfig.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDBusConnection>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

namespace vigil::agent {

namespace {

using namespace std::chrono_literals;

struct Arguments
{
    std::optional<std::filesystem::path> config;
    std::filesystem::path enrollmentTokenFile{AgentOptions::defaultEnrollmentTokenFile};
};

void watchTriggers(Agent &agent, const std::filesystem::path &enrollmentTokenFile)
{
    auto *logind = new LogindMonitor(QDBusConnection::systemBus(), &agent);
    QObject::connect(logind, &LogindMonitor::resumed, &agent,
                     [&agent] { agent.trigger("resumed"); });
    QObject::connect(logind, &LogindMonitor::sessionUnlocked, &agent,
                     [&agent] { agent.trigger("session unlocked"); });
    // The policy may drop users' sessions then; which session was unlocked logind's signal does
    // not say, so every user's whose policy names unlock signs in again.
    QObject::connect(logind, &LogindMonitor::sessionUnlocked, &agent,
                     [&agent] { agent.users().sessionUnlocked(std::nullopt); });
    QObject::connect(logind, &LogindMonitor::resumed, &agent,
                     [&agent] { agent.users().resumed(); });
    // Whose screen lock the reports carry.
    auto *activeUser = new ActiveUserMonitor(QDBusConnection::systemBus(), &agent);
    QObject::connect(activeUser, &ActiveUserMonitor::activeUserChanged, &agent,
                     [&agent, activeUser] {
                         if (activeUser->knowsActiveUser())
                             agent.sessions().setActiveUser(activeUser->activeUser());
                         else
                             agent.sessions().forgetActiveUser();
                     });

    auto *network = new NetworkMonitor(&agent);
    if (!network->isActive())
        qCWarning(lcAgent, "no network triggers: %s", qUtf8Printable(network->inactiveReason()));
    QObject::connect(network, &NetworkMonitor::changed, &agent,
                     [&agent] { agent.trigger("network changed"); });

    // An installation writes for a while: one report once it has been quiet for 10 s.
    auto *packages = new PathMonitor(PathMonitor::packageDatabasePaths(), 10s, &agent);
    QObject::connect(packages, &PathMonitor::changed, &agent,
                     [&agent] { agent.trigger("package database changed"); });

    auto *token = new PathMonitor({enrollmentTokenFile.parent_path()}, 1s, &agent);
    QObject::connect(token, &PathMonitor::changed, &agent, &Agent::enrollmentTokenMayHaveChanged);
}

} // namespace

int runVigild(int argc, char **argv)
{
    // tss2 would log every TPM failure itself; the agent's messages carry the decoded cause.
    setenv("TSS2_LOG", "all+NONE", 0);
    QCoreApplication application(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("vigild"));
    QCoreApplication::setApplicationVersion(QStringLiteral(VIGIL_VERSION));
    // Blocked before any thread starts (the D-Bus connection, the agent's), so that every thread
    // inherits the mask; after the application, which the notifier needs.
    std::unique_ptr<TerminationSignals> signals;
    try {
        signals = std::make_unique<TerminationSignals>();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "vigild: %s\n", e.what());
        return 1;
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Vigil's service: keeps this device enrolled and its posture verified, "
                       "and holds its access token while the verifier agrees."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(
        QStringLiteral("config"),
        QStringLiteral("The configuration file (default %1; must exist when given).")
            .arg(QString::fromUtf8(VigildConfig::defaultPath.data())),
        QStringLiteral("file"));
    const QCommandLineOption tokenOption(
        QStringLiteral("enrollment-token-file"),
        QStringLiteral("Where an installer leaves the enrollment token (default %1).")
            .arg(QString::fromUtf8(AgentOptions::defaultEnrollmentTokenFile.data())),
        QStringLiteral("file"));
    parser.addOptions({configOption, tokenOption});
    if (!parser.parse(QCoreApplication::arguments())) {
        std::fprintf(stderr, "vigild: %s\n", qUtf8Printable(parser.errorText()));
        return 2;
    }
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "vigild: unexpected argument '%s'\n",
                     qUtf8Printable(parser.positionalArguments().constFirst()));
        return 2;
    }
    Arguments arguments;
    if (parser.isSet(configOption))
        arguments.config = parser.value(configOption).toStdString();
    if (parser.isSet(tokenOption))
        arguments.enrollmentTokenFile = parser.value(tokenOption).toStdString();

    installServiceLog(LogLevel::Info);
    ServiceNotifier notifier;
    try {
        AgentOptions options;
        const std::filesystem::path configFile =
            arguments.config.value_or(std::string(VigildConfig::defaultPath));
        // Files an installer drops after the package enroll the device without a restart. The
        // watch starts before the first read, so that a write in between counts as a change.
        ConfigReloader reloader(configFile, arguments.config.has_value());
        options.config = ConfigReloader::read(configFile, arguments.config.has_value());
        options.enrollmentTokenFile = arguments.enrollmentTokenFile;
        installServiceLog(options.config.logLevel);
        const StateLock lock(options.config.stateDirectory);

        const SystemClock clock;
        Agent agent(options, clock);
        IpcServerOptions ipc;
        ipc.socketPath = options.config.socketPath;
        ipc.privilegedGroup = options.config.privilegedGroup;
        IpcServer server(agent, ipc);
        server.listen();
        watchTriggers(agent, options.enrollmentTokenFile);
        if (!reloader.isActive())
            qCWarning(lcAgent, "cannot watch %s: a change takes effect at the next start",
                      configFile.c_str());
        QObject::connect(&reloader, &ConfigReloader::loaded, &agent,
                         [&agent](const VigildConfig &config) {
                             if (agent.reconfigure(config))
                                 installServiceLog(config.logLevel);
                         });
        QObject::connect(
            &reloader, &ConfigReloader::refused, &agent,
            [&agent](const QString &reason) { agent.configurationRefused(reason.toStdString()); });
        QObject::connect(&agent, &Agent::statusChanged, &notifier, [&] {
            const auto status = agent.status();
            notifier.status(std::string(protocol::ipc::agentStateName(status.state)) +
                            (status.reason.empty() ? "" : ": " + status.reason));
        });
        QObject::connect(signals.get(), &TerminationSignals::received, &application,
                         [&](int signal) {
                             qCInfo(lcAgent, "stopping (signal %d)", signal);
                             notifier.stopping();
                             QCoreApplication::quit();
                         });

        agent.start();
        qCInfo(lcAgent, "vigild %s started; state in %s", VIGIL_VERSION,
               options.config.stateDirectory.c_str());
        notifier.ready();
        return QCoreApplication::exec();
    } catch (const std::exception &e) {
        qCCritical(lcAgent, "cannot start: %s", e.what());
        return 1;
    }
}

} // namespace vigil::agent
