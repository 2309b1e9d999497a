// Runs the real vigil-verifier binary: its usage errors, the administrative commands on a data
// directory, and `serve` end to end over pinned HTTPS.
#include "httpsclient.h"
#include "programrun.h"
#include "server/admin/admincommands.h"
#include "server/mfa/invitecodes.h"
#include "server/storage/sqlitestorage.h"
#include "testprinters.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using vigil::test::HttpsClient;
using vigil::test::presentedCertificateFingerprint;
using vigil::test::ProgramRun;
using vigil::test::runProgram;

namespace {

const QString binary = QStringLiteral(VIGIL_BINARY_DIR "/server/vigil-verifier");

// "a b c" -> {"a", "b", "c"}: command lines without a QStringLiteral per word.
QStringList words(const QString &line)
{
    return line.split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

// Nothing from the test's own environment may choose the data directory or mute the log.
QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("VIGIL_VERIFIER_DATA"));
    environment.remove(QStringLiteral("QT_LOGGING_RULES"));
    return environment;
}

ProgramRun verifier(const QStringList &arguments,
                    const QProcessEnvironment &environment = cleanEnvironment())
{
    vigil::test::ProgramOptions options;
    options.environment = environment;
    return runProgram(binary, arguments, options);
}

// A data directory for 127.0.0.1 and localhost under tmp; empty if init failed.
QString initialised(const QTemporaryDir &tmp)
{
    const QString dir = tmp.filePath(QStringLiteral("data"));
    const ProgramRun run =
        verifier(words(QStringLiteral("init --name 127.0.0.1 --name localhost --data")) << dir);
    if (run.exitCode != 0)
        qWarning("init failed: %s", run.err.constData());
    return run.exitCode == 0 ? dir : QString();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QByteArray usageText()
{
    return verifier({QStringLiteral("--help")}).out;
}

QByteArray column(const QByteArray &text, int width)
{
    return text.leftJustified(width, ' ');
}

// The usage error for a user name no user can have (65 characters is one too many).
const char *badName(const char *name)
{
    static std::list<std::string> messages; // addresses that stay put
    messages.push_back("invalid user name '" + std::string(name) +
                       "': a user name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', "
                       "starting with a letter or digit");
    return messages.back().c_str();
}

QByteArray tokenListHeader()
{
    return column("ID", 20) + column("STATE", 9) + column("USES", 8) + column("EXPIRES", 22) +
           "LABEL\n";
}

// `vigil-verifier serve` in the background: waits for its banner, collects its log, and is
// killed if a test ends before stopping it.
class Server
{
public:
    explicit Server(const QStringList &arguments)
    {
        m_process.setProcessEnvironment(cleanEnvironment());
        m_process.start(binary, QStringList{QStringLiteral("serve")} + arguments);
    }
    ~Server()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    // The port from "vigil-verifier: serving https://127.0.0.1:P on 127.0.0.1:P", 0 if the
    // banner did not come (then err() holds what came instead).
    int waitForBanner()
    {
        QDeadlineTimer deadline(30000);
        m_process.setReadChannel(QProcess::StandardOutput);
        while (!m_process.canReadLine() && !deadline.hasExpired() &&
               m_process.waitForReadyRead(int(deadline.remainingTime())))
            ;
        if (!m_process.canReadLine()) {
            m_err += m_process.readAllStandardError();
            return 0;
        }
        const QByteArray banner = m_process.readLine();
        static const QRegularExpression pattern(QStringLiteral(
            R"(^vigil-verifier: serving https://127\.0\.0\.1:(\d+) on 127\.0\.0\.1:(\d+)\n$)"));
        const auto match = pattern.match(QString::fromUtf8(banner));
        if (!match.hasMatch() || match.captured(1) != match.captured(2))
            return 0;
        return match.captured(1).toInt();
    }

    // Waits until the log on stderr matches pattern.
    bool waitForLog(const QRegularExpression &pattern)
    {
        QDeadlineTimer deadline(10000);
        m_process.setReadChannel(QProcess::StandardError);
        for (;;) {
            m_err += m_process.readAllStandardError();
            if (pattern.match(QString::fromUtf8(m_err)).hasMatch())
                return true;
            if (deadline.hasExpired() || !m_process.waitForReadyRead(int(deadline.remainingTime())))
                return false;
        }
    }

    // SIGTERM, then the exit code (-1 if it did not exit normally within 30 s: a loaded machine
    // and ASan's leak check at exit take a while).
    int terminate()
    {
        m_process.terminate();
        if (!m_process.waitForFinished(30000) || m_process.exitStatus() != QProcess::NormalExit)
            return -1;
        m_err += m_process.readAllStandardError();
        return m_process.exitCode();
    }

    const QByteArray &err() const { return m_err; }

private:
    QProcess m_process;
    QByteArray m_err;
};

QRegularExpression logLine(const QString &message,
                           const QString &category = QStringLiteral("vigil.verifier.serve"))
{
    return QRegularExpression(QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info )") +
                                  QRegularExpression::escape(category) + QStringLiteral(": ") +
                                  message + QStringLiteral("$"),
                              QRegularExpression::MultilineOption);
}

std::string url(int port, const char *path)
{
    return "https://127.0.0.1:" + std::to_string(port) + path;
}

// A running serve takes a renewed certificate: it says so in its log, presents it to the next
// connection, and answers there to a client that pins the CA in dir. The caller checks
// QTest::currentTestFailed() afterwards.
void expectPresented(Server &server, int port, const std::string &fingerprint, const QString &dir)
{
    QVERIFY2(server.waitForLog(
                 logLine(QStringLiteral(R"(now presenting the TLS certificate in \S+/tls\.pem )"
                                        R"(\(valid until \S+Z, %1\))")
                             .arg(QString::fromStdString(fingerprint)),
                         QStringLiteral("vigil.verifier.tls"))),
             server.err().constData());
    QCOMPARE(presentedCertificateFingerprint(port), fingerprint);
    HttpsClient client((dir + QStringLiteral("/ca.pem")).toStdString());
    QCOMPARE(client.get(url(port, "/v1/health")).status, 200L);
}

} // namespace

class TestVerifierCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpAndVersion()
    {
        const ProgramRun help = verifier({QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.startsWith("Usage: vigil-verifier <command> [options]\n"));
        QVERIFY(help.out.endsWith("2 on a usage error.\n"));
        QCOMPARE(help.err, QByteArray());
        QCOMPARE(verifier(words(QStringLiteral("token -h"))).out, help.out);

        const ProgramRun version = verifier({QStringLiteral("--version")});
        QCOMPARE(version.exitCode, 0);
        QCOMPARE(version.out, QByteArray("vigil-verifier " VIGIL_VERSION "\n"));
    }

    void commandHelp()
    {
        const ProgramRun help = verifier(words(QStringLiteral("help serve")));
        QCOMPARE(help.exitCode, 0);
        QVERIFY2(help.out.startsWith("Usage: vigil-verifier serve --data DIR "),
                 help.out.constData());
        QVERIFY(help.out.contains("\n  --address-burst N "));
        QCOMPARE(verifier(words(QStringLiteral("serve --help"))).out, help.out);
    }

    void deployHelp()
    {
        const ProgramRun help = verifier(words(QStringLiteral("help deploy")));
        QCOMPARE(help.exitCode, 0);
        QVERIFY2(help.out.startsWith(
                     "Usage: vigil-verifier deploy --data DIR --site NAME --server-url URL "),
                 help.out.constData());
        QVERIFY(help.out.contains("\n  --package-version V "));
        QVERIFY(usageText().contains("\n  deploy --data DIR --site NAME"));
    }

    // An option that several commands take, given to one that does not.
    void optionOfOtherCommands()
    {
        const ProgramRun run = verifier(words(QStringLiteral("policy check x --data y")));
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.startsWith("vigil-verifier: policy check does not take --data\n"),
                 run.err.constData());
    }

    // Every usage error: exit 2, the message and the usage on stderr, nothing on stdout — so
    // `serve` never got as far as its banner.
    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("message");
        const char *const noData = "no data directory: give --data DIR or set VIGIL_VERIFIER_DATA";
        const char *const uses = "--uses needs a number from 1 to 1000000";
        // Every data directory named here does not exist: none is opened before the error.
        const std::pair<const char *, const char *> rows[] = {
            {"", "no command given"},
            {"frobnicate", "unknown command 'frobnicate'"},
            {"policy lint x", "unknown command 'policy lint x'"},
            {"token list --yaml", "unexpected argument '--yaml'"},
            {"serve --data", "option --data needs a value"},
            {"init --data /nonexistent/vigil",
             "init needs at least one --name (what agents connect to)"},
            {"init --name localhost", noData},
            {"token list", noData},
            {"devices show x", noData},
            {"token frobnicate --data /nonexistent/vigil", "unknown command 'token frobnicate'"},
            {"token create --uses 0 --data /nonexistent/vigil", uses},
            {"token create --uses 5x --data /nonexistent/vigil", uses},
            {"token create --ttl 5w --data /nonexistent/vigil",
             "--ttl needs a duration such as 30m, 24h or 7d"},
            {"users add --data /nonexistent/vigil", "users add needs NAME"},
            {"users list extra --data /nonexistent/vigil", "unknown command 'users list extra'"},
            {"users add Alice --data /nonexistent/vigil", badName("Alice")},
            {"users add -alice --data /nonexistent/vigil", "unexpected argument '-a'"},
            {"users add .alice --data /nonexistent/vigil", badName(".alice")},
            {"users add al/ice --data /nonexistent/vigil", badName("al/ice")},
            {"users show al:ice --data /nonexistent/vigil", badName("al:ice")},
            {"users add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
             "--data /nonexistent/vigil",
             badName("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")},
            {"users invite alice --ttl 0 --data /nonexistent/vigil",
             "--ttl needs a duration such as 30m, 24h or 7d"},
            {"users list", noData},
            {"deploy --data /nonexistent/vigil --server-url https://verifier.example",
             "deploy needs --site NAME"},
            {"deploy --data /nonexistent/vigil --site Acme --server-url https://verifier.example",
             "invalid site name 'Acme': a site name is 1 to 32 characters of a-z, 0-9 and '-', "
             "starting with a letter or digit (it becomes the package name vigil-site-NAME)"},
            {"deploy --data /nonexistent/vigil --site acme",
             "deploy needs --server-url URL (the https URL agents use)"},
            {"deploy --data /nonexistent/vigil --site acme --server-url http://verifier.example",
             "invalid --server-url 'http://verifier.example': it does not start with https://"},
            {"deploy --data /nonexistent/vigil --site acme --server-url "
             "https://verifier.example/?site=acme",
             "invalid --server-url 'https://verifier.example/?site=acme': it has a query (?…)"},
            {"deploy --data /nonexistent/vigil --site acme --server-url https://verifier.example "
             "--uses 0",
             uses},
            {"deploy --data /nonexistent/vigil --site acme --server-url https://verifier.example "
             "--ttl 1y",
             "--ttl needs a duration such as 30m, 24h or 7d"},
            {"deploy --data /nonexistent/vigil --site acme --server-url https://verifier.example "
             "--format zip",
             "--format needs deb, rpm, all or none"},
            {"deploy --data /nonexistent/vigil --site acme --server-url https://verifier.example "
             "--package-version 1.0-1",
             "invalid --package-version '1.0-1': a package version is a digit, then letters, "
             "digits, '.', '+' and '~' (at most 64; e.g. 2.1 or 20261207.1030)"},
            {"deploy --site acme --server-url https://verifier.example", noData}};
        for (const auto &[line, message] : rows)
            QTest::addRow("'%s'", line) << words(QLatin1String(line)) << QByteArray(message);

        const char *const port = "--listen needs a port from 0 to 65535";
        const char *const threads = "--threads needs a number from 1 to 1024";
        const char *const deviceRate =
            "--device-rate needs a number of requests per second above 0";
        const char *const everywhere = "listening on every address needs --public-url (the URL "
                                       "devices use, e.g. https://verifier.example.com:8443)";
        const std::pair<const char *, const char *> serveRows[] = {
            {"--listen 127.0.0.1", "--listen needs ADDRESS:PORT"},
            {"--listen 127.0.0.1:65536", port},
            {"--listen 127.0.0.1:https", port},
            {"--listen 127.0.0.1:", port},
            {"--threads x", threads},
            {"--threads 0", threads},
            {"--threads 1025", threads},
            {"--device-rate -1", deviceRate},
            {"--device-rate 0", deviceRate},
            {"--device-rate 5x", deviceRate},
            {"--device-burst 0.5", "--device-burst needs a number of requests, at least 1"},
            {"--address-rate abc", "--address-rate needs a number of requests per second above 0"},
            {"--address-burst 0", "--address-burst needs a number of requests, at least 1"},
            {"--listen 0.0.0.0:8443", everywhere},
            {"--listen [::]:8443", everywhere},
            {"--listen [::0]:8443", everywhere},
            {"--listen :8443", "--listen needs an IP address before the port, not ''"},
            {"--listen verifier.example:8443",
             "--listen needs an IP address before the port, not 'verifier.example'"}};
        for (const auto &[options, message] : serveRows)
            QTest::addRow("serve %s", options)
                << words(QStringLiteral("serve --data /nonexistent/vigil ") +
                         QLatin1String(options))
                << QByteArray(message);
    }

    void usageErrors()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, message);
        const ProgramRun run = verifier(arguments);
        QCOMPARE(run.exitCode, 2);
        QCOMPARE(run.out, QByteArray());
        QCOMPARE(run.err, "vigil-verifier: " + message + "\n\n" + usageText());
    }

    void initWritesTheDataDirectoryAndPrintsTheCaFingerprint()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("data"));
        const ProgramRun run =
            verifier(words(QStringLiteral("init --name 127.0.0.1 --name localhost --data")) << dir);
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.err, QByteArray());

        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      words(QStringLiteral("x509 -fingerprint -sha256 -noout -in"))
                          << dir + QStringLiteral("/ca.pem"));
        QVERIFY(openssl.waitForFinished(30000));
        QCOMPARE(openssl.exitCode(), 0);
        // "sha256 Fingerprint=AB:CD:…" -> "sha256:abcd…"
        QByteArray fingerprint = openssl.readAllStandardOutput().trimmed();
        QVERIFY2(fingerprint.startsWith("sha256 Fingerprint="), fingerprint.constData());
        fingerprint =
            "sha256:" + fingerprint.mid(fingerprint.indexOf('=') + 1).replace(":", "").toLower();
        QCOMPARE(fingerprint.size(), 7 + 64);

        const QByteArray d = dir.toUtf8();
        QCOMPARE(run.out, "Initialised " + d + "\n  CA certificate   " + d +
                              "/ca.pem\n  TLS certificate  " + d +
                              "/tls.pem for 127.0.0.1 localhost\n  policy           " + d +
                              "/policy.json\n  TPM vendor CAs   " + d +
                              "/ek-cas/ (empty: add your TPM manufacturers' CA certificates)\n"
                              "CA fingerprint (agents pin this): " +
                              fingerprint + "\n");
    }

    void tlsRenewKeepsTheNamesAndTheCa()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const auto caBefore = readFile(dir + QStringLiteral("/ca.pem"));
        const auto tlsBefore = readFile(dir + QStringLiteral("/tls.pem"));

        const ProgramRun run = verifier(words(QStringLiteral("tls renew --data")) << dir);
        QCOMPARE(run.err, QByteArray());
        QCOMPARE(run.exitCode, 0);
        const QByteArray d = dir.toUtf8();
        const QList<QByteArray> lines = run.out.split('\n');
        QCOMPARE(lines.size(), 5);
        QCOMPARE(lines[0], "Renewed " + d + "/tls.pem for 127.0.0.1 localhost");
        // 397 days from now, to the second the command ran.
        const QDateTime until = QDateTime::fromString(
            QString::fromLatin1(lines[1].mid(QByteArray("  valid until  ").size())), Qt::ISODate);
        QVERIFY2(until.isValid(), lines[1].constData());
        QVERIFY(qAbs(QDateTime::currentDateTimeUtc().addDays(397).secsTo(until)) < 60);
        QVERIFY2(lines[2].startsWith("  fingerprint  sha256:"), lines[2].constData());
        QCOMPARE(lines[3], QByteArray("Same CA and key: agents keep trusting it. A running "
                                      "vigil-verifier serve presents it from its next "
                                      "connection."));
        QCOMPARE(readFile(dir + QStringLiteral("/ca.pem")), caBefore);
        QVERIFY(readFile(dir + QStringLiteral("/tls.pem")) != tlsBefore);

        const ProgramRun renamed = verifier(
            words(QStringLiteral("tls renew --json --name verifier.example --data")) << dir);
        QCOMPARE(renamed.exitCode, 0);
        const auto json = nlohmann::json::parse(renamed.out.toStdString());
        QCOMPARE(json.at("names"), nlohmann::json::array({"verifier.example"}));
        QCOMPARE(json.at("certificate").get<std::string>(), dir.toStdString() + "/tls.pem");
        QCOMPARE(json.at("ends_with_ca"), nlohmann::json(false));

        const ProgramRun refused =
            verifier(words(QStringLiteral("tls renew --name bad_name --data")) << dir);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.startsWith("vigil-verifier: tls renew failed: server name 'bad_name' "
                                        "is neither an IP address nor a valid DNS name"),
                 refused.err.constData());
    }

    // A tls.pem the verifier refuses is mended by tls renew, as the refusal says, not by a new
    // data directory (a new CA every agent would have to pin).
    void tlsRenewMendsAnUnreadableCertificate()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        QFile certificate(dir + QStringLiteral("/tls.pem"));
        QVERIFY(certificate.open(QIODevice::WriteOnly | QIODevice::Truncate));
        certificate.write("not a certificate\n");
        certificate.close();

        const ProgramRun refused = verifier(words(QStringLiteral("token list --data")) << dir);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.endsWith("; issue a new certificate for the TLS key from this "
                                      "directory's CA, which agents pin: `vigil-verifier tls renew "
                                      "--data '" +
                                      dir.toUtf8() +
                                      "' --name NAME` (a --name for each name agents connect "
                                      "to)\n"),
                 refused.err.constData());

        const ProgramRun nameless = verifier(words(QStringLiteral("tls renew --data")) << dir);
        QCOMPARE(nameless.exitCode, 1);
        QVERIFY2(nameless.err.endsWith("; give the names agents connect to with --name, one for "
                                       "each\n"),
                 nameless.err.constData());

        const ProgramRun renewed =
            verifier(words(QStringLiteral("tls renew --name localhost --data")) << dir);
        QCOMPARE(renewed.err, QByteArray());
        QCOMPARE(renewed.exitCode, 0);
        QVERIFY(renewed.out.startsWith("Renewed " + dir.toUtf8() + "/tls.pem for localhost\n"));
        const ProgramRun listed = verifier(words(QStringLiteral("token list --data")) << dir);
        QCOMPARE(listed.err, QByteArray());
        QCOMPARE(listed.exitCode, 0);
    }

    // In the CA's last 397 days renewal stops at the CA's end, and says so.
    void tlsRenewSaysWhenTheCaEndsFirst()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("data"));
        std::ostringstream out, err;
        QCOMPARE(vigil::server::initDataDirectory(dir.toStdString(), {"127.0.0.1"},
                                                  std::chrono::system_clock::now() -
                                                      vigil::server::DataDirectory::caValidity +
                                                      std::chrono::days(100),
                                                  out, err),
                 0);
        const ProgramRun run = verifier(words(QStringLiteral("tls renew --data")) << dir);
        QCOMPARE(run.exitCode, 0);
        const QList<QByteArray> lines = run.out.split('\n');
        QVERIFY2(lines.size() > 1 &&
                     lines[1].endsWith(" (the CA's own end: agents need a new CA before then)"),
                 run.out.constData());
        const ProgramRun json = verifier(words(QStringLiteral("tls renew --json --data")) << dir);
        QCOMPARE(nlohmann::json::parse(json.out.toStdString()).at("ends_with_ca"),
                 nlohmann::json(true));
    }

    void serveWarnsBeforeTheTlsCertificateRunsOut()
    {
        using namespace std::chrono_literals;
        using vigil::server::certificateExpiryWarning;
        const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
        const auto caEnd = now + std::chrono::days(3000);
        vigil::server::TlsCertificateInfo certificate;
        certificate.notAfter = now + std::chrono::days(30);
        QCOMPARE(certificateExpiryWarning(certificate, caEnd, "/srv/vigil", now), std::string());
        certificate.notAfter = now + std::chrono::days(30) - 1s;
        QCOMPARE(certificateExpiryWarning(certificate, caEnd, "/srv/vigil", now),
                 std::string("the TLS certificate expires at 2027-02-14T07:59:59Z (in 29 days); "
                             "agents will refuse it then: run vigil-verifier tls renew --data "
                             "/srv/vigil"));
        certificate.notAfter = now + 36h;
        QVERIFY(
            certificateExpiryWarning(certificate, caEnd, "/srv/vigil", now).find("(in 1 day)") !=
            std::string::npos);
        certificate.notAfter = now + 1s;
        QVERIFY(certificateExpiryWarning(certificate, caEnd, "/srv/vigil", now)
                    .find("(in less than a day)") != std::string::npos);
        certificate.notAfter = now;
        QCOMPARE(certificateExpiryWarning(certificate, caEnd, "/srv/vigil", now),
                 std::string("the TLS certificate expired at 2027-01-15T08:00:00Z; agents refuse "
                             "to connect until you run vigil-verifier tls renew --data "
                             "/srv/vigil"));
    }

    // Moving a fleet to a new CA takes long: its end is announced 180 days ahead, before the
    // TLS certificate's, which renewal cannot take past it.
    void serveWarnsBeforeTheCaRunsOut()
    {
        using namespace std::chrono_literals;
        using vigil::server::certificateExpiryWarning;
        const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
        vigil::server::TlsCertificateInfo certificate;
        certificate.notAfter = now + std::chrono::days(300);
        QCOMPARE(
            certificateExpiryWarning(certificate, now + std::chrono::days(180), "/srv/vigil", now),
            std::string());
        QCOMPARE(certificateExpiryWarning(certificate, now + std::chrono::days(180) - 1s,
                                          "/srv/vigil", now),
                 std::string("the verifier CA /srv/vigil/ca.pem expires at 2027-07-14T07:59:59Z "
                             "(in 179 days), and no TLS certificate it signs lasts longer; before "
                             "then agents must pin a new CA: set up a new data directory "
                             "(vigil-verifier init) and enroll them again with its fingerprint"));
        certificate.notAfter = now + 1h; // ends with the CA: the CA's warning is the useful one
        QVERIFY(certificateExpiryWarning(certificate, now + 1h, "/srv/vigil", now)
                    .starts_with("the verifier CA /srv/vigil/ca.pem expires at "));
        // One that ends before the CA can still be renewed, and must be: both are said.
        certificate.notAfter = now + std::chrono::days(10);
        QCOMPARE(
            certificateExpiryWarning(certificate, now + std::chrono::days(170), "/srv/vigil", now),
            std::string("the TLS certificate expires at 2027-01-25T08:00:00Z (in 10 days); "
                        "agents will refuse it then: run vigil-verifier tls renew --data "
                        "/srv/vigil. Also, the verifier CA /srv/vigil/ca.pem expires at "
                        "2027-07-04T08:00:00Z (in 170 days), and no TLS certificate it signs "
                        "lasts longer; before then agents must pin a new CA: set up a new "
                        "data directory (vigil-verifier init) and enroll them again with its "
                        "fingerprint"));
        certificate.notAfter = now;
        QVERIFY(
            certificateExpiryWarning(certificate, now + std::chrono::days(170), "/srv/vigil", now)
                .starts_with("the TLS certificate expired at 2027-01-15T08:00:00Z; agents "
                             "refuse to connect until you run vigil-verifier tls renew"));
        QCOMPARE(certificateExpiryWarning(certificate, now, "/srv/vigil", now),
                 std::string("the verifier CA /srv/vigil/ca.pem expired at 2027-01-15T08:00:00Z; "
                             "agents must pin a new CA: set up a new data directory "
                             "(vigil-verifier init) and enroll them again with its fingerprint"));
    }

    // End to end: a data directory whose certificate has 17 days left gets the warning in the
    // log of serve; tls renew while it runs makes it present the new certificate to the next
    // connection, and a restarted serve has nothing to warn about.
    void serveWarnsOfAnEndingCertificateAndPresentsItsRenewal()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("data"));
        std::ostringstream out, err;
        QCOMPARE(vigil::server::initDataDirectory(
                     dir.toStdString(), {"127.0.0.1"},
                     std::chrono::system_clock::now() - std::chrono::days(380), out, err),
                 0);
        const QStringList arguments = words(QStringLiteral("--listen 127.0.0.1:0 --data")) << dir;
        const QRegularExpression warning(
            QStringLiteral(R"(^\S+ warning vigil\.verifier\.serve: the TLS certificate expires at )"
                           R"(\S+ \(in 1[67] days\); agents will refuse it then: run )"
                           R"(vigil-verifier tls renew --data \S+$)"),
            QRegularExpression::MultilineOption);
        {
            Server server(arguments);
            const int port = server.waitForBanner();
            QVERIFY2(port > 0, server.err().constData());
            QVERIFY2(server.waitForLog(warning), server.err().constData());
            const std::string before = vigil::server::certificateFingerprint(
                (dir + QStringLiteral("/tls.pem")).toStdString());
            QCOMPARE(presentedCertificateFingerprint(port), before);

            const ProgramRun renew =
                verifier(words(QStringLiteral("tls renew --json --data")) << dir);
            QCOMPARE(renew.exitCode, 0);
            const std::string renewed =
                nlohmann::json::parse(renew.out.toStdString()).at("fingerprint").get<std::string>();
            QVERIFY(renewed != before);
            expectPresented(server, port, renewed, dir);
            if (QTest::currentTestFailed())
                return;
            QCOMPARE(server.terminate(), 0);
        }
        Server restarted(arguments);
        const int port = restarted.waitForBanner();
        QVERIFY2(port > 0, restarted.err().constData());
        {
            HttpsClient client((dir + QStringLiteral("/ca.pem")).toStdString());
            QCOMPARE(client.get(url(port, "/v1/health")).status, 200L);
        }
        QVERIFY2(
            restarted.waitForLog(logLine(QStringLiteral(R"(127\.0\.0\.1 GET /v1/health 200 .*)"))),
            restarted.err().constData());
        QCOMPARE(restarted.terminate(), 0);
        QVERIFY2(!restarted.err().contains("TLS certificate"), restarted.err().constData());
    }

    // A new key, for one others may have seen: a running serve presents the new pair to the next
    // connection, and agents keep trusting it (same CA). --new-key belongs to tls renew alone.
    void tlsRenewWithANewKeyIsPresentedWithoutARestart()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const QByteArray keyBefore = readFile(dir + QStringLiteral("/tls-key.pem"));
        Server server(words(QStringLiteral("--listen 127.0.0.1:0 --data")) << dir);
        const int port = server.waitForBanner();
        QVERIFY2(port > 0, server.err().constData());

        const ProgramRun renew =
            verifier(words(QStringLiteral("tls renew --new-key --json --data")) << dir);
        QCOMPARE(renew.err, QByteArray());
        QCOMPARE(renew.exitCode, 0);
        const auto json = nlohmann::json::parse(renew.out.toStdString());
        QCOMPARE(json.at("new_key"), nlohmann::json(true));
        const std::string renewed = json.at("fingerprint").get<std::string>();
        QVERIFY(readFile(dir + QStringLiteral("/tls-key.pem")) != keyBefore);
        struct stat key
        {
        };
        QCOMPARE(::stat((dir + QStringLiteral("/tls-key.pem")).toUtf8().constData(), &key), 0);
        QCOMPARE(key.st_mode & 07777, 0600u);

        expectPresented(server, port, renewed, dir);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(server.terminate(), 0);

        const ProgramRun text =
            verifier(words(QStringLiteral("tls renew --new-key --data")) << dir);
        QCOMPARE(text.exitCode, 0);
        QVERIFY2(text.out.startsWith("Renewed " + dir.toUtf8() +
                                     "/tls.pem for 127.0.0.1 localhost, "
                                     "with a new key in " +
                                     dir.toUtf8() + "/tls-key.pem\n"),
                 text.out.constData());
        QVERIFY2(text.out.contains("\nSame CA: agents keep trusting it."), text.out.constData());

        const ProgramRun misplaced =
            verifier(words(QStringLiteral("token list --new-key --data")) << dir);
        QCOMPARE(misplaced.exitCode, 2);
        QVERIFY2(misplaced.err.startsWith("vigil-verifier: --new-key is an option of tls renew "
                                          "only\n"),
                 misplaced.err.constData());
    }

    void initRefusesANonEmptyDirectory()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.path();
        QFile precious(tmp.filePath(QStringLiteral("precious")));
        QVERIFY(precious.open(QIODevice::WriteOnly));
        precious.close();

        const ProgramRun run =
            verifier(words(QStringLiteral("init --name localhost --data")) << dir);
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.out, QByteArray());
        QCOMPARE(run.err,
                 "vigil-verifier: init failed: data directory '" + dir.toUtf8() +
                     "' is not empty; refusing to initialise over it, which would replace a CA "
                     "that agents may already pin. Choose a new or empty directory (remove this "
                     "one only if nothing uses its CA).\n");
        QCOMPARE(QDir(dir).entryList(QDir::NoDotAndDotDot | QDir::AllEntries),
                 QStringList{QStringLiteral("precious")});
    }

    void serveAnswersOverPinnedHttpsAndStopsOnSigterm()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        Server server(words(QStringLiteral("--listen 127.0.0.1:0 --data")) << dir);
        const int port = server.waitForBanner();
        QVERIFY2(port > 0, server.err().constData());

        {
            HttpsClient client((dir + QStringLiteral("/ca.pem")).toStdString());
            const auto health = client.get(url(port, "/v1/health"));
            QCOMPARE(health.status, 200L);
            QCOMPARE(health.contentType, std::string("application/json"));
            QCOMPARE(health.body, std::string(R"({"status":"ok","version":1})"));
        } // closes its kept-alive connection: the server waits for idle ones (up to 5 s) to stop
        QVERIFY2(server.waitForLog(
                     logLine(QStringLiteral(R"(127\.0\.0\.1 GET /v1/health 200 \d+\.\d ms)"))),
                 server.err().constData());

        QCOMPARE(server.terminate(), 0);
        QVERIFY2(
            logLine(QStringLiteral("stopping")).match(QString::fromUtf8(server.err())).hasMatch(),
            server.err().constData());
    }

    // Health says whether the database takes a write. As root, file modes do not stop a write,
    // so the files are made immutable (chattr +i), which stops even writes on descriptors that
    // are already open; elsewhere the test is skipped.
    void healthSaysWhenTheDatabaseTakesNoWrite()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to make the database immutable (chattr +i)");
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        Server server(words(QStringLiteral("--listen 127.0.0.1:0 --data")) << dir);
        const int port = server.waitForBanner();
        QVERIFY2(port > 0, server.err().constData());
        HttpsClient client((dir + QStringLiteral("/ca.pem")).toStdString());
        QCOMPARE(client.get(url(port, "/v1/health")).status, 200L);

        const QStringList files = {dir + QStringLiteral("/verifier.db"),
                                   dir + QStringLiteral("/verifier.db-wal")};
        const auto chattr = [&files](const char *flag) {
            return QProcess::execute(QStringLiteral("chattr"),
                                     QStringList{QString::fromLatin1(flag)} + files);
        };
        if (chattr("+i") != 0) {
            chattr("-i");
            QSKIP("this file system has no immutable flag");
        }
        const auto unwritable = client.get(url(port, "/v1/health"));
        chattr("-i"); // before any check can return: an immutable file cannot be removed
        QCOMPARE(unwritable.status, 503L);
        const auto problem = nlohmann::json::parse(unwritable.body);
        QCOMPARE(problem.at("code"), "storage_unavailable");
        QVERIFY2(server.waitForLog(QRegularExpression(
                     QStringLiteral(R"(vigil\.verifier: health: the database takes no write)"))),
                 server.err().constData());

        QCOMPARE(client.get(url(port, "/v1/health")).status, 200L); // and recovers
    }

    void serveFailsOnAPortInUse()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        Server first(words(QStringLiteral("--listen 127.0.0.1:0 --data")) << dir);
        const int port = first.waitForBanner();
        QVERIFY2(port > 0, first.err().constData());

        const QString taken = QStringLiteral("127.0.0.1:%1").arg(port);
        const ProgramRun second = verifier(words(QStringLiteral("serve --listen"))
                                           << taken << QStringLiteral("--data") << dir);
        QCOMPARE(second.exitCode, 1);
        QCOMPARE(second.out, QByteArray());
        QCOMPARE(second.err, "vigil-verifier: cannot listen on " + taken.toUtf8() +
                                 " (in use, or not an address of this machine?)\n");
        QCOMPARE(first.terminate(), 0);
    }

    void serveFailsOnAMissingDataDirectory()
    {
        QTemporaryDir tmp;
        const QByteArray dir = tmp.filePath(QStringLiteral("missing")).toUtf8();
        const ProgramRun run = verifier(words(QStringLiteral("serve --listen 127.0.0.1:0 --data"))
                                        << QString::fromUtf8(dir));
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.out, QByteArray());
        QCOMPARE(run.err, "vigil-verifier: data directory '" + dir +
                              "' does not exist; create it with `vigil-verifier init --data '" +
                              dir + "'`\n");
    }

    // The per-address limit comes before the body is read: with a burst of 1 and one request per
    // 100 s, the second enrollment attempt is refused whatever it carries.
    void addressRateLimitsEnrollments()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        Server server(words(QStringLiteral(
                          "--listen 127.0.0.1:0 --address-rate 0.01 --address-burst 1 --data"))
                      << dir);
        const int port = server.waitForBanner();
        QVERIFY2(port > 0, server.err().constData());

        HttpsClient client((dir + QStringLiteral("/ca.pem")).toStdString());
        const auto first = client.postJson(url(port, "/v1/enrollments"), "not json");
        QCOMPARE(first.status, 400L);
        QCOMPARE(nlohmann::json::parse(first.body).at("detail"), "body is not valid UTF-8 JSON");
        QVERIFY(!first.headers.count("retry-after"));

        const auto second = client.postJson(url(port, "/v1/enrollments"), "not json");
        QCOMPARE(second.status, 429L);
        QCOMPARE(second.contentType, std::string("application/problem+json"));
        const int retryAfter = std::stoi(second.headers.at("retry-after"));
        QVERIFY2(retryAfter >= 1 && retryAfter <= 100, second.headers.at("retry-after").c_str());
        const auto problem = nlohmann::json::parse(second.body);
        QCOMPARE(problem.at("code"), "rate_limited");
        QCOMPARE(problem.at("detail"),
                 "too many enrollment requests from this address; retry later");
        // Health is not an enrollment: never limited per address.
        QCOMPARE(client.get(url(port, "/v1/health")).status, 200L);
        QVERIFY2(server.waitForLog(logLine(
                     QStringLiteral(R"(127\.0\.0\.1 POST /v1/enrollments 429 \d+\.\d ms)"))),
                 server.err().constData());
    }

    void tokenCreateListRevoke()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const auto run = [&dir](const char *line) {
            return verifier(words(QLatin1String(line)) << QStringLiteral("--data") << dir);
        };
        const QDateTime before = QDateTime::currentDateTimeUtc();
        const ProgramRun created = run("token create --uses 3 --ttl 2h --label lab-a");
        QCOMPARE(created.exitCode, 0);
        const QList<QByteArray> lines = created.out.split('\n');
        QCOMPARE(lines.size(), 3); // two lines, each ending in a newline
        QVERIFY2(QRegularExpression(QStringLiteral(R"(^vet1\.[A-Za-z0-9_-]{43}$)"))
                     .match(QString::fromUtf8(lines[0]))
                     .hasMatch(),
                 lines[0].constData());
        const auto match =
            QRegularExpression(QStringLiteral(R"(^id (et_[0-9a-f]{16}), 3 uses, expires (\S+)\. )"
                                              R"(Shown once: only its hash is stored\.$)"))
                .match(QString::fromUtf8(lines[1]));
        QVERIFY2(match.hasMatch(), lines[1].constData());
        const QByteArray id = match.captured(1).toUtf8(), expires = match.captured(2).toUtf8();
        const QDateTime expiry = QDateTime::fromString(match.captured(2), Qt::ISODate);
        QVERIFY(expiry >= before.addSecs(7200 - 1) &&
                expiry <= QDateTime::currentDateTimeUtc().addSecs(7200));

        ProgramRun list = run("token list");
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.out, tokenListHeader() + column(id, 20) + column("active", 9) +
                               column("0/3", 8) + column(expires, 22) + "lab-a\n");
        auto json = nlohmann::json::parse(run("token list --json").out.toStdString());
        QCOMPARE(json.size(), 1u);
        const nlohmann::json listed = {{"id", id.toStdString()},
                                       {"label", "lab-a"},
                                       {"uses", 0},
                                       {"max_uses", 3},
                                       {"created_at", json[0].value("created_at", "")},
                                       {"expires_at", expires.toStdString()},
                                       {"revoked_at", nullptr},
                                       {"state", "active"}};
        QCOMPARE(json[0], listed);

        const ProgramRun revoked =
            verifier(words(QStringLiteral("token revoke --data")) << dir << QString::fromUtf8(id));
        QCOMPARE(revoked.exitCode, 0);
        QCOMPARE(revoked.out, "Revoked enrollment token " + id + "\n");
        list = run("token list");
        QCOMPARE(list.out, tokenListHeader() + column(id, 20) + column("revoked", 9) +
                               column("0/3", 8) + column(expires, 22) + "lab-a\n");
        json = nlohmann::json::parse(run("token list --json").out.toStdString());
        QCOMPARE(json[0].at("state"), "revoked");
        QVERIFY(json[0].at("revoked_at").is_string());

        const ProgramRun unknown = run("token revoke et_0000000000000000");
        QCOMPARE(unknown.exitCode, 1);
        QCOMPARE(unknown.out, QByteArray());
        QCOMPARE(unknown.err,
                 QByteArray("vigil-verifier: no active enrollment token "
                            "et_0000000000000000 (see `vigil-verifier token list`)\n"));
    }

    void tokenCreateJson()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const ProgramRun created =
            verifier(words(QStringLiteral("token create --json --data")) << dir);
        QCOMPARE(created.exitCode, 0);
        const auto json = nlohmann::json::parse(created.out.toStdString());
        QVERIFY(json.at("token").get<std::string>().starts_with("vet1."));
        QCOMPARE(json.at("max_uses"), 1);
        QCOMPARE(json.at("uses"), 0);
        QCOMPARE(json.at("label"), "");
        QCOMPARE(json.at("state"), "active");
        const auto at = [&json](const char *name) {
            return QDateTime::fromString(QString::fromStdString(json.at(name)), Qt::ISODate);
        };
        QCOMPARE(at("created_at").secsTo(at("expires_at")), 24 * 3600);
    }

    // The packages are tst_sitepackage's; this is the command line and what it leaves.
    void deployWritesTheSiteFiles()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const QString out = tmp.filePath(QStringLiteral("site"));
        const ProgramRun run =
            verifier(words(QStringLiteral("deploy --site acme --server-url "
                                          "https://127.0.0.1:8443 --format none --uses 20 --out"))
                     << out << QStringLiteral("--data") << dir);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.out.startsWith("Deployment for site acme in " + out.toUtf8() +
                                    "/ (verifier https://127.0.0.1:8443)\n"),
                 run.out.constData());
        QCOMPARE(run.err, QByteArray());
        const QByteArray token = readFile(out + QStringLiteral("/enroll.token"));
        QVERIFY(token.startsWith("vet1."));
        QVERIFY(!run.out.contains(token.mid(5, 20)));
        const auto list = nlohmann::json::parse(
            verifier(words(QStringLiteral("token list --json --data")) << dir).out.toStdString());
        QCOMPARE(list.size(), 1u);
        QCOMPARE(list[0].at("label"), "site acme");
        QCOMPARE(list[0].at("max_uses"), 20);
    }

    void devicesOnAnEmptyDatabase()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        // The data directory from the environment instead of --data.
        QProcessEnvironment environment = cleanEnvironment();
        environment.insert(QStringLiteral("VIGIL_VERIFIER_DATA"), dir);
        const ProgramRun list = verifier(words(QStringLiteral("devices list")), environment);
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.out, column("ID", 38) + column("HOSTNAME", 20) + column("ASSURANCE", 10) +
                               column("STATE", 15) + "LAST APPRAISAL\n");
        const ProgramRun json = verifier(words(QStringLiteral("devices list --json")), environment);
        QCOMPARE(json.exitCode, 0);
        QCOMPARE(nlohmann::json::parse(json.out.toStdString()), nlohmann::json::array());

        const QString unknown = QStringLiteral("00000000-0000-4000-8000-000000000000");
        const ProgramRun show =
            verifier(words(QStringLiteral("devices show")) << unknown, environment);
        QCOMPARE(show.exitCode, 1);
        QCOMPARE(show.err, "vigil-verifier: no device " + unknown.toUtf8() +
                               " (see `vigil-verifier devices list`)\n");
        const ProgramRun revoke =
            verifier(words(QStringLiteral("devices revoke --reason lost")) << unknown, environment);
        QCOMPARE(revoke.exitCode, 1);
        QCOMPARE(revoke.err, "vigil-verifier: no enrolled, unrevoked device " + unknown.toUtf8() +
                                 " (see `vigil-verifier devices list`)\n");
    }

    void usersAddListInviteShow()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const auto run = [&dir](const QString &line) {
            return verifier(words(line) << QStringLiteral("--data") << dir);
        };

        const ProgramRun added = run(QStringLiteral("users add alice"));
        QCOMPARE(added.exitCode, 0);
        const auto addedMatch =
            QRegularExpression(
                QStringLiteral(R"(^Added user alice \(([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-)"
                               R"([89ab][0-9a-f]{3}-[0-9a-f]{12})\)\. Invite them to a device )"
                               R"(with `vigil-verifier users invite alice`\.\n$)"))
                .match(QString::fromUtf8(added.out));
        QVERIFY2(addedMatch.hasMatch(), added.out.constData());
        const QByteArray aliceId = addedMatch.captured(1).toUtf8();
        const ProgramRun again = run(QStringLiteral("users add alice"));
        QCOMPARE(again.exitCode, 1);
        QCOMPARE(again.err, QByteArray("vigil-verifier: a user named alice exists already\n"));
        const ProgramRun bob = run(QStringLiteral("users add 0bob.smith_2-x --json"));
        QCOMPARE(bob.exitCode, 0);
        const auto bobJson = nlohmann::json::parse(bob.out.toStdString());
        QCOMPARE(bobJson.at("name"), "0bob.smith_2-x");
        QCOMPARE(bobJson.at("state"), "active");
        QCOMPARE(bobJson.at("disabled_at"), nullptr);

        const QByteArray header = column("NAME", 20) + column("ID", 38) + column("STATE", 10) +
                                  column("DEVICES", 9) + "TOTP\n";
        const QByteArray bobRow = column("0bob.smith_2-x", 20) +
                                  column(QByteArray::fromStdString(bobJson.at("id")), 38) +
                                  column("active", 10) + column("0", 9) + "none\n";
        ProgramRun list = run(QStringLiteral("users list"));
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.out, header + bobRow + column("alice", 20) + column(aliceId, 38) +
                               column("active", 10) + column("0", 9) + "none\n");

        // The invite: printed once, stored as its hash.
        const QDateTime before = QDateTime::currentDateTimeUtc();
        const ProgramRun invited = run(QStringLiteral("users invite alice --ttl 2h"));
        QCOMPARE(invited.exitCode, 0);
        const QList<QByteArray> lines = invited.out.split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY2(QRegularExpression(QStringLiteral(R"(^vui1\.[A-Za-z0-9_-]{22}$)"))
                     .match(QString::fromUtf8(lines[0]))
                     .hasMatch(),
                 lines[0].constData());
        const auto inviteMatch =
            QRegularExpression(QStringLiteral(R"(^invite (ui_[0-9a-f]{16}) for alice, one device, )"
                                              R"(expires (\S+)\. Shown once: only its hash is )"
                                              R"(stored\.$)"))
                .match(QString::fromUtf8(lines[1]));
        QVERIFY2(inviteMatch.hasMatch(), lines[1].constData());
        const QDateTime expiry = QDateTime::fromString(inviteMatch.captured(2), Qt::ISODate);
        QVERIFY(expiry >= before.addSecs(7200 - 1) &&
                expiry <= QDateTime::currentDateTimeUtc().addSecs(7200));
        QVERIFY(!readFile(dir + QStringLiteral("/verifier.db")).contains(lines[0]));

        // What the handlers will do, on the same database: the code redeems the invite; a
        // device, a key, a session and a locked TOTP for show to print.
        const auto now = std::chrono::system_clock::now();
        {
            auto storage = vigil::server::SqliteStorage::open(
                (dir + QStringLiteral("/verifier.db")).toStdString());
            vigil::server::Device device;
            device.id = "6a1f8f5e-1111-4222-8333-444455556666";
            device.jkt = "device-jkt";
            device.deviceKeyJwk = "{}";
            device.assurance = "tpm";
            device.hostname = "ws-alice";
            device.enrollmentTokenId = "et_0000000000000000";
            device.enrolledAt = now;
            QVERIFY(storage->addDevice(device));
            const auto redeemed = storage->redeemUserInvite(
                vigil::server::inviteCodeHash(lines[0].toStdString()), now, device.id);
            QVERIFY(redeemed);
            QCOMPARE(redeemed->id, inviteMatch.captured(1).toStdString());
            storage->putUserDevice(
                {aliceId.toStdString(), device.id, "alice-local", "tpm", "{}", "user-jkt", now});
            vigil::server::UserSession session;
            session.handleHash = vigil::Bytes(32, 7);
            session.userId = aliceId.toStdString();
            session.deviceId = device.id;
            session.authTime = now;
            session.expiresAt = now + std::chrono::hours(8);
            session.amr = {"hwk", "pin", "mfa"};
            session.acr = "urn:vigil:acr:hwk-pin";
            storage->addUserSession(session);
            QVERIFY(storage->putPendingTotp(aliceId.toStdString(), vigil::Bytes{1},
                                            now + std::chrono::minutes(15)));
            QVERIFY(storage->activateTotp(aliceId.toStdString(), 1, now));
            storage->replaceRecoveryCodes(aliceId.toStdString(),
                                          {vigil::Bytes(32, 1), vigil::Bytes(32, 2)}, now);
            for (int i = 0; i < 10; ++i)
                storage->recordTotpFailure(aliceId.toStdString(), now, 10);
        }

        list = run(QStringLiteral("users list"));
        QCOMPARE(list.out, header + bobRow + column("alice", 20) + column(aliceId, 38) +
                               column("active", 10) + column("1", 9) + "locked\n");
        auto listJson =
            nlohmann::json::parse(run(QStringLiteral("users list --json")).out.toStdString());
        QCOMPARE(listJson.size(), 2u);
        QCOMPARE(listJson[1].at("name"), "alice");
        QCOMPARE(listJson[1].at("devices"), 1);
        QCOMPARE(listJson[1].at("totp"), "locked");

        ProgramRun show = run(QStringLiteral("users show alice"));
        QCOMPARE(show.exitCode, 0);
        const QString text = QString::fromUtf8(show.out);
        QVERIFY2(text.startsWith(QStringLiteral("User alice\n  id              ") +
                                 QString::fromUtf8(aliceId) + QLatin1Char('\n')),
                 show.out.constData());
        QVERIFY2(text.contains(QStringLiteral(
                     "  state           active\n"
                     "  TOTP            locked (10 consecutive failures): `vigil-verifier "
                     "users unlock alice` unlocks it\n"
                     "  recovery codes  2 left\nDevices:\n"
                     "  6a1f8f5e-1111-4222-8333-444455556666  ws-alice, key tpm, account "
                     "alice-local, enrolled ")),
                 show.out.constData());
        QVERIFY2(
            QRegularExpression(
                QStringLiteral(R"(\nActive sessions:\n  6a1f8f5e-1111-4222-8333-444455556666  )"
                               R"(since \S+Z until \S+Z, amr hwk pin mfa\nInvites:\n  )") +
                inviteMatch.captured(1) +
                QStringLiteral(R"(  used \S+Z by device 6a1f8f5e-1111-4222-8333-444455556666\n$)"))
                .match(text)
                .hasMatch(),
            show.out.constData());
        auto json =
            nlohmann::json::parse(run(QStringLiteral("users show alice --json")).out.toStdString());
        QCOMPARE(json.at("id"), aliceId.toStdString());
        QCOMPARE(json.at("devices").size(), 1u);
        QCOMPARE(json.at("devices")[0].at("key_assurance"), "tpm");
        QCOMPARE(json.at("devices")[0].at("local_account"), "alice-local");
        QCOMPARE(json.at("devices")[0].at("hostname"), "ws-alice");
        QCOMPARE(json.at("totp").at("state"), "locked");
        QCOMPARE(json.at("totp").at("consecutive_failures"), 10);
        QCOMPARE(json.at("recovery_codes_left"), 2);
        QCOMPARE(json.at("sessions").size(), 1u);
        QCOMPARE(json.at("sessions")[0].at("amr"), (nlohmann::json{"hwk", "pin", "mfa"}));
        QCOMPARE(json.at("invites")[0].at("state"), "used");
        QCOMPARE(json.at("invites")[0].at("used_by_device"),
                 "6a1f8f5e-1111-4222-8333-444455556666");

        // Unlock, once.
        ProgramRun unlock = run(QStringLiteral("users unlock alice"));
        QCOMPARE(unlock.exitCode, 0);
        QCOMPARE(unlock.out, QByteArray("Unlocked TOTP for user alice\n"));
        json =
            nlohmann::json::parse(run(QStringLiteral("users show alice --json")).out.toStdString());
        QCOMPARE(json.at("totp").at("state"), "active");
        QCOMPARE(json.at("totp").at("consecutive_failures"), 0);
        unlock = run(QStringLiteral("users unlock alice"));
        QCOMPARE(unlock.exitCode, 1);
        QCOMPARE(unlock.err, QByteArray("vigil-verifier: user alice has no TOTP lockout or "
                                        "failures to clear\n"));

        // A lost authenticator: the TOTP is forgotten, once, and the recovery codes stay.
        ProgramRun reset = run(QStringLiteral("users totp-reset alice"));
        QCOMPARE(reset.exitCode, 0);
        QCOMPARE(reset.out, QByteArray("Reset TOTP for user alice: they set up their "
                                       "authenticator app again at their next sign-in set-up\n"));
        json =
            nlohmann::json::parse(run(QStringLiteral("users show alice --json")).out.toStdString());
        QCOMPARE(json.at("totp").at("state"), "none");
        QCOMPARE(json.at("recovery_codes_left"), 2);
        reset = run(QStringLiteral("users totp-reset alice"));
        QCOMPARE(reset.exitCode, 1);
        QCOMPARE(reset.err, QByteArray("vigil-verifier: user alice has no TOTP to reset\n"));

        // Disable: the session ends, no invite is made, and it happens once.
        const ProgramRun disabled = run(QStringLiteral("users disable alice"));
        QCOMPARE(disabled.exitCode, 0);
        QCOMPARE(disabled.out, QByteArray("Disabled user alice: its sessions are revoked, and its "
                                          "invites, keys, TOTP and recovery codes are refused "
                                          "from now on\n"));
        json =
            nlohmann::json::parse(run(QStringLiteral("users show alice --json")).out.toStdString());
        QCOMPARE(json.at("state"), "disabled");
        QVERIFY(json.at("disabled_at").is_string());
        QCOMPARE(json.at("sessions").size(), 0u);
        QVERIFY(run(QStringLiteral("users show alice"))
                    .out.contains("\n  state           disabled since "));
        QCOMPARE(run(QStringLiteral("users disable alice")).err,
                 QByteArray("vigil-verifier: user alice is disabled already\n"));
        const ProgramRun refused = run(QStringLiteral("users invite alice"));
        QCOMPARE(refused.exitCode, 1);
        QCOMPARE(refused.out, QByteArray());
        QCOMPARE(
            refused.err,
            QByteArray("vigil-verifier: user alice is disabled: an invite would be refused\n"));
        QCOMPARE(
            nlohmann::json::parse(run(QStringLiteral("users show alice --json")).out.toStdString())
                .at("invites")
                .size(),
            1u);
    }

    // The TOTP secrets' key is checked (and, in an older directory, made) by every command that
    // opens the data directory.
    void commandsCheckTheSecretBoxKey()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const QString key = dir + QStringLiteral("/secret-box.key");
        QCOMPARE(::chmod(QFile::encodeName(key).constData(), 0644), 0);
        const ProgramRun refused = verifier(words(QStringLiteral("users list --data")) << dir);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("secret box key file '" + key.toUtf8() +
                                      "' has mode 0644, which lets group or others access it; "
                                      "fix: chmod 600 '" +
                                      key.toUtf8() + "'"),
                 refused.err.constData());
        QVERIFY(QFile::remove(key));
        const ProgramRun made = verifier(words(QStringLiteral("users list --data")) << dir);
        QCOMPARE(made.exitCode, 0);
        QCOMPARE(readFile(key).size(), 32);
        struct stat status = {};
        QCOMPARE(::stat(QFile::encodeName(key).constData(), &status), 0);
        QCOMPARE(status.st_mode & 07777, mode_t(0600));
    }

    void usersInviteJsonAndUnknownUsers()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const auto run = [&dir](const QString &line) {
            return verifier(words(line) << QStringLiteral("--data") << dir);
        };
        QCOMPARE(run(QStringLiteral("users list --json")).out, QByteArray("[]\n"));
        QCOMPARE(run(QStringLiteral("users add carol")).exitCode, 0);
        const ProgramRun invited = run(QStringLiteral("users invite carol --json"));
        QCOMPARE(invited.exitCode, 0);
        const auto json = nlohmann::json::parse(invited.out.toStdString());
        QVERIFY(json.at("code").get<std::string>().starts_with("vui1."));
        QCOMPARE(json.at("user"), "carol");
        QCOMPARE(json.at("state"), "active");
        const auto at = [&json](const char *name) {
            return QDateTime::fromString(QString::fromStdString(json.at(name)), Qt::ISODate);
        };
        QCOMPARE(at("created_at").secsTo(at("expires_at")), 24 * 3600);

        for (const char *command : {"show", "disable", "unlock", "totp-reset", "invite"}) {
            const ProgramRun unknown =
                run(QStringLiteral("users %1 dave").arg(QLatin1String(command)));
            QCOMPARE(unknown.exitCode, 1);
            QCOMPARE(unknown.out, QByteArray());
            QCOMPARE(
                unknown.err,
                QByteArray("vigil-verifier: no user dave (see `vigil-verifier users list`)\n"));
        }
    }

    void policyCheck()
    {
        QTemporaryDir tmp;
        const QString dir = initialised(tmp);
        QVERIFY(!dir.isEmpty());
        const QString valid = dir + QStringLiteral("/policy.json");
        const ProgramRun ok = verifier(words(QStringLiteral("policy check")) << valid);
        QCOMPARE(ok.exitCode, 0);
        QCOMPARE(ok.out, valid.toUtf8() + ": valid (8 PCRs quoted, 0 with reference values)\n");

        const QString typo = tmp.filePath(QStringLiteral("typo.json"));
        QFile file(typo);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"version": 1, "firewall": {"required": true, "enabled": true}})");
        file.close();
        const ProgramRun bad = verifier(words(QStringLiteral("policy check")) << typo);
        QCOMPARE(bad.exitCode, 1);
        QCOMPARE(bad.out, QByteArray());
        QCOMPARE(bad.err, typo.toUtf8() + ": /firewall/enabled: unknown member (expected one "
                                          "of: required)\n");
    }
};

QTEST_GUILESS_MAIN(TestVerifierCli)
#include "tst_verifiercli.moc"
