// SetupWizard with a scripted vigild (ScriptedMfaBackend): the pages in order with what each
// sends, the busy state while vigild works, and each error: a refused invite goes back to the
// invite with the text kept, other enrollment errors stay on the PIN page with the PINs
// cleared, a wrong TOTP code stays on its page, an account whose app is set up already skips to
// the end. Cancelling after enrollment says what is left; the recovery codes gate the way on
// and save to a file only its owner reads; the clipboard and PIN do not outlive the wizard.
#include "core/clock.h"
#include "scriptedmfabackend.h"
#include "ui/mfa/qrcodewidget.h"
#include "ui/mfa/setupwizard.h"
#include "ui/mfa/setupwizardpages.h"

#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>
#include <sys/stat.h>

using namespace vigil;
using namespace vigil::ui;
using test::ScriptedMfaBackend;

namespace {

const QString uri =
    QStringLiteral("otpauth://totp/Vigil:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Vigil"
                   "&algorithm=SHA1&digits=6&period=30");
const QStringList codes = {QStringLiteral("AAAA-BBBB-CCCC"), QStringLiteral("DDDD-EEEE-FFFF"),
                           QStringLiteral("GGGG-HHHH-JJJJ")};

MfaStatus enrolledAs(const char *name, const char *totp = "none")
{
    MfaStatus status;
    status.enrolled = true;
    status.userId = QStringLiteral("0b5c7a8e-2f7e-4f55-9a0c-1c2d3e4f5a6b");
    status.name = QString::fromUtf8(name);
    status.keyAssurance = QStringLiteral("tpm");
    status.totp = QString::fromUtf8(totp);
    return status;
}

TotpSetup totpSetup()
{
    return {uri, QDateTime::currentDateTimeUtc().addSecs(900)};
}

// The Next or, on a commit page, the commit button.
QAbstractButton *forwardButton(SetupWizard &wizard)
{
    return wizard.button(wizard.currentPage()->isCommitPage() ? QWizard::CommitButton
                                                              : QWizard::NextButton);
}

} // namespace

class TestSetupWizard : public QObject
{
    Q_OBJECT

private:
    SystemClock m_clock;

