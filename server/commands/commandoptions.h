#pragma once

// Options several vigil-verifier commands take, and the reading of numbers they share.

#include "cli/command.h"
#include "server/storage/sqlitestorage.h"

#include <QCommandLineOption>
#include <charconv>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace vigil::server::commands {

QCommandLineOption dataOption();
QCommandLineOption jsonOption();

// --data, else $VIGIL_VERIFIER_DATA; a usage error when neither is given.
std::filesystem::path dataDirectory(const cli::Invocation &invocation);
// The database in the data directory. Opened only once the command line is known to be good: a
// usage error must not be reported as a problem with the data directory.
std::unique_ptr<SqliteStorage> openStorage(const cli::Invocation &invocation);

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

// Reads a numeric option into target when it is given; a usage error saying `problem` when it
// is given but no number from min to max.
template <typename Number>
void readNumber(const cli::Invocation &invocation, const QCommandLineOption &option, Number min,
                Number max, Number &target, const char *problem)
{
    if (!invocation.isSet(option))
        return;
    const auto value = parseNumber(invocation.value(option), min, max);
    if (!value)
        throw cli::UsageError(problem);
    target = *value;
}

} // namespace vigil::server::commands
