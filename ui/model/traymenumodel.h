#pragma once

// The tray's menu as plain data, so that what it offers in each state is tested without a
// display; the tray turns each entry into a QAction.
//
// Privilege: report and enroll are for root and vigild's group (docs/ipc.md section 4), which
// the client cannot see beforehand. The menu offers both to everyone, and a refusal
// (permission_denied) is remembered by the caller and passed back here as Privilege::Denied:
// the entries then stay visible but disabled, with a tooltip that says why.

#include "protocol/ipc/status.h"
#include "ui/model/traystate.h"

#include <QString>
#include <optional>
#include <vector>

namespace vigil::ui {

enum class Privilege
{
    Unknown, // not yet refused: offer the privileged actions
    Denied,  // vigild answered permission_denied to this user
};

// The person's own sign-in on this device (docs/mfa.md), as mfa_status last said.
enum class SignInState
{
    Unknown,  // not asked yet, or vigild did not say
    NotSetUp, // no Vigil user for this account on this device
    SignedOut,
    SignedIn,
};

struct TrayMenuContext
{
    bool checkRunning = false; // a "Check now" report is in flight
    Privilege privilege = Privilege::Unknown;
    SignInState signIn = SignInState::Unknown;
    qsizetype maxFailingChecks = 5; // more are summed up in one entry that opens the details
    qsizetype maxEntryChars = 60;   // a failing check's entry is cut to this
};

struct TrayMenuEntry
{
    enum class Kind
    {
        // The one-line state; it opens the details. (A disabled entry would say the same, but
        // greyed out: the most important line of the menu would be the hardest to read.)
        StateLine,
        FailingCheck, // opens the details at checkId
        MoreChecks,   // "and N more": opens the details
        Separator,
        CheckNow,
        Details,
        Enroll,
        SetUpSignIn, // "Set up sign-in…": the MFA wizard
        SignIn,      // "Sign in…": the PIN or code prompt
        About,
        Quit,
    };

    Kind kind = Kind::Separator;
    QString text;    // as a QAction shows it: '&' doubled in texts from outside
    QString toolTip; // the full text when text was cut, or why the entry is disabled
    bool enabled = true;
    QString checkId; // FailingCheck: the check's id
};

struct TrayMenuModel
{
    TrayStatus status;
    std::vector<TrayMenuEntry> entries;

    const TrayMenuEntry *find(TrayMenuEntry::Kind kind) const;
};

TrayMenuModel trayMenuModel(const std::optional<protocol::ipc::Status> &status,
                            const TrayStatus &trayStatus, const TrayMenuContext &context = {});

} // namespace vigil::ui
