#include "ui/model/traymenumodel.h"

#include "ui/model/oneline.h"

#include <QCoreApplication>
#include <algorithm>

namespace vigil::ui {

using protocol::ipc::AgentState;
using protocol::ipc::Status;
using Kind = TrayMenuEntry::Kind;

namespace {

struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::TrayMenu)
};

TrayMenuEntry entry(Kind kind, const QString &text, bool enabled = true,
                    const QString &toolTip = {})
{
    return {kind, text, toolTip, enabled, {}};
}

QString deniedToolTip()
{
    return Text::tr("Only an administrator (root or a member of Vigil's group) can do this");
}

// The entry of one failing check: what to do, on one line; what fails and the whole remedy in
// its tooltip. Without a remediation from the verifier, the summary is the entry.
TrayMenuEntry failingCheckEntry(const protocol::AppraisalCheck &check, qsizetype maxChars)
{
    const std::string &line = check.remediation.empty() ? check.summary : check.remediation;
    TrayMenuEntry result;
    result.kind = Kind::FailingCheck;
    result.text = escapeMnemonics(oneLine(line.empty() ? check.id : line, maxChars));
    QString full = QString::fromStdString(check.summary);
    if (!check.remediation.empty())
        full += QLatin1Char('\n') + QString::fromStdString(check.remediation);
    result.toolTip = full;
    result.checkId = QString::fromStdString(check.id);
    return result;
}

bool mayEnroll(const Status &status)
{
    return status.state == AgentState::NotEnrolled || status.state == AgentState::Revoked;
}

// report needs an enrolled device that is not busy enrolling (docs/ipc.md section 7.4).
bool mayReport(const Status &status)
{
    return status.enrollment && status.state != AgentState::Revoked &&
           status.state != AgentState::Enrolling && status.state != AgentState::NotEnrolled;
}

} // namespace

const TrayMenuEntry *TrayMenuModel::find(TrayMenuEntry::Kind kind) const
{
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [kind](const TrayMenuEntry &e) { return e.kind == kind; });
    return it == entries.end() ? nullptr : &*it;
}

TrayMenuModel trayMenuModel(const std::optional<Status> &status, const TrayStatus &trayStatus,
                            const TrayMenuContext &context)
{
    TrayMenuModel model;
    model.status = trayStatus;
    auto &entries = model.entries;
    entries.push_back(entry(Kind::StateLine, escapeMnemonics(trayStatus.headline), true,
                            Text::tr("Show the details")));

    // The verdict's checks only while it is the current state: an offline device's last verdict
    // may be old, and the details show it with its date.
    if (status && status->state == AgentState::NonCompliant && status->lastVerdict) {
        const auto &checks = status->lastVerdict->failingChecks;
        const auto shown = std::min<qsizetype>(static_cast<qsizetype>(checks.size()),
                                               std::max<qsizetype>(context.maxFailingChecks, 0));
        for (qsizetype i = 0; i < shown; ++i)
            entries.push_back(
                failingCheckEntry(checks[static_cast<std::size_t>(i)], context.maxEntryChars));
        if (const auto more = static_cast<qsizetype>(checks.size()) - shown; more > 0)
            entries.push_back(entry(Kind::MoreChecks, Text::tr("%n more check(s) to fix…", nullptr,
                                                               static_cast<int>(more))));
    }
    entries.push_back(entry(Kind::Separator, {}));

    const bool denied = context.privilege == Privilege::Denied;
    if (context.checkRunning) {
        entries.push_back(entry(Kind::CheckNow, Text::tr("Checking…"), false));
    } else {
        const bool possible = status && mayReport(*status);
        QString why;
        if (!status)
            why = Text::tr("The Vigil service is not running");
        else if (!possible)
            why = Text::tr("This device is not enrolled");
        else if (denied)
            why = deniedToolTip();
        entries.push_back(entry(Kind::CheckNow, Text::tr("Check &now"), possible && !denied, why));
    }
    entries.push_back(entry(Kind::Details, Text::tr("&Details…")));
    if (status && mayEnroll(*status))
        entries.push_back(entry(Kind::Enroll, Text::tr("&Enroll this device…"), !denied,
                                denied ? deniedToolTip() : QString()));
    // Sign-in is the person's own (any user may), on an enrolled device only.
    if (status && status->enrollment && !mayEnroll(*status)) {
        if (context.signIn == SignInState::NotSetUp)
            entries.push_back(entry(Kind::SetUpSignIn, Text::tr("Set up &sign-in…")));
        else if (context.signIn == SignInState::SignedOut)
            entries.push_back(entry(Kind::SignIn, Text::tr("&Sign in…")));
    }
    entries.push_back(entry(Kind::Separator, {}));
    entries.push_back(entry(Kind::About, Text::tr("&About Vigil")));
    entries.push_back(entry(Kind::Quit, Text::tr("&Quit")));
    return model;
}

} // namespace vigil::ui
