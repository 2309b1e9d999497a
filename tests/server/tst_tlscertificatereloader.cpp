// TlsCertificateReloader against a real data directory and a serving HttpsServer: a renewal is
// presented from the next handshake, and a tls.pem that cannot be presented (garbled, from
// another CA, for another key) leaves the current certificate in place with one warning.
#include "httpsclient.h"
#include "manualclock.h"
#include "server/admin/datadirectory.h"
#include "server/http/httpsserver.h"
#include "server/tls/tlscertificatereloader.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <thread>

using namespace vigil::server;
using vigil::test::presentedCertificateFingerprint;
namespace fs = std::filesystem;

namespace {

HttpResponse ok(const HttpRequest &)
{
    return HttpResponse{};
}

// A data directory and a server presenting its certificate, serving until the end of the scope.
class Served
{
public:
    explicit Served(const fs::path &dir, TimePoint made = std::chrono::system_clock::now())
        : m_data(initialised(dir, made)), m_server(options(m_data), ok),
          m_thread([this] { m_server.serve(); })
    {
    }
    ~Served()
    {
        m_server.stop();
        m_thread.join();
    }

    const DataDirectory &data() const { return m_data; }
    HttpsServer &server() { return m_server; }
    std::string presentedFingerprint() const
    {
        return presentedCertificateFingerprint(m_server.port());
    }

private:
    static DataDirectory initialised(const fs::path &dir, TimePoint made)
    {
        DataDirectory::initialise(dir, {"127.0.0.1"}, made);
        return DataDirectory::open(dir);
    }
    static HttpsServerOptions options(const DataDirectory &data)
    {
        HttpsServerOptions options;
        options.port = 0;
        options.threads = 2;
        options.credentials = data.tlsCredentials();
        return options;
    }

    DataDirectory m_data;
    HttpsServer m_server;
    std::thread m_thread;
};

void copyPrivate(const fs::path &from, const fs::path &to)
{
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0600);
}

std::string escaped(const std::string &text)
{
    return QRegularExpression::escape(QString::fromStdString(text)).toStdString();
}

std::string quotedPath(const fs::path &path)
{
    return escaped("'" + path.string() + "'");
}

// The whole warning: the reason (a pattern), what is still presented, and the fix (a pattern)
// for a running server, none when the reason says it.
QRegularExpression warning(const DataDirectory &data, const std::string &reason,
                           const std::optional<std::string> &fix)
{
    return QRegularExpression(QString::fromStdString(
        "^cannot present the TLS certificate files in " + escaped(data.directory().string()) +
        ": " + reason + "; still presenting the certificate valid until \\S+Z\\." +
        (fix ? " To fix: " + *fix : std::string()) + "$"));
}

// tls renew's fix, which works on a running verifier too: with the names to give when the old
// certificate cannot be read.
std::string renewFix(const DataDirectory &data, bool needsNames)
{
    return escaped("issue a new certificate for the TLS key from this directory's CA, which "
                   "agents pin: `vigil-verifier tls renew --data '" +
                   data.directory().string() + "'" +
                   (needsNames ? " --name NAME` (a --name for each name agents connect to)" : "`"));
}

} // namespace

