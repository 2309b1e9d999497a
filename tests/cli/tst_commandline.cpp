// CommandLine over two small commands: what it lists, explains, refuses and runs.
#include "cli/commandline.h"

#include <QtTest>
#include <sstream>

using namespace Qt::StringLiterals;
using vigil::cli::Command;
using vigil::cli::CommandLine;
using vigil::cli::Invocation;

namespace {

// `tool greet --name NAME [--loud]`: prints what it was given.
class GreetCommand : public Command
{
public:
    GreetCommand()
    {
        m_name = u"greet"_s;
        m_synopsis = u"--name NAME [--loud]"_s;
        m_description = u"Greet someone."_s;
        m_help = u"Greets everyone named, the last one loudest."_s;
        m_options = {m_person, m_loud};
    }

    int run(const Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        if (!invocation.isSet(m_person))
            throw vigil::cli::UsageError("greet needs --name");
        for (const auto &name : invocation.values(m_person))
            out << "hello " << name << "\n";
        if (invocation.isSet(m_loud))
            out << invocation.value(m_person) << "!\n";
        return 0;
    }

private:
    const QCommandLineOption m_person{u"name"_s, u"Who to greet."_s, u"NAME"_s};
    const QCommandLineOption m_loud{u"loud"_s, u"Shout the last name."_s};
};

// `tool file show PATH [--lines N]`: a two-word name and a positional argument.
class FileShowCommand : public Command
{
public:
    FileShowCommand()
    {
        m_name = u"file show"_s;
        m_synopsis = u"PATH"_s;
        m_description = u"Show a file."_s;
        m_options = {m_lines};
        m_arguments = {{u"PATH"_s, u"The file."_s}};
    }

    int run(const Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        if (invocation.argument(0) == "broken")
            throw std::runtime_error("cannot read broken");
        out << invocation.argument(0) << " " << invocation.value(m_lines) << "\n";
        return 5;
    }

private:
    const QCommandLineOption m_lines{u"lines"_s, u"How many lines."_s, u"N"_s};
};

struct Run
{
    int status;
    QString out, err;
};

Run run(const QStringList &arguments,
        const decltype(vigil::cli::Program::misplacedOption) &misplacedOption = {})
{
    vigil::cli::Program program;
    program.name = u"tool"_s;
    program.version = u"1.2.3"_s;
    program.epilogue = u"Exit status: 2 on a usage error.\n"_s;
    program.misplacedOption = misplacedOption;
    vigil::cli::Commands commands;
    commands.push_back(std::make_unique<GreetCommand>());
    commands.push_back(std::make_unique<FileShowCommand>());
    const CommandLine commandLine(std::move(program), std::move(commands));
    std::ostringstream out, err;
    const int status = commandLine.run(arguments, out, err);
    return {status, QString::fromStdString(out.str()), QString::fromStdString(err.str())};
}

QString usage()
{
    return run({u"--help"_s}).out;
}

} // namespace

class TestCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void usageListsEveryCommand()
    {
        const Run help = run({u"--help"_s});
        QCOMPARE(help.status, 0);
        QCOMPARE(help.err, QString());
        QCOMPARE(help.out,
                 u"Usage: tool <command> [options]\n"
                 "\n"
                 "Commands:\n"
                 "  greet --name NAME [--loud]\n"
                 "                            Greet someone.\n"
                 "  file show PATH            Show a file.\n"
                 "  help COMMAND              Show a command's help (also COMMAND --help).\n"
                 "\n"
                 "Options:\n"
                 "  -h, --help                Show this help.\n"
                 "  --version                 Show the version.\n"
                 "\n"
                 "Exit status: 2 on a usage error.\n"_s);
        QCOMPARE(run({u"help"_s}).out, help.out);
        QCOMPARE(run({u"-h"_s}).out, help.out);
        // A word that only begins command names, as `file`, shows them all.
        QCOMPARE(run({u"file"_s, u"--help"_s}).out, help.out);
    }

    void commandHelp()
    {
        const Run help = run({u"help"_s, u"file"_s, u"show"_s});
        QCOMPARE(help.status, 0);
        QCOMPARE(help.out, u"Usage: tool file show PATH\n"
                           "\n"
                           "Show a file.\n"
                           "\n"
                           "Arguments:\n"
                           "  PATH                      The file.\n"
                           "\n"
                           "Options:\n"
                           "  --lines N                 How many lines.\n"
                           "  -h, --help                Show this help.\n"_s);
        QCOMPARE(run({u"file"_s, u"show"_s, u"--help"_s}).out, help.out);
        QVERIFY(run({u"greet"_s, u"-h"_s})
                    .out.startsWith(u"Usage: tool greet --name NAME [--loud]\n\nGreets everyone "
                                    u"named, the last one "
                                    "loudest.\n"_s));
    }

    void version()
    {
        const Run version = run({u"greet"_s, u"--version"_s});
        QCOMPARE(version.status, 0);
        QCOMPARE(version.out, u"tool 1.2.3\n"_s);
    }

    void runsTheNamedCommand()
    {
        Run greet = run({u"--name"_s, u"ann"_s, u"greet"_s, u"--loud"_s, u"--name=bob"_s});
        QCOMPARE(greet.status, 0);
        QCOMPARE(greet.out, u"hello ann\nhello bob\nbob!\n"_s);
        QCOMPARE(greet.err, QString());

        // An option's value is the next argument, whatever it looks like.
        const Run show = run({u"file"_s, u"show"_s, u"--lines"_s, u"-3"_s, u"a.txt"_s});
        QCOMPARE(show.status, 5);
        QCOMPARE(show.out, u"a.txt -3\n"_s);
    }

    void usageErrorsExitTwo_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("no command") << QStringList{} << u"no command given"_s;
        QTest::newRow("unknown command")
            << QStringList{u"frobnicate"_s} << u"unknown command 'frobnicate'"_s;
        QTest::newRow("unknown subcommand")
            << QStringList{u"file"_s, u"delete"_s, u"x"_s} << u"unknown command 'file delete x'"_s;
        QTest::newRow("extra word") << QStringList{u"greet"_s, u"now"_s, u"--name"_s, u"a"_s}
                                    << u"unknown command 'greet now'"_s;
        QTest::newRow("missing argument")
            << QStringList{u"file"_s, u"show"_s} << u"file show needs PATH"_s;
        QTest::newRow("unknown option")
            << QStringList{u"greet"_s, u"--yaml"_s} << u"unexpected argument '--yaml'"_s;
        QTest::newRow("unknown short option")
            << QStringList{u"greet"_s, u"-x"_s} << u"unexpected argument '-x'"_s;
        QTest::newRow("another command's option")
            << QStringList{u"greet"_s, u"--name"_s, u"a"_s, u"--lines"_s, u"3"_s}
            << u"greet does not take --lines"_s;
        QTest::newRow("missing value") << QStringList{u"file"_s, u"show"_s, u"a"_s, u"--lines"_s}
                                       << u"option --lines needs a value"_s;
        QTest::newRow("value of a flag")
            << QStringList{u"greet"_s, u"--name"_s, u"a"_s, u"--loud=yes"_s}
            << u"option --loud takes no value"_s;
        QTest::newRow("command's own check") << QStringList{u"greet"_s} << u"greet needs --name"_s;
    }

    void usageErrorsExitTwo()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Run error = run(arguments);
        QCOMPARE(error.status, 2);
        QCOMPARE(error.out, QString());
        QCOMPARE(error.err, u"tool: "_s + message + u"\n\n"_s + usage());
    }

    void misplacedOptionInTheProgramsWords()
    {
        const Run error =
            run({u"file"_s, u"show"_s, u"a"_s, u"--loud"_s},
                [](const QString &command, const QString &option, const QStringList &takenBy) {
                    return command + u": "_s + option + u" is for "_s + takenBy.join(u", "_s);
                });
        QCOMPARE(error.status, 2);
        QVERIFY2(error.err.startsWith(u"tool: file show: --loud is for greet\n\n"_s),
                 qPrintable(error.err));
    }

    void failureExitsOne()
    {
        const Run failed = run({u"file"_s, u"show"_s, u"broken"_s});
        QCOMPARE(failed.status, 1);
        QCOMPARE(failed.out, QString());
        QCOMPARE(failed.err, u"tool: cannot read broken\n"_s);
    }
};

QTEST_APPLESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"
