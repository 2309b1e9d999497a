// Issue 18 end to end, as a person meets it: an administrator invites alice; she sets up sign-in
// in the tray's wizard (invite, PIN, her authenticator app from the QR code, recovery codes) on a
// real desktop (Xvfb, trayer, dunst); vigild makes her key in swtpm and enrolls it with the real
// verifier over HTTPS; her PIN gets her a user token naming her, with hwk, pin and mfa; the screen
// being unlocked drops it, and the prompt vigild then opens in the tray brings it back.
//
// logind cannot run here (it needs systemd as PID 1), so the test plays it on a private system
// bus and sends the exact Unlock signal logind sends; everything else is the real thing. The
// tray runs in this process, so the test reads its windows; screenshots of each page are saved
// under build/<preset>/screenshots/desktop/mfa-e2e-*.png.
#include "app/ipcclient/vigildclient.h"
#include "core/bytes.h"
#include "core/clock.h"
#include "desktopsession.h"
#include "oathtool.h"
#include "privatebus.h"
#include "protocol/ipc/mfaresults.h"
#include "swtpmsimulator.h"
#include "testpolicies.h"
#include "ui/mfa/qrcodewidget.h"
#include "ui/mfa/setupwizard.h"
#include "ui/mfa/setupwizardpages.h"
#include "ui/mfa/signinprompt.h"
#include "ui/translations/translations.h"
#include "ui/widgets/trayapp.h"
#include "verifierprocess.h"
#include "vigildprocess.h"
#include "zbardecoder.h"

#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDir>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QUrlQuery>
#include <QtTest>
#include <fstream>

using namespace vigil;
using test::DesktopSession;
namespace fs = std::filesystem;
namespace ipc = protocol::ipc;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop");
const QString pin = QStringLiteral("246810");

QAbstractButton *forwardButton(ui::SetupWizard &wizard)
{
    return wizard.button(wizard.currentPage()->isCommitPage() ? QWizard::CommitButton
                                                              : QWizard::NextButton);
}

// The claims of a compact JWS, without checking it (the verifier's own tests do that).
nlohmann::json claimsOf(const std::string &jwt)
{
    const auto first = jwt.find('.');
    const auto second = jwt.find('.', first + 1);
    const auto payload = base64UrlDecode(jwt.substr(first + 1, second - first - 1));
    if (!payload)
        return nlohmann::json::object();
    return nlohmann::json::parse(payload->begin(), payload->end());
}

} // namespace

class TestMfaSignIn : public QObject
{
    Q_OBJECT

public:
    explicit TestMfaSignIn(DesktopSession &session) : m_session(session) {}

private:
    DesktopSession &m_session;
    QTemporaryDir m_directory;
    fs::path m_root;
    std::unique_ptr<test::SwtpmSimulator> m_swtpm;
    std::unique_ptr<test::VerifierProcess> m_verifier;
    test::PrivateBus m_bus;
    std::unique_ptr<test::VigildProcess> m_vigild;
    SystemClock m_clock;
    std::unique_ptr<ui::TrayApp> m_tray;
    std::string m_userId;
    long long m_firstAuthTime = 0;

    static QString path(const QString &name)
    {
        return screenshots + QStringLiteral("/mfa-e2e-") + name + QStringLiteral(".png");
    }

    void save(QWidget &window, const QString &name)
    {
        QApplication::processEvents();
        QVERIFY(window.grab().save(path(name)));
    }

    // The end of vigild's log for a failure's message; the whole of it goes next to the
    // screenshots, as QtTest cuts long messages.
    QString vigildLog() const
    {
        QFile file(screenshots + QStringLiteral("/mfa-e2e-vigild.log"));
        if (file.open(QIODevice::WriteOnly))
            file.write(m_vigild->log());
        return QString::fromUtf8(m_vigild->log().right(600));
    }

    // user_token as this process's user (the tray's): the token, or the error vigild gave.
    std::variant<ipc::UserTokenResult, ipc::Error> userToken()
    {
        ipcclient::VigildClient client;
        client.connectAndWait(QString::fromStdString(m_vigild->socket().string()),
                              std::chrono::seconds(5));
        ipc::Request request;
        request.method = ipc::Method::UserToken;
        try {
            return ipc::UserTokenResult::fromJson(client.call(request, std::chrono::seconds(30)),
                                                  "/result");
        } catch (const ipcclient::CallError &e) {
            if (e.error())
                return *e.error();
            return ipc::Error{ipc::ErrorCode::Internal, e.what(), {}};
        }
    }

