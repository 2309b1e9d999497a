#pragma once

// A program made of commands: `<program> <command> [options]`. CommandLine prints the usage (the
// list of commands), a command's help (`<program> help <command>`, `<command> --help`), rejects
// what no command takes with a usage error (exit 2) and runs the command the words name.

#include "cli/command.h"

#include <QString>
#include <QStringList>
#include <functional>
#include <iosfwd>

namespace vigil::cli {

struct Program
{
    QString name;    // vigilctl
    QString version; // printed by --version after the name
    // The usage's last paragraph, after the commands and options: the exit statuses, say.
    QString epilogue;
    // The usage error for an option that command does not take but the commands takenBy do.
    // Unset: "<command> does not take <option>".
    std::function<QString(const QString &command, const QString &option,
                          const QStringList &takenBy)>
        misplacedOption;
};

// Exit status of a usage error.
inline constexpr int exitUsageError = 2;

class CommandLine
{
public:
    // Commands are listed in the usage in this order. An option several commands declare must
    // take a value in all of them or in none, since the command is known only after parsing.
    CommandLine(Program program, Commands commands);

    // Runs the command that arguments (argv without the program's name) name. Usage errors and
    // exceptions are reported on err as "<program>: <message>".
    int run(const QStringList &arguments, std::ostream &out, std::ostream &err) const;

    QString usage() const;
    QString help(const Command &command) const;

    // argv without the program's name.
    static QStringList arguments(int argc, char **argv);

private:
    int usageError(const QString &message, std::ostream &err) const;
    // The command whose name starts words (the longest such), or nullptr.
    Command *find(const QStringList &words) const;
    QString misplacedOption(const Command &command, const QString &name) const;
    // The option argument ("--tcti", "-h") names, or nullptr.
    const QCommandLineOption *typed(const QString &argument) const;

    Program m_program;
    Commands m_commands;
    QList<QCommandLineOption> m_options; // every command's, each once, with -h and --version
};

} // namespace vigil::cli
