#include "ui/vigiltray.h"

#include "core/clock.h"
#include "protocol/ipc/envelope.h"
#include "ui/desktop/singleinstance.h"
#include "ui/icons/trayicons.h"
#include "ui/translations/translations.h"
#include "ui/widgets/trayapp.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QLoggingCategory>
#include <cstdio>
#include <cstdlib>

namespace vigil::ui {

Q_DECLARE_LOGGING_CATEGORY(lcTray)

namespace {

struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::VigilTray)
};

QString socketPath(const QCommandLineParser &parser, const QCommandLineOption &option)
{
    if (parser.isSet(option))
        return parser.value(option);
    if (const char *environment = std::getenv("VIGIL_SOCKET"); environment && *environment)
        return QString::fromLocal8Bit(environment);
    return QString::fromLatin1(protocol::ipc::defaultSocketPath);
}

struct Options
{
    QCommandLineOption socket{QStringLiteral("socket"),
                              Text::tr("vigild's socket (default $VIGIL_SOCKET or %1).")
                                  .arg(QString::fromLatin1(protocol::ipc::defaultSocketPath)),
                              QStringLiteral("PATH")};
    QCommandLineOption details{QStringLiteral("details"),
                               Text::tr("Open the details window (of the tray that runs).")};

    void addTo(QCommandLineParser &parser) const
    {
        parser.setApplicationDescription(
            Text::tr("Shows whether this device is compliant, why not and how to fix it. It asks "
                     "the Vigil service (vigild) and keeps one instance per desktop session: a "
                     "second launch shows the first."));
        parser.addHelpOption();
        parser.addVersionOption();
        parser.addOption(socket);
        parser.addOption(details);
    }
};

// --help and --version work without a display: they are answered before the GUI starts.
bool asksForHelpOrVersion(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray argument(argv[i]);
        if (argument == "--")
            return false;
        if (argument == "-h" || argument == "--help" || argument == "--help-all" ||
            argument == "-v" || argument == "--version")
            return true;
    }
    return false;
}

void describeApplication()
{
    QCoreApplication::setApplicationName(QStringLiteral("vigil-tray"));
    QCoreApplication::setApplicationVersion(QStringLiteral(VIGIL_VERSION));
}

} // namespace

int runTray(int argc, char **argv)
{
    if (asksForHelpOrVersion(argc, argv)) {
        QCoreApplication application(argc, argv);
        describeApplication();
        QCommandLineParser parser;
        Options().addTo(parser);
        parser.process(application); // prints and exits
        return 0;
    }
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fprintf(stderr, "vigil-tray: no graphical session here (neither DISPLAY nor "
                             "WAYLAND_DISPLAY is set); vigilctl status shows the same state\n");
        return 1;
    }

    QApplication application(argc, argv);
    describeApplication();
    QApplication::setApplicationDisplayName(QStringLiteral("Vigil"));
    QApplication::setDesktopFileName(QStringLiteral("vigil-tray"));
    // Closing the details or the status window leaves the tray running; "Quit" ends it.
    QApplication::setQuitOnLastWindowClosed(false);
    QApplication::setWindowIcon(trayIcon(TrayState::Compliant));
    installTranslations(application);

    QCommandLineParser parser;
    const Options options;
    options.addTo(parser);
    parser.process(application);
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "vigil-tray: unexpected argument \"%s\"; see --help\n",
                     qPrintable(parser.positionalArguments().constFirst()));
        return 2;
    }

    const QString command =
        parser.isSet(options.details) ? QStringLiteral("details") : QStringLiteral("show");
    SingleInstance instance;
    switch (instance.start(command)) {
    case SingleInstance::Role::Secondary:
        qCInfo(lcTray, "vigil-tray runs already in this session: it was asked to %s",
               qPrintable(command));
        return 0;
    case SingleInstance::Role::Failed:
        std::fprintf(stderr, "vigil-tray: %s\n", qPrintable(instance.error()));
        return 1;
    case SingleInstance::Role::Primary:
        break;
    }

    const SystemClock clock;
    TrayAppOptions trayOptions;
    trayOptions.socketPath = socketPath(parser, options.socket);
    TrayApp tray(trayOptions, clock);
    QObject::connect(&instance, &SingleInstance::activated, &tray, &TrayApp::activate);
    tray.start();
    if (command == QLatin1String("details"))
        tray.activate(command);
    return QApplication::exec();
}

} // namespace vigil::ui
