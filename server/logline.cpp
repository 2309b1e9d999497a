#include "server/logline.h"

#include "core/filedescriptor.h"
#include "core/text.h"
#include "protocol/rfc3339.h"

#include <cstdio>
#include <unistd.h>

namespace vigil::server {
namespace {

const char *typeName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "critical";
    case QtFatalMsg:
        return "fatal";
    }
    return "unknown";
}

void writeToStderr(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const std::string line =
        formatLogLine(std::chrono::system_clock::now(), type,
                      context.category ? context.category : "default", message);
    // One write(2) per line, finished after a short one; if stderr is gone there is nowhere
    // left to say so.
    writeAll(STDERR_FILENO, line);
}

} // namespace

std::string formatLogLine(std::chrono::system_clock::time_point time, QtMsgType type,
                          const char *category, const QString &message)
{
    // The API's RFC 3339 form, with the milliseconds a log needs put in before the Z.
    std::string stamp = protocol::formatRfc3339(time);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
        time - std::chrono::floor<std::chrono::seconds>(time));
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(millis.count()));
    stamp.insert(stamp.size() - 1, fraction);
    const QByteArray text = message.toUtf8();
    std::string line;
    line.reserve(64 + text.size());
    line.append(stamp).append(" ").append(typeName(type)).append(" ").append(category);
    line.append(": ");
    // Messages carry request paths, which the HTTP layer has percent-decoded: a "%0A" must not
    // start a forged line of its own.
    line.append(escapedControlCharacters(std::string_view(text.constData(), text.size())));
    line.push_back('\n');
    return line;
}

void installLogHandler()
{
    qInstallMessageHandler(writeToStderr);
}

} // namespace vigil::server
