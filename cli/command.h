#pragma once

// One command of a command-line program (`vigilctl tpm quote`, `vigil-verifier serve`): what it
// is called, what it takes, its help, and what it does. CommandLine lists, explains, checks and
// dispatches them, so a new command is a class in its own file and an entry in its program's list.

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>
#include <QString>
#include <QStringList>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::cli {

// A command line the program cannot act on: the message and the usage go to stderr, exit 2.
// Commands throw it for what only they can check (a malformed number, a missing option).
struct UsageError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// A positional argument a command takes, such as ID in `devices show ID`. Every one is required.
struct Argument
{
    QString name;
    QString description;
};

// How a command was called: the options as parsed (only those it declares can be set) and its
// positional arguments, the words after its name. Values come as UTF-8 std::string because the
// code commands call speaks std::string.
class Invocation
{
public:
    Invocation(const QCommandLineParser &parser, QStringList arguments);

    bool isSet(const QCommandLineOption &option) const;
    // The last value given, "" when the option is absent.
    std::string value(const QCommandLineOption &option) const;
    // Every value of an option given more than once, in order.
    std::vector<std::string> values(const QCommandLineOption &option) const;
    // The positional argument at index (as declared in Command::arguments).
    std::string argument(qsizetype index) const;

private:
    const QCommandLineParser &m_parser;
    QStringList m_arguments;
};

class Command
{
public:
    virtual ~Command() = default;

    const QString &name() const { return m_name; }
    const QString &synopsis() const { return m_synopsis; }
    const QString &description() const { return m_description; }
    const QString &help() const { return m_help; }
    const QList<QCommandLineOption> &options() const { return m_options; }
    const QList<Argument> &arguments() const { return m_arguments; }

    // Returns the exit status: 0 done, 1 failed (the reason on err), or a command's own. Throws
    // UsageError for options it cannot act on; any other exception is reported as a failure.
    virtual int run(const Invocation &invocation, std::ostream &out, std::ostream &err) = 0;

protected:
    // Filled in by each command's constructor.
    QString m_name;        // one or more words: "posture", "tpm quote"
    QString m_synopsis;    // what follows the name in the usage: "--out DIR [--json]"
    QString m_description; // one line for the usage's list of commands
    QString m_help;        // paragraphs for `help <command>`; empty: the description says it all
    QList<QCommandLineOption> m_options;
    QList<Argument> m_arguments;
};

using Commands = std::vector<std::unique_ptr<Command>>;

} // namespace vigil::cli
