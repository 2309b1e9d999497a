#include "ui/model/statusdetails.h"

#include "core/clock.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>
#include <QStringList>

namespace vigil::ui {

using protocol::ipc::Status;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::StatusDetails)
};

QString fromStd(const std::string &text)
{
    return QString::fromStdString(text);
}

QString fromView(std::string_view text)
{
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

QDateTime toDateTime(TimePoint at)
{
    return QDateTime::fromMSecsSinceEpoch(
        std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

QString duration(std::chrono::seconds span)
{
    const auto seconds = span.count();
    if (seconds < 60)
        return Text::tr("%n second(s)", nullptr, static_cast<int>(seconds));
    if (seconds < 3600)
        return Text::tr("%n minute(s)", nullptr, static_cast<int>(seconds / 60));
    if (seconds < 2 * 86400)
        return Text::tr("%n hour(s)", nullptr, static_cast<int>(seconds / 3600));
    return Text::tr("%n day(s)", nullptr, static_cast<int>(seconds / 86400));
}

QString utc(TimePoint at)
{
    return fromStd(toIso8601(at));
}

QString assuranceText(protocol::Assurance assurance)
{
    return assurance == protocol::Assurance::Tpm
               ? Text::tr("TPM: the device key never leaves the TPM")
               : Text::tr("Software: no TPM, the device key is a file");
}

QString verifierText(const Status &status)
{
    if (status.verifierReachable)
        return Text::tr("Reachable");
    if (status.verifierLastError.empty())
        return Text::tr("Not contacted yet");
    return Text::tr("Unreachable: %1").arg(fromStd(status.verifierLastError));
}

CheckRow row(const protocol::AppraisalCheck &check)
{
    return {fromStd(check.id), checkTitle(check.id), check.status == protocol::CheckOutcome::Pass,
            fromStd(check.summary), fromStd(check.remediation)};
}

} // namespace

QString checkTitle(const std::string &id)
{
    // The reference verifier's ids (docs/protocol.md, "checks").
    static const struct
    {
        const char *id;
        const char *title;
    } titles[] = {
        {"assurance", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Hardware-backed identity")},
        {"os_version", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Operating system version")},
        {"security_updates", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Security updates")},
        {"update_age", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Time since last update")},
        {"reboot_required", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Pending restart")},
        {"disk_encryption", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Disk encryption")},
        {"firewall", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Firewall")},
        {"screen_lock", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Screen lock")},
        {"secure_boot", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Secure Boot")},
        {"pcrs", QT_TRANSLATE_NOOP("vigil::ui::StatusDetails", "Boot measurements")},
    };
    for (const auto &entry : titles)
        if (id == entry.id)
            return Text::tr(entry.title);
    return fromStd(id);
}

QString describeTime(TimePoint at, const Clock &clock)
{
    const TimePoint now = clock.now();
    const QDateTime local = toDateTime(at).toLocalTime();
    const QDateTime localNow = toDateTime(now).toLocalTime();
    const QLocale locale;
    QString when = locale.toString(local.time(), QLocale::ShortFormat);
    const auto days = localNow.date().daysTo(local.date());
    if (days == -1)
        when = Text::tr("yesterday %1").arg(when);
    else if (days == 1)
        when = Text::tr("tomorrow %1").arg(when);
    else if (days != 0)
        when = locale.toString(local, QLocale::ShortFormat);
    const auto span = std::chrono::duration_cast<std::chrono::seconds>(at - now);
    if (span.count() >= 1)
        return Text::tr("%1, in %2").arg(when, duration(span));
    if (span.count() <= -1)
        return Text::tr("%1, %2 ago").arg(when, duration(-span));
    return Text::tr("%1, now").arg(when);
}

StatusDetails statusDetails(const std::optional<Status> &status, const TrayStatus &trayStatus,
                            const Clock &clock)
{
    StatusDetails details;
    details.status = trayStatus;
    const QString none = Text::tr("None");
    if (!status) {
        details.facts.push_back({Text::tr("Service"), Text::tr("Not running or not reachable")});
        return details;
    }
    details.reason = fromStd(status->reason);
    if (const auto &verdict = status->lastVerdict) {
        details.verdictTime =
            Text::tr("Checks of the verdict of %1").arg(describeTime(verdict->appraisedAt, clock));
        for (const auto &check : verdict->failingChecks)
            details.checks.push_back(row(check));
        for (const auto &check : verdict->passingChecks)
            details.checks.push_back(row(check));
    }
    const auto time = [&](const std::optional<TimePoint> &at) {
        return at ? describeTime(*at, clock) : none;
    };
    auto &facts = details.facts;
    facts.push_back({Text::tr("Last report"), time(status->lastReportAt)});
    facts.push_back({Text::tr("Next report"), time(status->nextReportAt)});
    facts.push_back({Text::tr("Access token"),
                     status->tokenExpiresAt
                         ? Text::tr("Expires %1").arg(describeTime(*status->tokenExpiresAt, clock))
                         : Text::tr("None held")});
    facts.push_back({Text::tr("Verifier"), verifierText(*status)});
    if (const auto &enrollment = status->enrollment) {
        facts.push_back({Text::tr("Device ID"), fromStd(enrollment->deviceId)});
        facts.push_back({Text::tr("Assurance"), assuranceText(enrollment->assurance)});
        facts.push_back({Text::tr("Server"), fromStd(enrollment->serverUrl)});
    } else {
        facts.push_back({Text::tr("Device ID"), Text::tr("Not enrolled")});
    }
    return details;
}

QString helpdeskSummary(const std::optional<Status> &status, const TrayStatus &trayStatus,
                        const Clock &clock, const QString &hostName, const QString &version)
{
    QStringList lines;
    lines << Text::tr("Vigil %1 on %2, %3").arg(version, hostName, utc(clock.now()));
    lines << Text::tr("State: %1").arg(trayStatus.headline);
    if (!status)
        return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
    lines
        << Text::tr("Agent state: %1").arg(fromView(protocol::ipc::agentStateName(status->state)));
    if (!status->reason.empty())
        lines << Text::tr("Reason: %1").arg(fromStd(status->reason));
    if (const auto &enrollment = status->enrollment) {
        lines << Text::tr("Device ID: %1").arg(fromStd(enrollment->deviceId));
        lines << Text::tr("Assurance: %1")
                     .arg(fromView(protocol::assuranceName(enrollment->assurance)));
        lines << Text::tr("Server: %1").arg(fromStd(enrollment->serverUrl));
    }
    const auto time = [](const std::optional<TimePoint> &at) {
        return at ? utc(*at) : Text::tr("none");
    };
    lines << Text::tr("Last report: %1").arg(time(status->lastReportAt));
    lines << Text::tr("Next report: %1").arg(time(status->nextReportAt));
    lines << Text::tr("Access token expires: %1").arg(time(status->tokenExpiresAt));
    lines << Text::tr("Verifier: %1").arg(verifierText(*status));
    if (const auto &verdict = status->lastVerdict) {
        lines << Text::tr("Verdict: %1 at %2")
                     .arg(fromView(protocol::verdictName(verdict->verdict)),
                          utc(verdict->appraisedAt));
        for (const auto &check : verdict->failingChecks) {
            lines << Text::tr("  FAIL %1: %2").arg(fromStd(check.id), fromStd(check.summary));
            if (!check.remediation.empty())
                lines << Text::tr("       Fix: %1").arg(fromStd(check.remediation));
        }
        for (const auto &check : verdict->passingChecks)
            lines << Text::tr("  pass %1: %2").arg(fromStd(check.id), fromStd(check.summary));
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

} // namespace vigil::ui