    // Types the invite and a good PIN twice, on the first two pages.
    static void fillInviteAndPin(SetupWizard &wizard,
                                 const QString &invite = QStringLiteral("abcd-efgh ijkl"))
    {
        auto *invitePage = qobject_cast<InviteCodePage *>(wizard.currentPage());
        QVERIFY(invitePage);
        QTest::keyClicks(invitePage->field(), invite);
        QVERIFY(forwardButton(wizard)->isEnabled());
        QTest::keyClick(invitePage->field(), Qt::Key_Return); // the keyboard alone goes on
        QCOMPARE(wizard.currentId(), int(SetupWizard::PinPage));
        auto *pinPage = qobject_cast<ChoosePinPage *>(wizard.currentPage());
        QTest::keyClicks(pinPage->pinField(), QStringLiteral("correct horse"));
        QTest::keyClicks(pinPage->repeatField(), QStringLiteral("correct horse"));
        QVERIFY(forwardButton(wizard)->isEnabled());
    }

private Q_SLOTS:
    void theWholeWayThrough()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(enrolledAs("alice")));
        backend.beginReplies.push_back(ScriptedMfaBackend::success(totpSetup()));
        backend.activateReplies.push_back(
            ScriptedMfaBackend::failure<QStringList>(mfaerror::invalidCode, "invalid code"));
        backend.activateReplies.push_back(ScriptedMfaBackend::success(codes));
        SetupWizard wizard(backend, m_clock);
        wizard.show();
        QCOMPARE(wizard.currentId(), int(SetupWizard::InvitePage));
        QVERIFY(!forwardButton(wizard)->isEnabled()); // nothing typed
        fillInviteAndPin(wizard);

        // The PIN check speaks up when the fields differ, and the way on closes.
        auto *pinPage = qobject_cast<ChoosePinPage *>(wizard.currentPage());
        QTest::keyClick(pinPage->repeatField(), Qt::Key_X);
        QVERIFY(!forwardButton(wizard)->isEnabled());
        QVERIFY(pinPage->findChild<QLabel *>()); // (hint label exists)
        bool saysDiffer = false;
        for (const QLabel *label : pinPage->findChildren<QLabel *>())
            saysDiffer = saysDiffer || label->text().contains(QStringLiteral("differ"));
        QVERIFY(saysDiffer);
        QTest::keyClick(pinPage->repeatField(), Qt::Key_Backspace);
        QVERIFY(forwardButton(wizard)->isEnabled());
        // The show toggle unmasks both fields.
        QCOMPARE(pinPage->pinField()->echoMode(), QLineEdit::Password);
        pinPage->showToggle()->click();
        QCOMPARE(pinPage->repeatField()->echoMode(), QLineEdit::Normal);
        pinPage->showToggle()->click();

        // Enrolling: busy until vigild answers.
        backend.hold = true;
        forwardButton(wizard)->click();
        QCOMPARE(backend.pendingCount(), 1);
        QVERIFY(pinPage->isBusy());
        QVERIFY(!pinPage->pinField()->isEnabled());
        QVERIFY(!forwardButton(wizard)->isEnabled());
        QVERIFY(!wizard.button(QWizard::BackButton)->isEnabled());
        QVERIFY(pinPage->message().contains(QStringLiteral("TPM")));
        QCOMPARE(backend.calls.last().method, QStringLiteral("enroll"));
        QCOMPARE(backend.calls.last().invite, QStringLiteral("ABCDEFGHIJKL"));
        QCOMPARE(backend.calls.last().pin, QStringLiteral("correct horse"));
        backend.hold = false;
        backend.release();

        // The QR code and the key by hand.
        QCOMPARE(wizard.currentId(), int(SetupWizard::TotpPage));
        QVERIFY(wizard.enrolled);
        auto *totpPage = qobject_cast<AuthenticatorPage *>(wizard.currentPage());
        QTRY_VERIFY(totpPage->qrCode()->hasCode());
        QCOMPARE(backend.calls.last().method, QStringLiteral("beginTotp"));
        QCOMPARE(backend.calls.last().pin, QStringLiteral("correct horse"));
        QCOMPARE(totpPage->qrCode()->text(), uri);
        QCOMPARE(totpPage->secretLabel()->text(),
                 QStringLiteral("JBSW Y3DP EHPK 3PXP\nJBSW Y3DP EHPK 3PXP"));
        QVERIFY(!wizard.button(QWizard::BackButton)->isVisible() ||
                !wizard.button(QWizard::BackButton)->isEnabled());
        totpPage->copyButton()->click();
        QCOMPARE(QGuiApplication::clipboard()->text(),
                 QStringLiteral("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"));
        QVERIFY(!forwardButton(wizard)->isEnabled());
        QTest::keyClicks(totpPage->codeField(), QStringLiteral("12345"));
        QVERIFY(!forwardButton(wizard)->isEnabled()); // five digits
        QTest::keyClicks(totpPage->codeField(), QStringLiteral("x6"));
        QCOMPARE(totpPage->codeField()->text(), QStringLiteral("123456")); // no letters
        QVERIFY(forwardButton(wizard)->isEnabled());

        // A wrong code: told so, still here, the field empty for the next one.
        forwardButton(wizard)->click();
        QTRY_VERIFY(!totpPage->message().isEmpty() && !totpPage->isBusy());
        QCOMPARE(wizard.currentId(), int(SetupWizard::TotpPage));
        QVERIFY2(totpPage->message().contains(QStringLiteral("not accepted")),
                 qPrintable(totpPage->message()));
        QVERIFY(totpPage->codeField()->text().isEmpty());
        QTest::keyClicks(totpPage->codeField(), QStringLiteral("654 321"));
        forwardButton(wizard)->click();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::RecoveryPage));
        QCOMPARE(backend.calls.last().method, QStringLiteral("activateTotp"));
        QCOMPARE(backend.calls.last().code, QStringLiteral("654321"));

        // The recovery codes gate the way on.
        auto *recovery = qobject_cast<RecoveryCodesPage *>(wizard.currentPage());
        for (const QString &code : codes)
            QVERIFY(recovery->codesView()->toPlainText().contains(code));
        QVERIFY(recovery->codesView()->isReadOnly());
        // Asked for; the desktop suite checks what the X server's fonts give.
        QVERIFY(recovery->codesView()->font().fixedPitch());
        QVERIFY(!forwardButton(wizard)->isEnabled());
        recovery->copyButton()->click();
        QCOMPARE(QGuiApplication::clipboard()->text(),
                 codes.join(QLatin1Char('\n')) + QLatin1Char('\n'));
        QTemporaryDir directory;
        const QString file = directory.filePath(QStringLiteral("codes.txt"));
        QVERIFY(recovery->saveTo(file));
        struct stat info
        {
        };
        QCOMPARE(::stat(QFile::encodeName(file).constData(), &info), 0);
        QCOMPARE(info.st_mode & 0777, 0600u);
        QFile saved(file);
        QVERIFY(saved.open(QIODevice::ReadOnly));
        const QString content = QString::fromUtf8(saved.readAll());
        for (const QString &code : codes)
            QVERIFY(content.contains(code));
        QVERIFY(!recovery->saveTo(directory.filePath(QStringLiteral("no/such/dir/codes.txt"))));
        QVERIFY(recovery->message().contains(QStringLiteral("Could not save")));
        recovery->storedBox()->click();
        QVERIFY(forwardButton(wizard)->isEnabled());
        forwardButton(wizard)->click();

        QCOMPARE(wizard.currentId(), int(SetupWizard::DonePage));
        QVERIFY(wizard.button(QWizard::FinishButton)->isVisible());
        wizard.button(QWizard::FinishButton)->click();
        QCOMPARE(wizard.result(), int(QDialog::Accepted));
        QVERIFY(wizard.pin.isEmpty());
        QVERIFY(wizard.recoveryCodes.isEmpty());
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty()); // the codes copied are gone
    }

    void aRefusedInviteGoesBackToIt()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(
            mfaerror::refused, "invalid_invite: unknown, used or expired"));
        SetupWizard wizard(backend, m_clock);
        wizard.show();
        fillInviteAndPin(wizard, QStringLiteral("WXYZ-2345"));
        forwardButton(wizard)->click();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::InvitePage));
        auto *invitePage = qobject_cast<InviteCodePage *>(wizard.currentPage());
        QCOMPARE(invitePage->field()->text(), QStringLiteral("WXYZ-2345")); // kept
        QVERIFY2(invitePage->message().contains(QStringLiteral("invite code is not valid")),
                 qPrintable(invitePage->message()));
        QVERIFY(!wizard.enrolled);
        forwardButton(wizard)->click();
        auto *pinPage = qobject_cast<ChoosePinPage *>(wizard.currentPage());
        QVERIFY(pinPage->pinField()->text().isEmpty()); // PINs are typed again
        QVERIFY(pinPage->repeatField()->text().isEmpty());
        // Cancelling now loses nothing: no question.
        wizard.reject();
        QVERIFY(!wizard.cancelQuestion());
        QCOMPARE(wizard.result(), int(QDialog::Rejected));
    }

    void otherErrorsStayOnThePinPage_data()
    {
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("says");
        QTest::newRow("tpm busy") << QString(mfaerror::busy) << "TPM is busy";
        QTest::newRow("vigild not running") << QString(mfaerror::notRunning) << "not running";
        QTest::newRow("verifier unreachable")
            << QString(mfaerror::unavailable) << "cannot be reached";
    }
    void otherErrorsStayOnThePinPage()
    {
        QFETCH(QString, code);
        QFETCH(QString, says);
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(code, "x"));
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(enrolledAs("alice")));
        backend.beginReplies.push_back(ScriptedMfaBackend::success(totpSetup()));
        SetupWizard wizard(backend, m_clock);
        wizard.show();
        fillInviteAndPin(wizard);
        forwardButton(wizard)->click();
        auto *pinPage = qobject_cast<ChoosePinPage *>(wizard.currentPage());
        QTRY_VERIFY(!pinPage->isBusy());
        QCOMPARE(wizard.currentId(), int(SetupWizard::PinPage));
        QVERIFY2(pinPage->message().contains(says), qPrintable(pinPage->message()));
        QVERIFY(pinPage->pinField()->text().isEmpty());
        QVERIFY(pinPage->pinField()->isEnabled());
        QCOMPARE(wizard.inviteCode, QStringLiteral("ABCDEFGHIJKL"));
        QVERIFY(wizard.button(QWizard::BackButton)->isEnabled());
        // Typing again and retrying works.
        QTest::keyClicks(pinPage->pinField(), QStringLiteral("123456"));
        QVERIFY(pinPage->message().isEmpty());
        QTest::keyClicks(pinPage->repeatField(), QStringLiteral("123456"));
        forwardButton(wizard)->click();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::TotpPage));
        QCOMPARE(backend.calls[1].pin, QStringLiteral("123456"));
    }

    void anAppSetUpBeforeSkipsToTheEnd()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(enrolledAs("bob", "active")));
        backend.beginReplies.push_back(ScriptedMfaBackend::failure<TotpSetup>(
            mfaerror::refused, "totp_active: already active"));
        SetupWizard wizard(backend, m_clock);
        wizard.show();
        fillInviteAndPin(wizard);
        forwardButton(wizard)->click();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::DonePage));
        bool saysBefore = false;
        for (const QLabel *label : wizard.currentPage()->findChildren<QLabel *>())
            saysBefore = saysBefore || label->text().contains(QStringLiteral("set up before"));
        QVERIFY(saysBefore);
        wizard.reject(); // on the last page: nothing lost, no question
        QVERIFY(!wizard.cancelQuestion());
        QVERIFY(!wizard.isVisible());
    }

    void aFailedQrCodeCanBeRetried()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(enrolledAs("alice")));
        backend.beginReplies.push_back(
            ScriptedMfaBackend::failure<TotpSetup>(mfaerror::unavailable, "timeout"));
        backend.beginReplies.push_back(ScriptedMfaBackend::success(totpSetup()));
        SetupWizard wizard(backend, m_clock);
        wizard.show();
        fillInviteAndPin(wizard);
        forwardButton(wizard)->click();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::TotpPage));
        auto *totpPage = qobject_cast<AuthenticatorPage *>(wizard.currentPage());
        QTRY_VERIFY(!totpPage->isBusy() && !totpPage->message().isEmpty());
        QVERIFY(!totpPage->qrCode()->hasCode());
        QVERIFY(!totpPage->copyButton()->isEnabled());
        QPushButton *retry = nullptr;
        for (QPushButton *button : totpPage->findChildren<QPushButton *>())
            if (button->accessibleName() == QStringLiteral("Make a new QR code"))
                retry = button;
        QVERIFY(retry && retry->isVisible());
        retry->click();
        QTRY_VERIFY(totpPage->qrCode()->hasCode());
        QVERIFY(!retry->isVisible());
    }

    void cancellingHalfWaySaysWhatIsLeft()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(enrolledAs("alice")));
        backend.beginReplies.push_back(ScriptedMfaBackend::success(totpSetup()));
        SetupWizard wizard(backend, m_clock);
        wizard.show();
        QCOMPARE(wizard.remainingState(), QStringLiteral("Nothing has been set up yet."));
        fillInviteAndPin(wizard);
        forwardButton(wizard)->click();
        QTRY_COMPARE(wizard.currentId(), int(SetupWizard::TotpPage));
        wizard.reject();
        QMessageBox *question = wizard.cancelQuestion();
        QVERIFY(question && question->isVisible());
        QVERIFY2(question->informativeText().contains(QStringLiteral("PIN is set up, but the "
                                                                     "authenticator app is not")),
                 qPrintable(question->informativeText()));
        // "Continue setting up" keeps the wizard.
        question->button(QMessageBox::NoButton); // (no standard buttons)
        QAbstractButton *resume = nullptr;
        QAbstractButton *stop = nullptr;
        for (QAbstractButton *button : question->buttons())
            (question->buttonRole(button) == QMessageBox::RejectRole ? resume : stop) = button;
        QVERIFY(resume && stop);
        resume->click();
        QTRY_VERIFY(!wizard.cancelQuestion());
        QVERIFY(wizard.isVisible());
        wizard.reject();
        QTRY_VERIFY(wizard.cancelQuestion());
        for (QAbstractButton *button : wizard.cancelQuestion()->buttons())
            if (wizard.cancelQuestion()->buttonRole(button) == QMessageBox::DestructiveRole)
                button->click();
        QTRY_VERIFY(!wizard.isVisible());
        QCOMPARE(wizard.result(), int(QDialog::Rejected));
        QVERIFY(wizard.pin.isEmpty());
    }

    void aWizardClosedWhileVigildWorksIgnoresTheAnswer()
    {
        ScriptedMfaBackend backend;
        backend.enrollReplies.push_back(ScriptedMfaBackend::success(enrolledAs("alice")));
        backend.hold = true;
        auto wizard = std::make_unique<SetupWizard>(backend, m_clock);
        wizard->show();
        fillInviteAndPin(*wizard);
        forwardButton(*wizard)->click();
        QCOMPARE(backend.pendingCount(), 1);
        // Cancelling now: the key may still be made, and the question says so.
        wizard->reject();
        QVERIFY(wizard->cancelQuestion());
        QVERIFY2(wizard->cancelQuestion()->informativeText().contains(
                     QStringLiteral("making your key right now")),
                 qPrintable(wizard->cancelQuestion()->informativeText()));
        wizard.reset();
        backend.release(); // must not touch the deleted pages
        QVERIFY(true);
    }
};

QTEST_MAIN(TestSetupWizard)
#include "tst_setupwizard.moc"