    // The sign-in prompt the tray shows, once one is open.
    ui::SignInPrompt *openPrompt() const
    {
        for (const QString &id : m_tray->prompts().openIds())
            if (auto *prompt = qobject_cast<ui::SignInPrompt *>(m_tray->prompts().window(id)))
                return prompt;
        return nullptr;
    }

    void signInThroughThePrompt(const QString &name)
    {
        ui::SignInPrompt *prompt = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((prompt = openPrompt()) && prompt->isVisible(), 10000);
        QVERIFY(QTest::qWaitForWindowExposed(prompt));
        save(*prompt, name);
        QTest::keyClicks(prompt->pinField(), pin);
        prompt->signInButton()->click();
        QTRY_VERIFY2_WITH_TIMEOUT(openPrompt() == nullptr, qPrintable(vigildLog()), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(m_tray->signInState(), ui::SignInState::SignedIn, 10000);
    }

    void emitFromLogind(const QDBusMessage &signal)
    {
        QDBusConnection logind =
            QDBusConnection::connectToBus(m_bus.address(), QStringLiteral("logind"));
        QVERIFY(logind.isConnected());
        QVERIFY(logind.registerService(QStringLiteral("org.freedesktop.login1")));
        QVERIFY(logind.send(signal));
        // Routed before this returns, so the signal is on its way before the name goes.
        logind.interface()->isServiceRegistered(QStringLiteral("org.freedesktop.login1"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        ui::installTranslations(*QCoreApplication::instance());
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedKingdom));
        QDir().mkpath(screenshots);
        QVERIFY(m_directory.isValid());
        QVERIFY2(m_bus.start(), qPrintable(m_bus.error()));
        m_root = m_directory.path().toStdString();
        m_swtpm = std::make_unique<test::SwtpmSimulator>();
        m_verifier =
            std::make_unique<test::VerifierProcess>(test::lenientPolicy, m_swtpm->caDirectory());
        const nlohmann::json config{{"server_url", m_verifier->baseUrl()},
                                    {"ca_file", m_verifier->caFile().string()},
                                    {"tcti", m_swtpm->tcti()},
                                    {"state_directory", (m_root / "state").string()},
                                    {"socket_path", (m_root / "run" / "vigild.sock").string()},
                                    {"log_level", "debug"}};
        const fs::path token = m_root / "enroll.token";
        std::ofstream(token) << m_verifier->createEnrollmentToken() << "\n";
        fs::permissions(token, fs::perms::owner_read | fs::perms::owner_write);
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        // vigild's system bus is the test's, where it plays logind.
        environment.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_bus.address());
        m_vigild = std::make_unique<test::VigildProcess>(m_root, config, token, environment);
        QVERIFY2(m_vigild->start(), m_vigild->log().constData());
        m_userId = m_verifier->addUser("alice");

        ui::TrayAppOptions options;
        options.socketPath = QString::fromStdString(m_vigild->socket().string());
        options.connection.firstRetry = std::chrono::milliseconds(100);
        options.connection.maxRetry = std::chrono::milliseconds(500);
        m_tray = std::make_unique<ui::TrayApp>(options, m_clock);
        m_tray->start();
    }

    void cleanupTestCase()
    {
        m_tray.reset();
        m_vigild.reset();
        m_verifier.reset();
        m_swtpm.reset();
    }

