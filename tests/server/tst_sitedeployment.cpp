// `vigil-verifier deploy` in-process (deploySite): the files it writes, with their modes, the
// token it stores and that the token enrolls, and what it refuses before making anything.
#include "core/sha256.h"
#include "server/admin/admincommands.h"
#include "server/admin/sitedeployment.h"
#include "server/storage/sqlitestorage.h"

#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>

using namespace vigil::server;
namespace fs = std::filesystem;

namespace {

TimePoint nowSeconds()
{
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

std::string readAll(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// An initialised data directory in a temporary directory, and deploy's output.
class Fixture
{
public:
    Fixture()
    {
        std::ostringstream out, err;
        if (initDataDirectory(data(), {"verifier.example.com"}, nowSeconds(), out, err) != 0)
            qFatal("init failed: %s", err.str().c_str());
    }

    fs::path data() const { return root() / "data"; }
    fs::path out() const { return root() / "vigil-site-acme"; }
    std::unique_ptr<SqliteStorage> storage() const
    {
        return SqliteStorage::open(data() / DataDirectory::databaseName);
    }

    DeployOptions options() const
    {
        DeployOptions options;
        options.site = "acme";
        options.serverUrl = "https://verifier.example.com:8443";
        options.outDir = out();
        return options;
    }

    int deploy(const DeployOptions &options, TimePoint now, bool json = false)
    {
        m_out.str({});
        m_err.str({});
        return deploySite(data(), options, now, json, m_out, m_err);
    }
    std::string printed() const { return m_out.str(); }
    std::string errors() const { return m_err.str(); }

private:
    fs::path root() const { return m_temporary.path().toStdString(); }

    QTemporaryDir m_temporary;
    std::ostringstream m_out, m_err;
};

Device softwareDevice(const std::string &id)
{
    Device device;
    device.id = id;
    device.jkt = "jkt-" + id;
    device.deviceKeyJwk = "{}";
    device.assurance = "software";
    device.hostname = id;
    return device;
}

// One enrollment of a new device with the token in file.
TokenUse enrollWith(Storage &storage, const fs::path &file, TimePoint now)
{
    static int serial = 0;
    std::string text = readAll(file);
    text.pop_back(); // the newline
    return storage
        .admitDevice(vigil::sha256(text), now, softwareDevice("d" + std::to_string(++serial)))
        .token;
}

} // namespace

class TestSiteDeployment : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writesTheFilesWithTheirModes()
    {
        Fixture fixture;
        const TimePoint now = nowSeconds();
        DeployOptions options = fixture.options();
        QCOMPARE(fixture.deploy(options, now), 0);
        QCOMPARE(fixture.errors(), std::string());

        const fs::path out = fixture.out();
        QCOMPARE(modeOf(out), mode_t(0700));
        QCOMPARE(modeOf(out / "vigild.json"), mode_t(0644));
        QCOMPARE(modeOf(out / "verifier-ca.pem"), mode_t(0644));
        QCOMPARE(modeOf(out / "enroll.token"), mode_t(0600));

        const fs::path ca = fixture.data() / DataDirectory::caCertificateName;
        QCOMPARE(readAll(out / "verifier-ca.pem"), readAll(ca));
        const std::string fingerprint = certificateFingerprint(ca);
        const auto config = nlohmann::ordered_json::parse(readAll(out / "vigild.json"));
        const nlohmann::ordered_json expected = {
            {"server_url", "https://verifier.example.com:8443"},
            {"ca_file", "/etc/vigil/verifier-ca.pem"},
            {"ca_fingerprint", fingerprint},
            {"tcti", "auto"},
            {"privileged_group", "vigil"},
            {"log_level", "info"}};
        QCOMPARE(config, expected);

        const std::string token = readAll(out / "enroll.token");
        QVERIFY2(QRegularExpression(QStringLiteral(R"(^vet1\.[A-Za-z0-9_-]{43}\n$)"))
                     .match(QString::fromStdString(token))
                     .hasMatch(),
                 token.c_str());
        // Where the token is, but never the token.
        QVERIFY(fixture.printed().find(token.substr(0, 20)) == std::string::npos);
        QVERIFY2(fixture.printed().find("  enroll.token      enrollment token et_") !=
                     std::string::npos,
                 fixture.printed().c_str());
        QVERIFY(fixture.printed().find(fingerprint) != std::string::npos);
    }

    void theTokenIsCountedExpiresAndEnrolls()
    {
        Fixture fixture;
        const TimePoint now = nowSeconds();
        DeployOptions options = fixture.options();
        options.uses = 2;
        options.ttl = std::chrono::hours(48);
        QCOMPARE(fixture.deploy(options, now), 0);

        auto storage = fixture.storage();
        const auto tokens = storage->enrollmentTokens();
        QCOMPARE(tokens.size(), 1u);
        QCOMPARE(tokens[0].label, std::string("site acme"));
        QCOMPARE(tokens[0].maxUses, 2);
        QVERIFY(tokens[0].expiresAt == now + std::chrono::hours(48));
        QVERIFY(fixture.printed().find(tokens[0].id) != std::string::npos);

        const fs::path file = fixture.out() / "enroll.token";
        QVERIFY(
            enrollWith(*storage, file, now + std::chrono::hours(48) + std::chrono::seconds(1)) ==
            TokenUse::Expired);
        QVERIFY(enrollWith(*storage, file, now) == TokenUse::Consumed);
        QVERIFY(enrollWith(*storage, file, now + std::chrono::hours(47)) == TokenUse::Consumed);
        QVERIFY(enrollWith(*storage, file, now) == TokenUse::Exhausted);
    }

    void fleetDefaults()
    {
        Fixture fixture;
        const TimePoint now = nowSeconds();
        QCOMPARE(fixture.deploy(fixture.options(), now), 0);
        const auto tokens = fixture.storage()->enrollmentTokens();
        QCOMPARE(tokens.size(), 1u);
        QCOMPARE(tokens[0].maxUses, 1000);
        QVERIFY(tokens[0].expiresAt == now + std::chrono::days(30));
    }

    void jsonNamesTheFilesButNotTheToken()
    {
        Fixture fixture;
        QCOMPARE(fixture.deploy(fixture.options(), nowSeconds(), true), 0);
        const auto report = nlohmann::json::parse(fixture.printed());
        const std::string token = readAll(fixture.out() / "enroll.token");
        QVERIFY(fixture.printed().find(token.substr(5, 20)) == std::string::npos);
        QCOMPARE(report.at("token_file"), (fixture.out() / "enroll.token").string());
        QCOMPARE(report.at("token_id"), fixture.storage()->enrollmentTokens().at(0).id);
        QCOMPARE(report.at("max_uses"), 1000);
        QCOMPARE(report.at("site"), "acme");
        QCOMPARE(report.at("packages"), nlohmann::json::array());
    }

    void anExistingDirectoryIsRefusedBeforeATokenIsMade()
    {
        Fixture fixture;
        fs::create_directory(fixture.out());
        std::ofstream(fixture.out() / "notes.txt") << "mine\n";
        QCOMPARE(fixture.deploy(fixture.options(), nowSeconds()), 1);
        QCOMPARE(fixture.errors(),
                 "vigil-verifier: deploy failed: " + fixture.out().string() +
                     " is not empty (a deployment made before?); give --out a new directory\n");
        QCOMPARE(readAll(fixture.out() / "notes.txt"), std::string("mine\n"));
        QCOMPARE(fixture.storage()->enrollmentTokens().size(), 0u);
    }

    void anEmptyDirectoryIsTakenAndMadePrivate()
    {
        Fixture fixture;
        fs::create_directory(fixture.out());
        ::chmod(fixture.out().c_str(), 0755);
        QCOMPARE(fixture.deploy(fixture.options(), nowSeconds()), 0);
        QCOMPARE(modeOf(fixture.out()), mode_t(0700));
    }

    void aMissingToolFailsBeforeATokenIsMade()
    {
        Fixture fixture;
        DeployOptions options = fixture.options();
        options.formats = {PackageFormat::Deb};
        QTemporaryDir empty;
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", empty.path().toUtf8());
        const int status = fixture.deploy(options, nowSeconds());
        qputenv("PATH", path);
        QCOMPARE(status, 1);
        QVERIFY2(fixture.errors().starts_with(
                     "vigil-verifier: deploy failed: dpkg-deb is not installed"),
                 fixture.errors().c_str());
        QVERIFY(!fs::exists(fixture.out()));
        QCOMPARE(fixture.storage()->enrollmentTokens().size(), 0u);
    }

    // A build that fails once the token exists leaves neither a live token nor its files.
    void aFailedBuildRevokesTheToken()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("rpmbuild")).isEmpty())
            QSKIP("rpmbuild is not installed (Debian package rpm)");
        Fixture fixture;
        DeployOptions options = fixture.options();
        // A path rpmbuild's spec cannot quote: refused by the rpm build, after the token.
        options.outDir = fixture.out().string() + " copy";
        options.formats = {PackageFormat::Rpm};
        QCOMPARE(fixture.deploy(options, nowSeconds()), 1);
        const auto tokens = fixture.storage()->enrollmentTokens();
        QCOMPARE(tokens.size(), 1u);
        QVERIFY(tokens[0].revokedAt.has_value());
        QVERIFY2(fixture.errors().find("rpmbuild cannot be given the path") != std::string::npos,
                 fixture.errors().c_str());
        QVERIFY(fixture.errors().ends_with("vigil-verifier: the enrollment token " + tokens[0].id +
                                           " made for it is revoked again\n"));
        QVERIFY(!fs::exists(options.outDir));
    }

    void packagesForEveryFormat()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("dpkg-deb")).isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("rpmbuild")).isEmpty())
            QSKIP("dpkg-deb or rpmbuild is not installed");
        Fixture fixture;
        DeployOptions options = fixture.options();
        options.formats = {PackageFormat::Deb, PackageFormat::Rpm};
        options.version = "3.1";
        QCOMPARE(fixture.deploy(options, nowSeconds()), 0);
        QCOMPARE(modeOf(fixture.out() / "vigil-site-acme_3.1_all.deb"), mode_t(0600));
        QCOMPARE(modeOf(fixture.out() / "vigil-site-acme-3.1-1.noarch.rpm"), mode_t(0600));
        QCOMPARE(std::distance(fs::directory_iterator(fixture.out()), fs::directory_iterator()), 5);
        QVERIFY2(fixture.printed().find("  apt install ./vigil_*.deb "
                                        "./vigil-site-acme_3.1_all.deb\n") != std::string::npos,
                 fixture.printed().c_str());
    }

    void serverUrls_data()
    {
        QTest::addColumn<QByteArray>("url");
        QTest::addColumn<QByteArray>("problem");
        QTest::newRow("host") << QByteArray("https://verifier.example.com") << QByteArray();
        QTest::newRow("port and path")
            << QByteArray("https://verifier.example.com:8443/vigil") << QByteArray();
        QTest::newRow("IPv6") << QByteArray("https://[::1]:8443") << QByteArray();
        QTest::newRow("http") << QByteArray("http://verifier.example.com")
                              << QByteArray("it does not start with https://");
        QTest::newRow("no scheme")
            << QByteArray("verifier.example.com") << QByteArray("it does not start with https://");
        QTest::newRow("query") << QByteArray("https://verifier.example.com/?a=b")
                               << QByteArray("it has a query (?…)");
        QTest::newRow("fragment") << QByteArray("https://verifier.example.com/#x")
                                  << QByteArray("it has a fragment (#…)");
        QTest::newRow("credentials")
            << QByteArray("https://admin:secret@verifier.example.com")
            << QByteArray("it has a user name or password (…@), which must not be in a file "
                          "every user can read");
        QTest::newRow("no host") << QByteArray("https://:8443") << QByteArray("it has no host");
        QTest::newRow("space") << QByteArray("https://verifier example.com")
                               << QByteArray("it has a space, a control or a non-ASCII character");
    }

    void serverUrls()
    {
        QFETCH(QByteArray, url);
        QFETCH(QByteArray, problem);
        const auto found = serverUrlProblem(url.toStdString());
        QCOMPARE(QByteArray::fromStdString(found.value_or("")), problem);
    }

    void badPortIsRefused()
    {
        QVERIFY(serverUrlProblem("https://verifier.example.com:99999").has_value());
    }
};

QTEST_GUILESS_MAIN(TestSiteDeployment)
#include "tst_sitedeployment.moc"
