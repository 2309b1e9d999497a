#pragma once

// What the MFA screens accept from the keyboard, and what they say about vigild's errors: pure
// functions, so that the rules are tested without windows.

#include "ui/mfa/mfabackend.h"

#include <QString>

namespace vigil::ui {

// An invite code as typed or pasted. Whitespace (a paste's line breaks, spaces between groups)
// never belongs to it. A code made only of base32 letters, digits 2-7 and dashes (the grouped
// form the verifier prints) is case-insensitive and its dashes only group: they are dropped and
// the letters upper-cased. Any other code is kept as it is, less the whitespace.
QString normalizeInviteCode(const QString &typed);
// Empty when the (normalized) invite can be sent, else why not.
QString inviteProblem(const QString &normalized);

enum class PinCheck
{
    Ok,
    Empty,
    TooShort, // under minPinBytes
    TooLong,  // over maxPinBytes
    Mismatch, // the two fields differ
};
// docs/mfa.md: a PIN is 6 to 32 bytes of UTF-8.
inline constexpr int minPinBytes = 6;
inline constexpr int maxPinBytes = 32;
PinCheck checkPin(const QString &pin);
PinCheck checkNewPin(const QString &pin, const QString &repeated);
// What to tell the person; empty for Ok.
QString describePinCheck(PinCheck check);

// A TOTP code as typed: authenticator apps show "123 456", so spaces are dropped. The result is
// the six digits, or empty when the text is not a code.
QString normalizeTotpCode(const QString &typed);

// The base32 secret of an otpauth:// URI (its "secret" parameter), empty when it has none.
QString totpSecretOf(const QString &otpauthUri);
// "JBSW Y3DP EHPK 3PXP": groups of four, for typing into an app by hand; with groupsPerLine,
// a line break instead of a space after that many groups.
QString groupedSecret(const QString &secret, int groupsPerLine = 0);

// What an error of vigild means to the person, in a sentence or two.
QString describeMfaError(const MfaError &error);

} // namespace vigil::ui