    void setUpSignInInTheWizard()
    {
        // The device enrolls by itself; then the menu offers to set up this account's sign-in.
        const ui::TrayMenuEntry *setUp = nullptr;
        QTRY_VERIFY2_WITH_TIMEOUT(
            (setUp = m_tray->menuModel().find(ui::TrayMenuEntry::Kind::SetUpSignIn)),
            qPrintable(vigildLog()), 60000);
        QCOMPARE(m_tray->signInState(), ui::SignInState::NotSetUp);
        QVERIFY(setUp->enabled);
        QVERIFY(userToken().index() == 1); // nobody is signed in yet
        m_tray->trigger(*setUp);
        ui::SetupWizard *wizard = m_tray->setupWizard();
        QVERIFY(wizard);
        QVERIFY(QTest::qWaitForWindowExposed(wizard));

        auto *invite = qobject_cast<ui::InviteCodePage *>(wizard->currentPage());
        QVERIFY(invite);
        QTest::keyClicks(invite->field(),
                         QString::fromStdString(m_verifier->createUserInvite("alice")));
        save(*wizard, QStringLiteral("1-invite"));
        forwardButton(*wizard)->click();

        auto *pinPage = qobject_cast<ui::ChoosePinPage *>(wizard->currentPage());
        QVERIFY(pinPage);
        QTest::keyClicks(pinPage->pinField(), pin);
        QTest::keyClicks(pinPage->repeatField(), pin);
        save(*wizard, QStringLiteral("2-pin"));
        forwardButton(*wizard)->click();

        // vigild made the key in the TPM, the AK certified it and the verifier recorded it.
        QTRY_VERIFY2_WITH_TIMEOUT(wizard->currentId() == int(ui::SetupWizard::TotpPage),
                                  qPrintable(pinPage->message() + QLatin1Char('\n') + vigildLog()),
                                  60000);
        auto *totp = qobject_cast<ui::AuthenticatorPage *>(wizard->currentPage());
        QTRY_VERIFY_WITH_TIMEOUT(totp->qrCode()->hasCode(), 30000);
        QApplication::processEvents();
        QVERIFY2(m_session.screenshot(path(QStringLiteral("3-totp-screen"))),
                 qPrintable(m_session.error()));
        save(*wizard, QStringLiteral("3-totp"));

        // The phone's view: the QR code read off the screen by zbarimg, an otpauth URI an app
        // reads, with the parameters docs/mfa.md promises.
        const auto decoded = test::decodeQr(path(QStringLiteral("3-totp-screen")));
        QVERIFY2(decoded.ran, qPrintable(decoded.error));
        QCOMPARE(decoded.text, totp->otpauthUri());
        const QUrl uri(decoded.text);
        QCOMPARE(uri.scheme(), QStringLiteral("otpauth"));
        QCOMPARE(uri.host(), QStringLiteral("totp"));
        QVERIFY2(uri.path().endsWith(QStringLiteral(":alice")), qPrintable(uri.path()));
        const QUrlQuery query(uri);
        QCOMPARE(query.queryItemValue(QStringLiteral("algorithm")), QStringLiteral("SHA1"));
        QCOMPARE(query.queryItemValue(QStringLiteral("digits")), QStringLiteral("6"));
        QCOMPARE(query.queryItemValue(QStringLiteral("period")), QStringLiteral("30"));
        const QString secret = query.queryItemValue(QStringLiteral("secret"));
        const auto secretBytes = base32Decode(secret.toStdString());
        QVERIFY(secretBytes);
        QCOMPARE(secretBytes->size(), std::size_t(20)); // 160 bits

        // A code from oathtool activates it.
        const QString code = QString::fromStdString(
            test::oathtool(secret.toStdString(), std::chrono::system_clock::now()));
        QCOMPARE(code.size(), 6);
        QTest::keyClicks(totp->codeField(), code);
        forwardButton(*wizard)->click();
        QTRY_VERIFY2_WITH_TIMEOUT(wizard->currentId() == int(ui::SetupWizard::RecoveryPage),
                                  qPrintable(vigildLog()), 30000);
        auto *recovery = qobject_cast<ui::RecoveryCodesPage *>(wizard->currentPage());
        // Ten codes of 60 bits, shown in two columns.
        const QString shown = recovery->codesView()->toPlainText();
        static const QRegularExpression codeForm(
            QStringLiteral("[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}"));
        int count = 0;
        for (auto matches = codeForm.globalMatch(shown); matches.hasNext(); matches.next())
            ++count;
        QCOMPARE(count, 10);
        save(*wizard, QStringLiteral("4-recovery"));
        QVERIFY(!forwardButton(*wizard)->isEnabled()); // not before they are stored
        recovery->storedBox()->click();
        forwardButton(*wizard)->click();
        QCOMPARE(wizard->currentId(), int(ui::SetupWizard::DonePage));
        save(*wizard, QStringLiteral("5-done"));
        wizard->button(QWizard::FinishButton)->click();
        QTRY_VERIFY(m_tray->setupWizard() == nullptr);

        // The menu now offers sign-in (or nothing, when enrollment signed her in).
        QTRY_VERIFY_WITH_TIMEOUT(m_tray->signInState() == ui::SignInState::SignedOut ||
                                     m_tray->signInState() == ui::SignInState::SignedIn,
                                 10000);
    }

