// SignInPrompt, opened by PromptService for vigild's "sign_in" prompt, against a scripted
// vigild: why it asks (each reason, the time for "expiring"), the PIN or a code from the app,
// the busy state, attempts left after a wrong PIN, the locked key's wait (and the switch to a
// code), the answer on success, and a prompt withdrawn while vigild works.
#include "manualclock.h"
#include "scriptedmfabackend.h"
#include "ui/mfa/signinprompt.h"
#include "ui/translations/translations.h"

#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using namespace vigil;
using namespace vigil::ui;
using test::ScriptedMfaBackend;

Q_DECLARE_METATYPE(nlohmann::json)

namespace {

// 2026-12-07 14:00:00 UTC (the suite runs with TZ=UTC).
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1796652000));

MfaStatus signedIn()
{
    MfaStatus status;
    status.enrolled = true;
    status.name = QStringLiteral("alice");
    status.signedIn = true;
    status.amr = {QStringLiteral("hwk"), QStringLiteral("pin"), QStringLiteral("mfa")};
    return status;
}

MfaStatus withAttempts(std::optional<int> left, std::optional<int> lockedFor = std::nullopt)
{
    MfaStatus status;
    status.enrolled = true;
    status.pinAttemptsLeft = left;
    status.pinLockedOutSeconds = lockedFor;
    return status;
}

PromptRequest signInRequest(const char *id, nlohmann::json data)
{
    return {QStringLiteral("sign_in"), QString::fromUtf8(id), std::move(data)};
}

} // namespace

