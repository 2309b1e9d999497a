// The tray's MFA screens on a real X server (Xvfb, tests/support/desktopsession.h), driven by a
// scripted vigild (ScriptedMfaBackend): every page of "Set up sign-in…" and the sign-in prompt
// in each of its states, saved under build/<preset>/screenshots/desktop/mfa-*.png for a person
// to look at, and the same TOTP page drawn at device pixel ratio 2. The QR code is read back by
// zbarimg from a screenshot of the whole screen, as a phone would read it off the monitor.
#include "core/clock.h"
#include "desktopsession.h"
#include "scriptedmfabackend.h"
#include "ui/mfa/qrcodewidget.h"
#include "ui/mfa/setupwizard.h"
#include "ui/mfa/setupwizardpages.h"
#include "ui/mfa/signinprompt.h"
#include "ui/translations/translations.h"
#include "zbardecoder.h"

#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QtTest>

using namespace vigil;
using namespace vigil::ui;
using test::DesktopSession;
using test::ScriptedMfaBackend;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop");
const QString uri =
    QStringLiteral("otpauth://totp/Example%20Corp:alice?secret=N5XW6ZLUMVZXIZLSMFWGY33XN5ZGYZDT"
                   "&issuer=Example%20Corp&algorithm=SHA1&digits=6&period=30");

QStringList recoveryCodes()
{
    return {QStringLiteral("7KQD-M2XA-PLN4"), QStringLiteral("C3VW-9TRE-BZ5H"),
            QStringLiteral("QF6N-WJ2K-R8MD"), QStringLiteral("L4PX-HZ7C-VT3Q"),
            QStringLiteral("2GMB-XK9W-F6JR"), QStringLiteral("T8NZ-5QDL-WC2P"),
            QStringLiteral("HV3R-KM7X-9BQF"), QStringLiteral("ZJ6W-P2TN-L5KD"),
            QStringLiteral("M9CF-R4HV-XQ7B"), QStringLiteral("W5LT-8JPZ-N3GK")};
}

MfaStatus alice(const char *totp = "none")
{
    MfaStatus status;
    status.enrolled = true;
    status.userId = QStringLiteral("0b5c7a8e-2f7e-4f55-9a0c-1c2d3e4f5a6b");
    status.name = QStringLiteral("alice");
    status.keyAssurance = QStringLiteral("tpm");
    status.totp = QString::fromUtf8(totp);
    return status;
}

QAbstractButton *forwardButton(SetupWizard &wizard)
{
    return wizard.button(wizard.currentPage()->isCommitPage() ? QWizard::CommitButton
                                                              : QWizard::NextButton);
}

} // namespace

class TestMfaScreens : public QObject
{
    Q_OBJECT

public:
    explicit TestMfaScreens(DesktopSession &session) : m_session(session) {}

private:
    DesktopSession &m_session;
    SystemClock m_clock;

    static QString path(const QString &name)
    {
        return screenshots + QStringLiteral("/mfa-") + name + QStringLiteral(".png");
    }

    // The window as drawn (its own pixels, what grab() paints).
    void save(QWidget &window, const QString &name)
    {
        QApplication::processEvents();
        QVERIFY(window.grab().save(path(name)));
    }

    // The whole screen, as the X server shows it.
    void screen(const QString &name)
    {
        QApplication::processEvents();
        QVERIFY2(m_session.screenshot(path(name)), qPrintable(m_session.error()));
    }