    void thePinGetsAUserTokenNamingHer()
    {
        // Sign-in is for a compliant device: the first report must have its verdict.
        QTRY_VERIFY2_WITH_TIMEOUT(m_tray->state() == ui::TrayState::Compliant,
                                  qPrintable(vigildLog()), 60000);
        if (m_tray->signInState() == ui::SignInState::SignedOut) {
            const ui::TrayMenuEntry *signIn =
                m_tray->menuModel().find(ui::TrayMenuEntry::Kind::SignIn);
            QVERIFY(signIn && signIn->enabled);
            const auto before = std::chrono::system_clock::now();
            m_tray->trigger(*signIn);
            signInThroughThePrompt(QStringLiteral("6-sign-in"));
            QVERIFY(std::chrono::system_clock::now() >= before);
        }
        const auto token = userToken();
        QVERIFY2(token.index() == 0, token.index() == 1 ? std::get<1>(token).message.c_str() : "");
        const auto &result = std::get<0>(token);
        const auto claims = claimsOf(result.accessToken);
        QCOMPARE(claims.at("sub").get<std::string>(), m_userId);
        QCOMPARE(claims.at("preferred_username").get<std::string>(), std::string("alice"));
        QCOMPARE(claims.at("amr"), nlohmann::json({"hwk", "pin", "mfa"}));
        QCOMPARE(claims.at("acr").get<std::string>(), std::string("urn:vigil:acr:hwk-pin"));
        QVERIFY(claims.at("cnf").contains("jkt"));
        m_firstAuthTime = claims.at("auth_time").get<long long>();
        const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
        QVERIFY2(m_firstAuthTime <= now && m_firstAuthTime > now - 120,
                 qPrintable(QString::number(now - m_firstAuthTime)));
        QVERIFY(claims.at("exp").get<long long>() > now);
    }

    void anUnlockDropsItAndThePromptBringsItBack()
    {
        QVERIFY(m_firstAuthTime > 0);
        QTest::qWait(1100); // auth_time has whole seconds: the next one must differ
        emitFromLogind(QDBusMessage::createSignal(
            QStringLiteral("/org/freedesktop/login1/session/_32"),
            QStringLiteral("org.freedesktop.login1.Session"), QStringLiteral("Unlock")));

        // vigild drops the session and asks the tray, which opens the prompt.
        QTRY_VERIFY2_WITH_TIMEOUT(openPrompt() != nullptr, qPrintable(vigildLog()), 15000);
        QCOMPARE(openPrompt()->reasonText(),
                 QStringLiteral("The screen was unlocked. Sign in again to keep your access."));
        const auto dropped = userToken();
        QVERIFY(dropped.index() == 1);
        QCOMPARE(std::get<1>(dropped).code, ipc::ErrorCode::AuthenticationRequired);
        QApplication::processEvents();
        QVERIFY2(m_session.screenshot(path(QStringLiteral("7-unlock-prompt-screen"))),
                 qPrintable(m_session.error()));

        signInThroughThePrompt(QStringLiteral("7-unlock-prompt"));
        const auto token = userToken();
        QVERIFY(token.index() == 0);
        const auto claims = claimsOf(std::get<0>(token).accessToken);
        QCOMPARE(claims.at("sub").get<std::string>(), m_userId);
        QVERIFY(claims.at("auth_time").get<long long>() > m_firstAuthTime);

        // The PIN went to vigild and the TPM, never to its log.
        QVERIFY(!m_vigild->log().contains(pin.toUtf8()));
    }
};

int main(int argc, char **argv)
{
    DesktopSession session(DesktopSession::TrayHost::Trayer);
    return test::runInSession(session, [&] {
        QApplication application(argc, argv);
        application.setQuitOnLastWindowClosed(false);
        TestMfaSignIn suite(session);
        return QTest::qExec(&suite, argc, argv);
    });
}

#include "tst_mfasignin.moc"