class TestSignInPrompt : public QObject
{
    Q_OBJECT

private:
    test::ManualClock m_clock{now};

private Q_SLOTS:
    void initTestCase()
    {
        installTranslations(*QCoreApplication::instance());
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedKingdom));
    }

    void readsTheRequest()
    {
        auto request = SignInRequest::fromJson(
            {{"reason", "expiring"}, {"factors", {"otp"}}, {"expires_at", "2026-12-07T14:05:00Z"}});
        QCOMPARE(request.reason, QStringLiteral("expiring"));
        QVERIFY(!request.pinAccepted);
        QVERIFY(request.otpAccepted);
        QCOMPARE(request.expiresAt, QDateTime(QDate(2026, 12, 7), QTime(14, 5), Qt::UTC));
        // Wrong types and unknown factors: the defaults, both factors.
        request =
            SignInRequest::fromJson({{"reason", 3}, {"factors", {"retina"}}, {"expires_at", 1}});
        QCOMPARE(request.reason, QStringLiteral("expired"));
        QVERIFY(request.pinAccepted && request.otpAccepted);
        QVERIFY(!request.expiresAt.isValid());
        request = SignInRequest::fromJson(nlohmann::json::array());
        QVERIFY(request.pinAccepted && request.otpAccepted);
    }

    void saysWhy_data()
    {
        QTest::addColumn<QString>("reason");
        QTest::addColumn<QString>("says");
        QTest::newRow("unlock") << "unlock"
                                << "screen was unlocked";
        QTest::newRow("resume") << "resume"
                                << "woke from sleep";
        QTest::newRow("expired") << "expired"
                                 << "has expired";
        QTest::newRow("expiring") << "expiring"
                                  << "ends at 14:05, in 5 minutes";
    }
    void saysWhy()
    {
        QFETCH(QString, reason);
        QFETCH(QString, says);
        ScriptedMfaBackend backend;
        SignInPrompt prompt(SignInRequest::fromJson({{"reason", reason.toStdString()},
                                                     {"expires_at", "2026-12-07T14:05:00Z"}}),
                            backend, m_clock);
        QVERIFY2(prompt.reasonText().contains(says), qPrintable(prompt.reasonText()));
    }

    void signsInWithThePinAndAnswers()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(ScriptedMfaBackend::success(signedIn()));
        PromptService service;
        registerSignInPrompt(service, backend, m_clock);
        QSignalSpy answered(&service, &PromptService::answered);
        QVERIFY(
            service.open(signInRequest("p1", {{"reason", "unlock"}, {"factors", {"pin", "otp"}}})));
        auto *prompt = qobject_cast<SignInPrompt *>(service.window(QStringLiteral("p1")));
        QVERIFY(prompt && prompt->isVisible());
        QCOMPARE(prompt->factor(), SignInPrompt::Factor::Pin);
        QVERIFY(!prompt->signInButton()->isEnabled());
        QTest::keyClicks(prompt->pinField(), QStringLiteral("12345"));
        QVERIFY(!prompt->signInButton()->isEnabled()); // too short to be a PIN
        QTest::keyClicks(prompt->pinField(), QStringLiteral("6"));
        QVERIFY(prompt->signInButton()->isEnabled());
        QCOMPARE(prompt->pinField()->echoMode(), QLineEdit::Password);

        backend.hold = true;
        QTest::keyClick(prompt->pinField(), Qt::Key_Return);
        QVERIFY(prompt->isBusy());
        QVERIFY(!prompt->pinField()->isEnabled());
        QVERIFY(!prompt->signInButton()->isEnabled());
        QVERIFY(!prompt->switchButton()->isEnabled());
        QCOMPARE(backend.calls.size(), 1);
        QCOMPARE(backend.calls[0].method, QStringLiteral("signIn"));
        QCOMPARE(backend.calls[0].pin, QStringLiteral("123456"));
        QVERIFY(!backend.calls[0].code);
        backend.release();
        QCOMPARE(answered.size(), 1);
        QCOMPARE(answered[0][0].toString(), QStringLiteral("p1"));
        QCOMPARE(answered[0][1].value<nlohmann::json>(), (nlohmann::json{{"signed_in", true}}));
        QVERIFY(service.openIds().isEmpty());
    }

    void aCodeInsteadOfThePin()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(
            ScriptedMfaBackend::failure<MfaStatus>(mfaerror::invalidCode, "invalid_code"));
        backend.signInReplies.push_back(ScriptedMfaBackend::success(signedIn()));
        SignInPrompt prompt(SignInRequest::fromJson({{"reason", "resume"}}), backend, m_clock);
        QSignalSpy done(&prompt, &SignInPrompt::signedIn);
        prompt.show();
        QVERIFY(prompt.switchButton()->isVisible());
        QVERIFY(prompt.switchButton()->text().contains(QStringLiteral("authenticator app")));
        prompt.switchButton()->click();
        QCOMPARE(prompt.factor(), SignInPrompt::Factor::Code);
        QVERIFY(prompt.codeField()->isVisible());
        QVERIFY(!prompt.pinField()->isVisible());
        QVERIFY(prompt.switchButton()->text().contains(QStringLiteral("PIN instead")));
        QTest::keyClicks(prompt.codeField(), QStringLiteral("111 111"));
        prompt.signInButton()->click();
        QTRY_VERIFY(!prompt.messageText().isEmpty());
        QVERIFY2(prompt.messageText().contains(QStringLiteral("not accepted")),
                 qPrintable(prompt.messageText()));
        QVERIFY(prompt.codeField()->text().isEmpty());
        QVERIFY(prompt.isVisible());
        QTest::keyClicks(prompt.codeField(), QStringLiteral("222222"));
        prompt.signInButton()->click();
        QTRY_COMPARE(done.size(), 1);
        QCOMPARE(backend.calls.last().code, QStringLiteral("222222"));
        QVERIFY(!backend.calls.last().pin);
        QVERIFY(!prompt.isVisible());
    }

    void onlyTheFactorsPolicyAccepts()
    {
        ScriptedMfaBackend backend;
        SignInPrompt otpOnly(SignInRequest::fromJson({{"factors", {"otp"}}}), backend, m_clock);
        otpOnly.show();
        QCOMPARE(otpOnly.factor(), SignInPrompt::Factor::Code);
        QVERIFY(!otpOnly.switchButton()->isVisible());
        otpOnly.setFactor(SignInPrompt::Factor::Pin);
        QCOMPARE(otpOnly.factor(), SignInPrompt::Factor::Code);
        SignInPrompt pinOnly(SignInRequest::fromJson({{"factors", {"pin"}}}), backend, m_clock);
        pinOnly.show();
        QCOMPARE(pinOnly.factor(), SignInPrompt::Factor::Pin);
        QVERIFY(!pinOnly.switchButton()->isVisible());
    }

    void aWrongPinSaysHowManyAttemptsAreLeft()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(
            mfaerror::wrongPin, "wrong PIN: 4 attempts left before the TPM locks the key"));
        backend.statusReplies.push_back(ScriptedMfaBackend::success(withAttempts(4)));
        backend.signInReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(
            mfaerror::wrongPin, "wrong PIN: 1 attempt left"));
        backend.statusReplies.push_back(ScriptedMfaBackend::success(withAttempts(1)));
        SignInPrompt prompt(SignInRequest::fromJson({{"reason", "expired"}}), backend, m_clock);
        prompt.show();
        QTest::keyClicks(prompt.pinField(), QStringLiteral("000000"));
        prompt.signInButton()->click();
        QTRY_VERIFY(prompt.messageText().contains(QStringLiteral("4 attempts left")));
        QVERIFY(prompt.pinField()->text().isEmpty());
        QVERIFY(prompt.pinField()->isEnabled());
        QCOMPARE(backend.calls.last().method, QStringLiteral("status"));
        // Typing again clears the message; the next one counts in the singular.
        QTest::keyClicks(prompt.pinField(), QStringLiteral("000001"));
        QVERIFY(prompt.messageText().isEmpty());
        prompt.signInButton()->click();
        QTRY_VERIFY2(prompt.messageText().contains(QStringLiteral("1 attempt left before")),
                     qPrintable(prompt.messageText()));
    }

    void aLockedKeySaysHowLongAndOffersACode()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(
            ScriptedMfaBackend::failure<MfaStatus>(mfaerror::pinLocked, "locked for 600 s"));
        backend.statusReplies.push_back(ScriptedMfaBackend::success(withAttempts(0, 600)));
        SignInPrompt prompt(SignInRequest::fromJson({{"reason", "unlock"}}), backend, m_clock);
        prompt.show();
        QTest::keyClicks(prompt.pinField(), QStringLiteral("999999"));
        prompt.signInButton()->click();
        QTRY_VERIFY(prompt.messageText().contains(QStringLiteral("locked your key until")));
        QVERIFY2(prompt.messageText().contains(QStringLiteral("14:10, in 10 minutes")),
                 qPrintable(prompt.messageText()));
        QCOMPARE(prompt.factor(), SignInPrompt::Factor::Code); // the PIN cannot work now
        prompt.setFactor(SignInPrompt::Factor::Pin);
        QVERIFY(!prompt.pinField()->isEnabled());
        QTest::keyClicks(prompt.pinField(), QStringLiteral("123456"));
        QVERIFY(!prompt.signInButton()->isEnabled());
    }

    void aLockedKeyWithoutCodesWaits()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(
            ScriptedMfaBackend::failure<MfaStatus>(mfaerror::pinLocked, "locked"));
        backend.statusReplies.push_back(ScriptedMfaBackend::success(withAttempts(0, 1)));
        SignInPrompt prompt(SignInRequest::fromJson({{"factors", {"pin"}}}), backend, m_clock);
        prompt.show();
        QTest::keyClicks(prompt.pinField(), QStringLiteral("999999"));
        prompt.signInButton()->click();
        QTRY_VERIFY(prompt.messageText().contains(QStringLiteral("Try again then")));
        QCOMPARE(prompt.factor(), SignInPrompt::Factor::Pin);
        QVERIFY(!prompt.pinField()->isEnabled());
        // One second later the key takes PINs again.
        QTRY_VERIFY_WITH_TIMEOUT(prompt.pinField()->isEnabled(), 3000);
        QVERIFY(prompt.messageText().contains(QStringLiteral("unlocked again")));
    }

    void otherErrorsInWords()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(ScriptedMfaBackend::failure<MfaStatus>(
            mfaerror::refused, "not_compliant: disk encryption"));
        SignInPrompt prompt(SignInRequest::fromJson({}), backend, m_clock);
        prompt.show();
        QTest::keyClicks(prompt.pinField(), QStringLiteral("123456"));
        prompt.signInButton()->click();
        QTRY_VERIFY(prompt.messageText().contains(QStringLiteral("not compliant")));
        QCOMPARE(backend.calls.size(), 1); // no status call for this one
        QVERIFY(prompt.pinField()->isEnabled());
    }

    void withdrawnWhileVigildWorks()
    {
        ScriptedMfaBackend backend;
        backend.signInReplies.push_back(ScriptedMfaBackend::success(signedIn()));
        backend.hold = true;
        PromptService service;
        registerSignInPrompt(service, backend, m_clock);
        QSignalSpy answered(&service, &PromptService::answered);
        QSignalSpy dismissed(&service, &PromptService::dismissed);
        QVERIFY(service.open(signInRequest("p2", {{"reason", "expired"}})));
        QPointer<QWidget> window = service.window(QStringLiteral("p2"));
        auto *prompt = qobject_cast<SignInPrompt *>(window.data());
        QTest::keyClicks(prompt->pinField(), QStringLiteral("123456"));
        prompt->signInButton()->click();
        service.withdraw(QStringLiteral("p2"));
        QTRY_VERIFY(window.isNull());
        backend.release(); // the late answer finds no window and answers nothing
        QCOMPARE(answered.size(), 0);
        QCOMPARE(dismissed.size(), 0);
    }

    void cancelDismisses()
    {
        ScriptedMfaBackend backend;
        PromptService service;
        registerSignInPrompt(service, backend, m_clock);
        QSignalSpy dismissed(&service, &PromptService::dismissed);
        QVERIFY(service.open(signInRequest("p3", {})));
        auto *prompt = qobject_cast<SignInPrompt *>(service.window(QStringLiteral("p3")));
        QTest::keyClick(prompt, Qt::Key_Escape);
        QCOMPARE(dismissed.size(), 1);
        QVERIFY(service.openIds().isEmpty());
        QCOMPARE(backend.calls.size(), 0);
    }
};

QTEST_MAIN(TestSignInPrompt)
#include "tst_signinprompt.moc"
