#include "app/agent/service/servicelog.h"

#include "core/filedescriptor.h"
#include "core/text.h"

#include <QLoggingCategory>
#include <QString>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

namespace vigil::agent {

namespace {

struct Level
{
    const char *word;
    int priority; // syslog's, which the journal takes
};

Level levelOf(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return {"debug", LOG_DEBUG};
    case QtInfoMsg:
        return {"info", LOG_INFO};
    case QtWarningMsg:
        return {"warning", LOG_WARNING};
    case QtCriticalMsg:
        return {"error", LOG_ERR};
    case QtFatalMsg:
        return {"fatal", LOG_CRIT};
    }
    return {"info", LOG_INFO};
}

// Messages can hold what the verifier or a file said: on one line, whatever it holds.
std::string escapedText(const QString &message)
{
    const QByteArray text = message.toUtf8();
    return escapedControlCharacters(std::string_view(text.constData(), text.size()));
}

void toJournal(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    sd_journal_send("MESSAGE=%s", escapedText(message).c_str(), "PRIORITY=%d",
                    levelOf(type).priority, "VIGIL_CATEGORY=%s",
                    context.category ? context.category : "default", "SYSLOG_IDENTIFIER=vigild",
                    nullptr);
}

void toStderr(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const std::string line = std::string("vigild: ") + levelOf(type).word + ": " +
                             (context.category ? context.category : "default") + ": " +
                             escapedText(message) + "\n";
    // One write per line, so that lines from threads never mix; if stderr is gone there is
    // nowhere left to say so.
    writeAll(STDERR_FILENO, line);
}

} // namespace

bool stderrIsJournal()
{
    const char *stream = std::getenv("JOURNAL_STREAM");
    struct stat status
    {
    };
    if (!stream || ::fstat(STDERR_FILENO, &status) != 0)
        return false;
    const std::string expected =
        std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
    return expected == stream;
}

void installServiceLog(LogLevel level)
{
    QString rules;
    switch (level) {
    case LogLevel::Debug:
        rules = QStringLiteral("vigil.*.debug=true");
        break;
    case LogLevel::Info:
        rules = QStringLiteral("vigil.*.debug=false");
        break;
    case LogLevel::Warning:
        rules = QStringLiteral("vigil.*.debug=false\nvigil.*.info=false");
        break;
    case LogLevel::Error:
        rules = QStringLiteral("vigil.*.debug=false\nvigil.*.info=false\nvigil.*.warning=false");
        break;
    }
    QLoggingCategory::setFilterRules(rules);
    qInstallMessageHandler(stderrIsJournal() ? toJournal : toStderr);
}

} // namespace vigil::agent
