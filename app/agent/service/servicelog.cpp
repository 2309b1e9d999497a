#include "app/agent/service/servicelog.h"

#include <QLoggingCategory>
#include <QString>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

namespace vigil::agent {

namespace {

int priority(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return LOG_DEBUG;
    case QtInfoMsg:
        return LOG_INFO;
    case QtWarningMsg:
        return LOG_WARNING;
    case QtCriticalMsg:
        return LOG_ERR;
    case QtFatalMsg:
        return LOG_CRIT;
    }
    return LOG_INFO;
}

const char *levelWord(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void toJournal(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QByteArray text = message.toUtf8();
    sd_journal_send("MESSAGE=%s", text.constData(), "PRIORITY=%d", priority(type),
                    "VIGIL_CATEGORY=%s", context.category ? context.category : "default",
                    "SYSLOG_IDENTIFIER=vigild", nullptr);
}

void toStderr(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QByteArray text = message.toUtf8();
    std::fprintf(stderr, "vigild: %s: %s: %s\n", levelWord(type),
                 context.category ? context.category : "default", text.constData());
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
