#include "ui/mfa/mfainput.h"

#include <QCoreApplication>
#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>
#include <algorithm>

namespace vigil::ui {

namespace {

struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::MfaText)
};

bool isBase32OrDash(QChar c)
{
    const char16_t u = c.toUpper().unicode();
    return (u >= u'A' && u <= u'Z') || (u >= u'2' && u <= u'7') || u == u'-';
}

} // namespace

QString MfaError::problemCode() const
{
    if (code != mfaerror::refused)
        return {};
    const qsizetype colon = message.indexOf(QLatin1Char(':'));
    return (colon < 0 ? message : message.left(colon)).trimmed();
}

QString normalizeInviteCode(const QString &typed)
{
    QString code;
    code.reserve(typed.size());
    for (const QChar c : typed)
        if (!c.isSpace())
            code.append(c);
    if (!code.isEmpty() && std::all_of(code.cbegin(), code.cend(), isBase32OrDash)) {
        code.remove(QLatin1Char('-'));
        code = code.toUpper();
    }
    return code;
}

QString inviteProblem(const QString &normalized)
{
    if (normalized.isEmpty())
        return Text::tr("Enter the invite code your administrator gave you.");
    // docs/ipc.md: 1 to 4096 bytes; an invite is far shorter, so more is a wrong paste.
    if (normalized.toUtf8().size() > 4096)
        return Text::tr("This is much longer than an invite code. Paste only the code.");
    for (const QChar c : normalized)
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return Text::tr("An invite code has only letters, digits and dashes.");
    return {};
}

PinCheck checkPin(const QString &pin)
{
    const qsizetype bytes = pin.toUtf8().size();
    if (bytes == 0)
        return PinCheck::Empty;
    if (bytes < minPinBytes)
        return PinCheck::TooShort;
    if (bytes > maxPinBytes)
        return PinCheck::TooLong;
    return PinCheck::Ok;
}

PinCheck checkNewPin(const QString &pin, const QString &repeated)
{
    const PinCheck first = checkPin(pin);
    if (first != PinCheck::Ok)
        return first;
    return pin == repeated ? PinCheck::Ok : PinCheck::Mismatch;
}

QString describePinCheck(PinCheck check)
{
    switch (check) {
    case PinCheck::Ok:
        return {};
    case PinCheck::Empty:
        return Text::tr("Choose a PIN of %1 to %2 characters.").arg(minPinBytes).arg(maxPinBytes);
    case PinCheck::TooShort:
        return Text::tr("The PIN is too short: use at least %1 characters.").arg(minPinBytes);
    case PinCheck::TooLong:
        return Text::tr("The PIN is too long: use at most %1 characters.").arg(maxPinBytes);
    case PinCheck::Mismatch:
        return Text::tr("The two PINs differ. Type the same PIN in both fields.");
    }
    return {};
}

QString normalizeTotpCode(const QString &typed)
{
    QString code;
    for (const QChar c : typed) {
        if (c.isSpace() || c == QLatin1Char('-'))
            continue;
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return {};
        code.append(c);
    }
    return code.size() == 6 ? code : QString();
}

QString totpSecretOf(const QString &otpauthUri)
{
    const QUrl url(otpauthUri, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("otpauth"))
        return {};
    return QUrlQuery(url).queryItemValue(QStringLiteral("secret"), QUrl::FullyDecoded);
}

QString groupedSecret(const QString &secret, int groupsPerLine)
{
    QString grouped;
    for (qsizetype i = 0; i < secret.size(); i += 4) {
        if (i > 0)
            grouped.append(groupsPerLine > 0 && (i / 4) % groupsPerLine == 0 ? QLatin1Char('\n')
                                                                             : QLatin1Char(' '));
        grouped.append(secret.mid(i, 4));
    }
    return grouped;
}

QString describeMfaError(const MfaError &error)
{
    const QString &code = error.code;
    if (code == mfaerror::notRunning)
        return Text::tr("The Vigil service is not running. Start it (or ask your administrator) "
                        "and try again.");
    if (code == mfaerror::busy)
        return Text::tr("The TPM is busy with another request. Try again in a moment.");
    if (code == mfaerror::unavailable)
        return Text::tr("Your organisation's verifier cannot be reached. Check the network and "
                        "try again.");
    if (code == mfaerror::notEnrolled)
        return Text::tr("This device is not enrolled yet: enroll it first.");
    if (code == mfaerror::notEnrolledUser)
        return Text::tr("Sign-in is not set up for you on this device.");
    if (code == mfaerror::wrongPin)
        return Text::tr("Wrong PIN.");
    if (code == mfaerror::pinLocked)
        return Text::tr("Too many wrong PINs: the TPM has locked your key for a while.");
    if (code == mfaerror::invalidCode)
        return Text::tr("That code was not accepted. Check the time on your phone, wait for "
                        "the next code and try again.");
    const QString problem = error.problemCode();
    if (problem == QLatin1String("invalid_invite"))
        return Text::tr("This invite code is not valid: it is mistyped, used already or "
                        "expired. Check it, or ask your administrator for a new one.");
    if (problem == QLatin1String("user_disabled"))
        return Text::tr("Your account is disabled. Ask your administrator.");
    if (problem == QLatin1String("user_locked"))
        return Text::tr("Too many wrong codes: sign-in with codes is locked. Ask your "
                        "administrator to unlock it.");
    if (problem == QLatin1String("rate_limited"))
        return Text::tr("Too many wrong codes in a row. Wait a little and try again.");
    if (problem == QLatin1String("not_compliant") || problem == QLatin1String("report_stale"))
        return Text::tr("This device is not compliant right now, so sign-in is refused. The "
                        "tray's details say what to fix.");
    if (problem == QLatin1String("totp_active"))
        return Text::tr("Your authenticator app is set up already.");
    if (problem == QLatin1String("totp_not_pending"))
        return Text::tr("The QR code has expired. Make a new one.");
    if (problem == QLatin1String("factor_not_accepted"))
        return Text::tr("Your organisation does not accept this way of signing in.");
    // vigild's own words, better than nothing: they never carry a secret.
    return Text::tr("Vigil could not do this: %1").arg(error.message);
}

} // namespace vigil::ui