    static void expose(QWidget &window)
    {
        window.move(40, 40);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
    }

private Q_SLOTS:
    void initTestCase()
    {
        installTranslations(*QCoreApplication::instance());
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedKingdom));
        QDir().mkpath(screenshots);
    }

    void theWizardPageByPage()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(
            mfaerror::refused, "invalid_invite: unknown, used or expired"));
        backend.enrollReplies.push_back(
            ScriptedMfaBackend::failure<MfaStatus>(mfaerror::busy, "the TPM is busy"));
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(alice()));
        backend.beginReplies.push_back(ScriptedMfaBackend::success(
            TotpSetup{uri, QDateTime::currentDateTimeUtc().addSecs(900)}));
        backend.activateReplies.push_back(
            ScriptedMfaBackend::failure<QStringList>(mfaerror::invalidCode, "invalid code"));
        backend.activateReplies.push_back(ScriptedMfaBackend::success(recoveryCodes()));
        SetupWizard wizard(backend, m_clock);
        expose(wizard);

        // (a) The invite, empty and typed.
        save(wizard, QStringLiteral("wizard-1-invite-empty"));
        auto *invite = qobject_cast<InviteCodePage *>(wizard.currentPage());
        QTest::keyClicks(invite->field(), QStringLiteral("k7qd-m2xa-pln4-c3vw-9tre-bz"));
        save(wizard, QStringLiteral("wizard-1-invite"));
        forwardButton(wizard)->click();

        // (b) The PIN: too short, differing, then good; the invite refused.
        auto *pin = qobject_cast<ChoosePinPage *>(wizard.currentPage());
        QVERIFY(pin);
        QTest::keyClicks(pin->pinField(), QStringLiteral("1234"));
        save(wizard, QStringLiteral("wizard-2-pin-short"));
        QTest::keyClicks(pin->pinField(), QStringLiteral("5678"));
        QTest::keyClicks(pin->repeatField(), QStringLiteral("12349"));
        save(wizard, QStringLiteral("wizard-2-pin-differ"));
        pin->repeatField()->clear();
        QTest::keyClicks(pin->repeatField(), QStringLiteral("12345678"));
        backend.hold = true;
        forwardButton(wizard)->click();
        save(wizard, QStringLiteral("wizard-2-pin-busy"));
        backend.hold = false;
        backend.release();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::InvitePage));
        save(wizard, QStringLiteral("wizard-1-invite-refused"));
        forwardButton(wizard)->click();
        QTest::keyClicks(pin->pinField(), QStringLiteral("12345678"));
        QTest::keyClicks(pin->repeatField(), QStringLiteral("12345678"));
        forwardButton(wizard)->click();
        QTRY_VERIFY(!pin->isBusy() && !pin->message().isEmpty());
        save(wizard, QStringLiteral("wizard-2-pin-tpm-busy"));
        QTest::keyClicks(pin->pinField(), QStringLiteral("12345678"));
        QTest::keyClicks(pin->repeatField(), QStringLiteral("12345678"));
        forwardButton(wizard)->click();

        // (c) The QR code: on the screen, read back by an independent decoder.
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::TotpPage));
        auto *totp = qobject_cast<AuthenticatorPage *>(wizard.currentPage());
        QTRY_VERIFY(totp->qrCode()->hasCode());
        save(wizard, QStringLiteral("wizard-3-totp"));
        screen(QStringLiteral("wizard-3-totp-screen"));
        // scripts/bootstrap.sh installs zbar-tools: without it the test cannot check the code.
        QVERIFY2(test::haveZbarimg(), "zbarimg is missing (zbar-tools)");
        {
            const auto decoded = test::decodeQr(path(QStringLiteral("wizard-3-totp-screen")));
            QVERIFY2(decoded.ran, qPrintable(decoded.error));
            QCOMPARE(decoded.text, uri);
        }
        // The QR code and the key fit in the page: nothing of them is cut.
        QVERIFY(totp->qrCode()->lastModulePixels() >= 3);
        QVERIFY(totp->qrCode()->width() >= totp->qrCode()->sizeHint().width());
        for (const QString &line : totp->secretLabel()->text().split(QLatin1Char('\n')))
            QVERIFY(totp->secretLabel()->contentsRect().width() >=
                    totp->secretLabel()->fontMetrics().horizontalAdvance(line));
        // The same page at device pixel ratio 2, as a high-DPI screen draws it.
        QImage sharp(wizard.size() * 2, QImage::Format_ARGB32_Premultiplied);
        sharp.setDevicePixelRatio(2);
        sharp.fill(Qt::white);
        wizard.render(&sharp);
        QVERIFY(sharp.save(path(QStringLiteral("wizard-3-totp-ratio2"))));
        {
            const auto decoded = test::decodeQr(path(QStringLiteral("wizard-3-totp-ratio2")));
            QVERIFY2(decoded.ran, qPrintable(decoded.error));
            QCOMPARE(decoded.text, uri);
        }
        QTest::keyClicks(totp->codeField(), QStringLiteral("123 456"));
        forwardButton(wizard)->click();
        QTRY_VERIFY(!totp->isBusy() && !totp->message().isEmpty());
        save(wizard, QStringLiteral("wizard-3-totp-wrong-code"));
        QTest::keyClicks(totp->codeField(), QStringLiteral("654321"));
        forwardButton(wizard)->click();

        // (d) The recovery codes: monospace on this server's fonts, gating the way on.
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::RecoveryPage));
        auto *recovery = qobject_cast<RecoveryCodesPage *>(wizard.currentPage());
        // (Measured: Qt calls Noto Sans Mono proportional, but its letters are all as wide.)
        const QFontMetrics codesFont(recovery->codesView()->font());
        QVERIFY2(codesFont.horizontalAdvance(QStringLiteral("IIII1111")) ==
                     codesFont.horizontalAdvance(QStringLiteral("WWWWMMMM")),
                 qPrintable(QFontInfo(recovery->codesView()->font()).family()));
        // All ten visible without scrolling.
        QCOMPARE(recovery->codesView()->verticalScrollBar()->maximum(), 0);
        save(wizard, QStringLiteral("wizard-4-recovery"));
        // A cancel now says what is set up.
        wizard.reject();
        QTRY_VERIFY(wizard.cancelQuestion() && wizard.cancelQuestion()->isVisible());
        QVERIFY(QTest::qWaitForWindowExposed(wizard.cancelQuestion()));
        save(*wizard.cancelQuestion(), QStringLiteral("wizard-cancel-question"));
        screen(QStringLiteral("wizard-cancel-question-screen"));
        for (QAbstractButton *button : wizard.cancelQuestion()->buttons())
            if (wizard.cancelQuestion()->buttonRole(button) == QMessageBox::RejectRole)
                button->click();
        QTRY_VERIFY(!wizard.cancelQuestion());
        recovery->storedBox()->click();
        save(wizard, QStringLiteral("wizard-4-recovery-stored"));
        forwardButton(wizard)->click();

        // (e) Done.
        QCOMPARE(wizard.currentId(), int(SetupWizard::DonePage));
        save(wizard, QStringLiteral("wizard-5-done"));
        wizard.button(QWizard::FinishButton)->click();
        QCOMPARE(wizard.result(), int(QDialog::Accepted));
    }

    void thePromptInEachState()
    {
        ScriptedMfaBackend backend;
        PromptService service;
        registerSignInPrompt(service, backend, m_clock);
        const QString expiresAt =
            QString::fromStdString(toIso8601(m_clock.now() + std::chrono::minutes(5)));

        // Each reason.
        for (const auto &[reason, name] :
             {std::pair{"unlock", "prompt-unlock"}, std::pair{"resume", "prompt-resume"},
              std::pair{"expired", "prompt-expired"}, std::pair{"expiring", "prompt-expiring"}}) {
            const QString id = QString::fromUtf8(name);
            QVERIFY(service.open({QStringLiteral("sign_in"),
                                  id,
                                  {{"reason", reason},
                                   {"factors", {"pin", "otp"}},
                                   {"expires_at", expiresAt.toStdString()}}}));
            QWidget *window = service.window(id);
            window->move(40, 40);
            QVERIFY(QTest::qWaitForWindowExposed(window));
            save(*window, QString::fromUtf8(name));
            service.withdraw(id);
        }

        // A wrong PIN, the attempts left; then locked; with a code instead; busy.
        backend.signInReplies.push_back(
            ScriptedMfaBackend::failure<MfaStatus>(mfaerror::wrongPin, "wrong PIN"));
        MfaStatus left;
        left.enrolled = true;
        left.pinAttemptsLeft = 4;
        backend.statusReplies.push_back(ScriptedMfaBackend::success(left));
        backend.signInReplies.push_back(
            ScriptedMfaBackend::failure<MfaStatus>(mfaerror::pinLocked, "locked"));
        MfaStatus locked;
        locked.enrolled = true;
        locked.pinAttemptsLeft = 0;
        locked.pinLockedOutSeconds = 600;
        backend.statusReplies.push_back(ScriptedMfaBackend::success(locked));
        QVERIFY(service.open({QStringLiteral("sign_in"),
                              QStringLiteral("p"),
                              {{"reason", "unlock"}, {"factors", {"pin", "otp"}}}}));
        auto *prompt = qobject_cast<SignInPrompt *>(service.window(QStringLiteral("p")));
        prompt->move(40, 40);
        QVERIFY(QTest::qWaitForWindowExposed(prompt));
        QTest::keyClicks(prompt->pinField(), QStringLiteral("000000"));
        save(*prompt, QStringLiteral("prompt-pin-typed"));
        prompt->signInButton()->click();
        QTRY_VERIFY(prompt->messageText().contains(QStringLiteral("4 attempts left")));
        save(*prompt, QStringLiteral("prompt-wrong-pin"));
        QTest::keyClicks(prompt->pinField(), QStringLiteral("111111"));
        prompt->signInButton()->click();
        QTRY_VERIFY(prompt->messageText().contains(QStringLiteral("locked")));
        save(*prompt, QStringLiteral("prompt-locked"));
        screen(QStringLiteral("prompt-locked-screen"));
        QCOMPARE(prompt->factor(), SignInPrompt::Factor::Code);
        QTest::keyClicks(prompt->codeField(), QStringLiteral("123456"));
        backend.hold = true;
        backend.signInReplies.push_back(ScriptedMfaBackend::success(alice("active")));
        prompt->signInButton()->click();
        QVERIFY(prompt->isBusy());
        save(*prompt, QStringLiteral("prompt-busy"));
        backend.release();
        QVERIFY(service.openIds().isEmpty());

        // Codes only, with a refusal in words.
        backend.hold = false;
        backend.signInReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(
            mfaerror::refused, "not_compliant: disk encryption is off"));
        QVERIFY(service.open({QStringLiteral("sign_in"),
                              QStringLiteral("q"),
                              {{"reason", "expired"}, {"factors", {"otp"}}}}));
        prompt = qobject_cast<SignInPrompt *>(service.window(QStringLiteral("q")));
        prompt->move(40, 40);
        QVERIFY(QTest::qWaitForWindowExposed(prompt));
        QTest::keyClicks(prompt->codeField(), QStringLiteral("123456"));
        prompt->signInButton()->click();
        QTRY_VERIFY(!prompt->messageText().isEmpty());
        save(*prompt, QStringLiteral("prompt-code-only-refused"));
        service.withdraw(QStringLiteral("q"));
    }
};

int main(int argc, char **argv)
{
    DesktopSession session(DesktopSession::TrayHost::Trayer);
    return test::runInSession(session, [&] {
        QApplication application(argc, argv);
        application.setQuitOnLastWindowClosed(false);
        TestMfaScreens suite(session);
        return QTest::qExec(&suite, argc, argv);
    });
}

#include "tst_mfascreens.moc"