class TestTlsCertificateReloader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void anUnchangedCertificateChangesNothing()
    {
        Served served(path("verifier"));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const auto before = served.server().presented();
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        reloader.check();
        QCOMPARE(served.server().presented(), before);
        QCOMPARE(reloader.presented().fingerprint, served.data().tlsCertificateInfo().fingerprint);
    }

    void aRenewedCertificateIsPresentedFromTheNextHandshake()
    {
        Served served(path("verifier"));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const std::string original = served.data().tlsCertificateInfo().fingerprint;
        QCOMPARE(served.presentedFingerprint(), original);

        const TlsCertificateInfo renewed = served.data().renewTlsCertificate(
            {"127.0.0.1", "verifier.example"}, std::chrono::system_clock::now());
        QVERIFY(renewed.fingerprint != original);
        // Not before check(): the reloader, not the server, looks at the file.
        QCOMPARE(served.presentedFingerprint(), original);

        QTest::ignoreMessage(
            QtInfoMsg, QRegularExpression(QStringLiteral(
                           "^now presenting the TLS certificate in %1 \\(valid until \\S+Z, %2\\)$")
                                              .arg(QRegularExpression::escape(QString::fromStdString(
                                                       served.data().tlsCertificate().string())),
                                                   QString::fromStdString(renewed.fingerprint))));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), renewed.fingerprint);
        QCOMPARE(reloader.presented().fingerprint, renewed.fingerprint);
        QCOMPARE(reloader.presented().names,
                 (std::vector<std::string>{"127.0.0.1", "verifier.example"}));
    }

    void aGarbledFileLeavesTheCurrentCertificateWithOneWarning()
    {
        Served served(path("verifier"));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const std::string original = served.presentedFingerprint();
        const fs::path file = served.data().tlsCertificate();
        std::ofstream(file, std::ios::trunc) << "-----BEGIN CERTIFICATE-----\nnot base64\n";

        QTest::ignoreMessage(QtWarningMsg, warning(served.data(),
                                                   "TLS certificate file " + quotedPath(file) +
                                                       " does not hold a PEM certificate \\(.*\\)",
                                                   renewFix(served.data(), true)));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);
        // The same reason again, as on each periodic pass: said once is enough.
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        reloader.check();
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);
    }

    // An old tls.pem put back, by a restore or configuration management, must not replace a
    // certificate that works.
    void anExpiredCertificateIsNotPresented()
    {
        Served served(path("verifier"), std::chrono::system_clock::now() -
                                            DataDirectory::tlsValidity - std::chrono::days(3));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const fs::path file = served.data().tlsCertificate();
        const fs::path expired = path("expired.pem");
        fs::copy_file(file, expired);
        const TlsCertificateInfo renewed =
            served.data().renewTlsCertificate({}, std::chrono::system_clock::now());
        QTest::ignoreMessage(QtInfoMsg, QRegularExpression(QStringLiteral("^now presenting")));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), renewed.fingerprint);

        fs::copy_file(expired, file, fs::copy_options::overwrite_existing);
        QTest::ignoreMessage(QtWarningMsg, warning(served.data(),
                                                   escaped("the certificate in " + file.string()) +
                                                       " expired at \\S+Z",
                                                   escaped("run vigil-verifier tls renew --data " +
                                                           served.data().directory().string())));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), renewed.fingerprint);
        QCOMPARE(reloader.presented().fingerprint, renewed.fingerprint);
    }

    void aCertificateFromAnotherCaIsNotPresented()
    {
        Served served(path("verifier"));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const std::string original = served.presentedFingerprint();
        const fs::path saved = path("saved");
        fs::create_directory(saved);
        for (const fs::path &file : {served.data().tlsKey(), served.data().tlsCertificate()})
            copyPrivate(file, saved / file.filename());
        DataDirectory::initialise(path("other"), {"127.0.0.1"}, std::chrono::system_clock::now());
        const DataDirectory other = DataDirectory::open(path("other"));
        const auto takeOthers = [&] {
            copyPrivate(other.tlsKey(), served.data().tlsKey());
            copyPrivate(other.tlsCertificate(), served.data().tlsCertificate());
        };
        const QRegularExpression notSigned =
            warning(served.data(),
                    "TLS certificate " + quotedPath(served.data().tlsCertificate()) +
                        " is not signed by the CA in " + quotedPath(served.data().caCertificate()),
                    renewFix(served.data(), false));

        takeOthers();
        QTest::ignoreMessage(QtWarningMsg, notSigned);
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);

        // The pair put back (from a backup, say): nothing to present anew, nothing to say.
        for (const fs::path &file : {served.data().tlsKey(), served.data().tlsCertificate()})
            copyPrivate(saved / file.filename(), file);
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);
        // The same mistake again is news again.
        takeOthers();
        QTest::ignoreMessage(QtWarningMsg, notSigned);
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);
    }

    void aCertificateForAnotherKeyIsNotPresented()
    {
        Served served(path("verifier"));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const std::string original = served.presentedFingerprint();
        DataDirectory::initialise(path("other"), {"127.0.0.1"}, std::chrono::system_clock::now());
        copyPrivate(DataDirectory::open(path("other")).tlsCertificate(),
                    served.data().tlsCertificate());

        QTest::ignoreMessage(QtWarningMsg,
                             warning(served.data(),
                                     "the key in " + quotedPath(served.data().tlsKey()) +
                                         " does not belong to the certificate in " +
                                         quotedPath(served.data().tlsCertificate()),
                                     renewFix(served.data(), false)));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);
    }

    // The key file's own problems get their own fixes: the mode's is in the reason, a lost key
    // needs a new one. Neither is tls renew without --new-key, which would refuse them alike.
    void aKeyFileProblemGetsItsOwnFix()
    {
        Served served(path("verifier"));
        TlsCertificateReloader reloader(served.data(), served.server(), m_clock);
        const std::string original = served.presentedFingerprint();
        const fs::path key = served.data().tlsKey();

        QCOMPARE(::chmod(key.c_str(), 0644), 0);
        QTest::ignoreMessage(QtWarningMsg,
                             warning(served.data(),
                                     escaped("TLS key file '" + key.string() +
                                             "' has mode 0644, which lets group or others access "
                                             "it; fix: chmod 600 '" +
                                             key.string() + "'"),
                                     std::nullopt));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);

        fs::remove(key);
        QTest::ignoreMessage(
            QtWarningMsg,
            warning(served.data(), escaped("TLS key file '" + key.string() + "' is missing"),
                    escaped("make a new TLS key and certificate from this directory's CA, which "
                            "agents pin: `vigil-verifier tls renew --data '" +
                            served.data().directory().string() + "' --new-key`")));
        reloader.check();
        QCOMPARE(served.presentedFingerprint(), original);
    }

private:
    fs::path path(const char *name) const { return fs::path(m_dir->path().toStdString()) / name; }

    std::unique_ptr<QTemporaryDir> m_dir;
    vigil::test::ManualClock m_clock{std::chrono::system_clock::now()};
};

QTEST_GUILESS_MAIN(TestTlsCertificateReloader)
#include "tst_tlscertificatereloader.moc"
