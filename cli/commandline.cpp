#include "cli/commandline.h"

#include <QCommandLineParser>
#include <algorithm>
#include <ostream>
#include <utility>

using namespace Qt::StringLiterals;

namespace vigil::cli {

namespace {

constexpr qsizetype lineWidth = 80;
constexpr qsizetype descriptionColumn = 28;

const QCommandLineOption helpOption({u"h"_s, u"help"_s}, u"Show this help."_s);
const QCommandLineOption versionOption(u"version"_s, u"Show the version."_s);

// "--name", or "-n" for a one-letter name, as it is typed.
QString dashed(const QString &name)
{
    return (name.size() == 1 ? u"-"_s : u"--"_s) + name;
}

// Words laid out after `column` columns in lines of at most lineWidth, the lines after the first
// indented to `indent`.
QString fill(const QStringList &words, qsizetype column, qsizetype indent)
{
    QString text;
    for (const QString &word : words) {
        if (!text.isEmpty() && column + 1 + word.size() > lineWidth) {
            text += u'\n' + QString(indent, u' ');
            column = indent;
        } else if (!text.isEmpty()) {
            text += u' ';
            ++column;
        }
        text += word;
        column += word.size();
    }
    return text;
}

QStringList words(const QString &text)
{
    return text.simplified().split(u' ', Qt::SkipEmptyParts);
}

// A synopsis's parts: "[--listen ADDR:PORT]" or "(--token-file FILE | --token TOKEN)" stay whole
// so that a wrapped synopsis never breaks inside one.
QStringList synopsisParts(const QString &synopsis)
{
    QStringList parts;
    QString part;
    int depth = 0;
    for (const QChar c : synopsis.simplified()) {
        if (c == u'[' || c == u'(')
            ++depth;
        else if (c == u']' || c == u')')
            --depth;
        if (c == u' ' && depth == 0) {
            parts.append(std::exchange(part, QString()));
            continue;
        }
        part += c;
    }
    if (!part.isEmpty())
        parts.append(part);
    return parts;
}

// "  term                      description", the description on a line of its own when the
// term reaches into its column.
QString entry(const QString &term, const QString &description)
{
    const qsizetype lastLine = term.lastIndexOf(u'\n'); // a wrapped term's lines after the first
    const qsizetype termEnd = lastLine < 0 ? 2 + term.size() : term.size() - lastLine - 1;
    QString line = u"  "_s + term;
    if (termEnd < descriptionColumn - 1)
        line += QString(descriptionColumn - termEnd, u' ');
    else
        line += u'\n' + QString(descriptionColumn, u' ');
    return line + fill(words(description), descriptionColumn, descriptionColumn) + u'\n';
}

QString optionEntry(const QCommandLineOption &option)
{
    QStringList names;
    for (const QString &name : option.names())
        names.append(dashed(name));
    QString term = names.join(u", "_s);
    if (!option.valueName().isEmpty())
        term += u' ' + option.valueName();
    return entry(term, option.description());
}

bool takesValue(const QCommandLineOption &option)
{
    return !option.valueName().isEmpty();
}

bool declares(const Command &command, const QString &name)
{
    return std::any_of(
        command.options().begin(), command.options().end(),
        [&name](const QCommandLineOption &option) { return option.names().contains(name); });
}

std::ostream &operator<<(std::ostream &stream, const QString &text)
{
    return stream << text.toStdString();
}

} // namespace

CommandLine::CommandLine(Program program, Commands commands)
    : m_program(std::move(program)), m_commands(std::move(commands))
{
    m_options = {helpOption, versionOption};
    for (const auto &command : m_commands) {
        for (const QCommandLineOption &option : command->options()) {
            const auto known = std::find_if(m_options.begin(), m_options.end(),
                                            [&option](const QCommandLineOption &other) {
                                                return other.names() == option.names();
                                            });
            Q_ASSERT(known == m_options.end() || takesValue(*known) == takesValue(option));
            if (known == m_options.end())
                m_options.append(option);
        }
    }
}

int CommandLine::run(const QStringList &arguments, std::ostream &out, std::ostream &err) const
{
    QCommandLineParser parser;
    parser.addOptions(m_options);
    if (!parser.parse(QStringList{m_program.name} + arguments)) {
        if (!parser.unknownOptionNames().isEmpty())
            return usageError(
                u"unexpected argument '%1'"_s.arg(dashed(parser.unknownOptionNames().constFirst())),
                err);
        // Otherwise an option lacks its value (only the last argument can) or a flag has one
        // (--json=yes). Qt's wording differs from the programs'.
        if (const auto *option = typed(arguments.constLast()); option && takesValue(*option))
            return usageError(u"option %1 needs a value"_s.arg(arguments.constLast()), err);
        for (const QString &argument : arguments) {
            const QString name = argument.section(u'=', 0, 0);
            if (const auto *option = typed(name);
                option && !takesValue(*option) && name != argument)
                return usageError(u"option %1 takes no value"_s.arg(name), err);
        }
        return usageError(parser.errorText(), err); // what a later Qt may add, in its words
    }
    if (parser.isSet(versionOption)) {
        out << m_program.name << " " << m_program.version << "\n";
        return 0;
    }

    QStringList words = parser.positionalArguments();
    const bool helpWord = !words.isEmpty() && words.constFirst() == u"help"_s;
    if (helpWord || parser.isSet(helpOption)) {
        // `token -h` where token only begins command names shows them all, as does `help`.
        const Command *command = find(words.mid(helpWord ? 1 : 0));
        out << (command ? help(*command) : usage());
        return 0;
    }
    if (words.isEmpty())
        return usageError(u"no command given"_s, err);
    Command *command = find(words);
    const qsizetype nameWords = command ? command->name().count(u' ') + 1 : 0;
    const qsizetype given = words.size() - nameWords;
    if (!command || given > command->arguments().size())
        return usageError(u"unknown command '%1'"_s.arg(words.join(u' ')), err);
    if (given < command->arguments().size())
        return usageError(
            u"%1 needs %2"_s.arg(command->name(), command->arguments().at(given).name), err);
    for (const QString &name : parser.optionNames())
        if (!declares(*command, name))
            return usageError(misplacedOption(*command, name), err);

    try {
        return command->run(Invocation(parser, words.mid(nameWords)), out, err);
    } catch (const UsageError &e) {
        return usageError(QString::fromStdString(e.what()), err);
    } catch (const std::exception &e) {
        err << m_program.name << ": " << e.what() << "\n";
        return 1;
    }
}

QString CommandLine::usage() const
{
    QString text = u"Usage: %1 <command> [options]\n\nCommands:\n"_s.arg(m_program.name);
    for (const auto &command : m_commands) {
        QString term = command->name();
        if (!command->synopsis().isEmpty())
            term += u' ' + fill(synopsisParts(command->synopsis()), 2 + term.size() + 1,
                                2 + term.size() + 1);
        text += entry(term, command->description());
    }
    text += entry(u"help COMMAND"_s, u"Show a command's help (also COMMAND --help)."_s);
    text += u"\nOptions:\n"_s + optionEntry(helpOption) + optionEntry(versionOption);
    if (!m_program.epilogue.isEmpty())
        text += u'\n' + m_program.epilogue;
    return text;
}

QString CommandLine::help(const Command &command) const
{
    const QString usageLine = u"Usage: %1 %2"_s.arg(m_program.name, command.name());
    QString text = usageLine;
    if (!command.synopsis().isEmpty())
        text += u' ' +
                fill(synopsisParts(command.synopsis()), usageLine.size() + 1, usageLine.size() + 1);
    text += u"\n\n"_s;
    const QString about = command.help().isEmpty() ? command.description() : command.help();
    for (const QString &paragraph : about.split(u"\n\n"_s))
        text += fill(words(paragraph), 0, 0) + u"\n\n"_s;
    if (!command.arguments().isEmpty()) {
        text += u"Arguments:\n"_s;
        for (const Argument &argument : command.arguments())
            text += entry(argument.name, argument.description);
        text += u'\n';
    }
    text += u"Options:\n"_s;
    for (const QCommandLineOption &option : command.options())
        text += optionEntry(option);
    return text + optionEntry(helpOption);
}

QStringList CommandLine::arguments(int argc, char **argv)
{
    QStringList arguments;
    for (int i = 1; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    return arguments;
}

int CommandLine::usageError(const QString &message, std::ostream &err) const
{
    err << m_program.name << ": " << message << "\n\n" << usage();
    return exitUsageError;
}

const QCommandLineOption *CommandLine::typed(const QString &argument) const
{
    for (const QCommandLineOption &option : m_options)
        for (const QString &name : option.names())
            if (dashed(name) == argument)
                return &option;
    return nullptr;
}

Command *CommandLine::find(const QStringList &words) const
{
    Command *found = nullptr;
    qsizetype foundWords = 0;
    for (const auto &command : m_commands) {
        const QStringList name = command->name().split(u' ');
        if (name.size() > foundWords && words.mid(0, name.size()) == name) {
            found = command.get();
            foundWords = name.size();
        }
    }
    return found;
}

QString CommandLine::misplacedOption(const Command &command, const QString &name) const
{
    QStringList takenBy;
    for (const auto &other : m_commands)
        if (declares(*other, name))
            takenBy.append(other->name());
    return m_program.misplacedOption
               ? m_program.misplacedOption(command.name(), dashed(name), takenBy)
               : u"%1 does not take %2"_s.arg(command.name(), dashed(name));
}

} // namespace vigil::cli
