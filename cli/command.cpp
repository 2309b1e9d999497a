#include "cli/command.h"

#include <utility>

namespace vigil::cli {

Invocation::Invocation(const QCommandLineParser &parser, QStringList arguments)
    : m_parser(parser), m_arguments(std::move(arguments))
{
}

bool Invocation::isSet(const QCommandLineOption &option) const
{
    return m_parser.isSet(option);
}

std::string Invocation::value(const QCommandLineOption &option) const
{
    return m_parser.value(option).toStdString();
}

std::vector<std::string> Invocation::values(const QCommandLineOption &option) const
{
    std::vector<std::string> values;
    for (const QString &value : m_parser.values(option))
        values.push_back(value.toStdString());
    return values;
}

std::string Invocation::argument(qsizetype index) const
{
    return m_arguments.at(index).toStdString();
}

} // namespace vigil::cli
