// The vigil-site-NAME packages as the distributions' own tools see them: dpkg-deb and lintian
// for the .deb, rpm for the .rpm (each skipped where its tool is missing), and the checks on
// names and versions that keep both tools happy.
#include "independentpython.h"
#include "programrun.h"
#include "server/admin/sitepackage.h"

#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using namespace vigil::server;
using vigil::test::ProgramRun;
using vigil::test::runProgram;
using vigil::test::thrownMessage;
namespace fs = std::filesystem;

namespace {

const char *const token = "vet1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";

SiteContents acme()
{
    SiteContents contents;
    contents.site = "acme";
    contents.serverUrl = "https://verifier.example.com:8443";
    contents.version = "20261207.103000";
    contents.vigildJson = "{\"server_url\": \"https://verifier.example.com:8443\"}\n";
    contents.caPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    contents.token = token;
    contents.builtAt = std::chrono::sys_days{std::chrono::December / 7 / 2026} +
                       std::chrono::hours(10) + std::chrono::minutes(30);
    return contents;
}

ProgramRun tool(const QString &name, const QStringList &arguments)
{
    return runProgram(QStandardPaths::findExecutable(name), arguments);
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// The lines of text that match pattern, joined: what a listing says about some of its entries.
QByteArray matching(const QByteArray &text, const char *pattern)
{
    const QRegularExpression expression(QString::fromLatin1(pattern));
    QByteArrayList lines;
    for (const QByteArray &line : text.split('\n'))
        if (expression.match(QString::fromUtf8(line)).hasMatch())
            lines << line.simplified();
    return lines.join('\n');
}

} // namespace

class TestSitePackage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void siteNames_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("letters") << QByteArray("acme") << true;
        QTest::newRow("digits and dash") << QByteArray("site-2") << true;
        QTest::newRow("leading digit") << QByteArray("9lives") << true;
        QTest::newRow("32 characters") << QByteArray(32, 'a') << true;
        QTest::newRow("33 characters") << QByteArray(33, 'a') << false;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("capital") << QByteArray("Acme") << false;
        QTest::newRow("leading dash") << QByteArray("-acme") << false;
        QTest::newRow("dot") << QByteArray("acme.eu") << false;
        QTest::newRow("underscore") << QByteArray("acme_eu") << false;
        QTest::newRow("slash") << QByteArray("../acme") << false;
        QTest::newRow("space") << QByteArray("ac me") << false;
    }

    void siteNames()
    {
        QFETCH(QByteArray, name);
        QFETCH(bool, valid);
        QCOMPARE(!siteNameProblem(name.toStdString()), valid);
    }

    void versions_data()
    {
        QTest::addColumn<QByteArray>("version");
        QTest::addColumn<bool>("valid");
        QTest::newRow("default form") << QByteArray("20261207.103000") << true;
        QTest::newRow("dotted") << QByteArray("2.1") << true;
        QTest::newRow("tilde and plus") << QByteArray("2.1~rc1+site") << true;
        QTest::newRow("release") << QByteArray("2.1-1") << false;
        QTest::newRow("epoch") << QByteArray("1:2.1") << false;
        QTest::newRow("leading letter") << QByteArray("v2") << false;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("underscore") << QByteArray("2_1") << false;
        QTest::newRow("65 characters") << QByteArray(65, '1') << false;
    }

    void versions()
    {
        QFETCH(QByteArray, version);
        QFETCH(bool, valid);
        QCOMPARE(!packageVersionProblem(version.toStdString()), valid);
    }

    void defaultVersionIsTheUtcTime()
    {
        QCOMPARE(defaultPackageVersion(acme().builtAt), std::string("20261207.103000"));
        QCOMPARE(defaultPackageVersion(std::chrono::sys_days{std::chrono::January / 2 / 2027} +
                                       std::chrono::seconds(5)),
                 std::string("20270102.000005"));
    }

    void fileNames()
    {
        QCOMPARE(sitePackageFileName(acme(), PackageFormat::Deb),
                 std::string("vigil-site-acme_20261207.103000_all.deb"));
        QCOMPARE(sitePackageFileName(acme(), PackageFormat::Rpm),
                 std::string("vigil-site-acme-20261207.103000-1.noarch.rpm"));
    }

    // The scripts are plain sh: dash's parser must accept them.
    void postinstScriptsParse()
    {
        // What they do is tested where they run: tests/installer/lifecycle.sh installs,
        // upgrades and purges a site package in a Debian root.
        for (const PackageFormat format : {PackageFormat::Deb, PackageFormat::Rpm}) {
            const std::string script = sitePostinstScript("acme", format);
            for (const std::string &text : {script, sitePostrmScript(format)}) {
                QTemporaryDir tmp;
                const QString file = tmp.filePath(QStringLiteral("script"));
                QFile out(file);
                QVERIFY(out.open(QIODevice::WriteOnly));
                out.write(text.data(), qint64(text.size()));
                out.close();
                const ProgramRun run = tool(QStringLiteral("sh"), {QStringLiteral("-n"), file});
                QVERIFY2(run.exitCode == 0, run.err.constData());
            }
            QVERIFY(script.find("install_from_site enroll.token \"$token\" 0600") !=
                    std::string::npos);
            QVERIFY(script.find("[ -d /run/systemd/system ]") != std::string::npos);
            QVERIFY(sitePostrmScript(format).find("rm -rf /var/lib/vigil-site") !=
                    std::string::npos);
        }
        QVERIFY(sitePostinstScript("acme", PackageFormat::Deb).starts_with("#!/bin/sh\n"));
        QVERIFY(sitePostinstScript("acme", PackageFormat::Deb)
                    .find("deb-systemd-invoke "
                          "try-restart") != std::string::npos);
        QVERIFY(sitePostinstScript("acme", PackageFormat::Rpm).find("systemctl try-restart") !=
                std::string::npos);
    }

    void missingToolsNameTheirPackages()
    {
        QTemporaryDir empty;
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", empty.path().toUtf8());
        const QByteArray deb =
            thrownMessage<SitePackageError>([] { requirePackageTool(PackageFormat::Deb); });
        const QByteArray rpm =
            thrownMessage<SitePackageError>([] { requirePackageTool(PackageFormat::Rpm); });
        qputenv("PATH", path);
        QCOMPARE(deb, QByteArray("dpkg-deb is not installed: install the package dpkg, or build "
                                 "only the rpm (--format rpm) or no package (--format none)"));
        QVERIFY2(rpm.startsWith("rpmbuild is not installed: install the package rpm (Debian, "
                                "Ubuntu: apt-get install rpm) or rpm-build"),
                 rpm.constData());
    }

    void debLayoutAndControl()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("dpkg-deb")).isEmpty())
            QSKIP("dpkg-deb is not installed");
        QTemporaryDir tmp;
        const fs::path out = tmp.path().toStdString();
        const fs::path deb = buildSitePackage(acme(), PackageFormat::Deb, out);
        QCOMPARE(deb, out / "vigil-site-acme_20261207.103000_all.deb");
        QCOMPARE(modeOf(deb), mode_t(0600));
        // Only the package: the staging directory with its copy of the token is gone.
        QCOMPARE(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);

        const QString file = QString::fromStdString(deb.string());
        const ProgramRun info = tool(QStringLiteral("dpkg-deb"), {QStringLiteral("-I"), file});
        QVERIFY2(info.exitCode == 0, info.err.constData());
        for (const char *field :
             {" Package: vigil-site-acme\n", " Version: 20261207.103000\n", " Architecture: all\n",
              " Depends: vigil\n", " Provides: vigil-site\n", " Conflicts: vigil-site\n",
              " Maintainer: Vigil site acme <vigil-verifier@verifier.example.com>\n",
              " Points vigild at the verifier https://verifier.example.com:8443,\n"})
            QVERIFY2(info.out.contains(field), field);
        QVERIFY(info.out.contains(" postinst "));
        QVERIFY(info.out.contains(" postrm "));

        const ProgramRun contents = tool(QStringLiteral("dpkg-deb"), {QStringLiteral("-c"), file});
        QVERIFY2(contents.exitCode == 0, contents.err.constData());
        QVERIFY(
            matching(contents.out, "usr/share/vigil/site/$").startsWith("drwxr-xr-x root/root "));
        QVERIFY(matching(contents.out, "enroll.token$").startsWith("-rw------- root/root 49 "));
        QVERIFY(matching(contents.out, "vigild.json$").startsWith("-rw-r--r-- root/root "));
        QVERIFY(matching(contents.out, "verifier-ca.pem$").startsWith("-rw-r--r-- root/root "));
        QVERIFY(!matching(contents.out, "usr/share/doc/vigil-site-acme/copyright$").isEmpty());
        QVERIFY(!matching(contents.out, "usr/share/doc/vigil-site-acme/changelog.gz$").isEmpty());

        const fs::path extracted = out / "extracted";
        const ProgramRun x =
            tool(QStringLiteral("dpkg-deb"),
                 {QStringLiteral("-x"), file, QString::fromStdString(extracted.string())});
        QVERIFY2(x.exitCode == 0, x.err.constData());
        QFile tokenFile(
            QString::fromStdString((extracted / "usr/share/vigil/site/enroll.token").string()));
        QVERIFY(tokenFile.open(QIODevice::ReadOnly));
        QCOMPARE(tokenFile.readAll(), QByteArray(token));
    }

    void debIsLintianClean()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("dpkg-deb")).isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("lintian")).isEmpty())
            QSKIP("dpkg-deb or lintian is not installed");
        QTemporaryDir tmp;
        const fs::path deb = buildSitePackage(acme(), PackageFormat::Deb, tmp.path().toStdString());
        vigil::test::ProgramOptions options;
        options.timeout = std::chrono::minutes(5);
        const ProgramRun lint =
            runProgram(QStandardPaths::findExecutable(QStringLiteral("lintian")),
                       {QString::fromStdString(deb.string())}, options);
        // Errors and warnings only: lintian's exit code counts errors alone.
        QVERIFY2(lint.exitCode == 0, lint.out + lint.err);
        QCOMPARE(lint.out, QByteArray());
    }

    void rpmLayoutScriptsAndRequirements()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("rpmbuild")).isEmpty())
            QSKIP("rpmbuild is not installed (Debian package rpm)");
        QTemporaryDir tmp;
        const fs::path out = tmp.path().toStdString();
        SiteContents contents = acme();
        // rpm would read "%{…}" or "%2D" as a macro: the URL must come through as it is.
        contents.serverUrl = "https://verifier.example.com/%7Bvigil%7D";
        const fs::path rpm = buildSitePackage(contents, PackageFormat::Rpm, out);
        QCOMPARE(rpm, out / "vigil-site-acme-20261207.103000-1.noarch.rpm");
        QCOMPARE(modeOf(rpm), mode_t(0600));
        QCOMPARE(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);

        const QString file = QString::fromStdString(rpm.string());
        const auto query = [&file](const char *options) {
            const ProgramRun run =
                tool(QStringLiteral("rpm"), QString::fromLatin1(options).split(u' ') << file);
            if (run.exitCode != 0)
                qWarning("rpm %s: %s", options, run.err.constData());
            return run.out;
        };
        QCOMPARE(query("-qp --qf %{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}"),
                 QByteArray("vigil-site-acme|20261207.103000|1|noarch"));
        QVERIFY(query("-qp --qf %{DESCRIPTION}")
                    .startsWith("Points vigild at the verifier "
                                "https://verifier.example.com/%7Bvigil%7D,\n"));
        QCOMPARE(query("-qpl"), QByteArray("/usr/share/vigil/site\n"
                                           "/usr/share/vigil/site/enroll.token\n"
                                           "/usr/share/vigil/site/verifier-ca.pem\n"
                                           "/usr/share/vigil/site/vigild.json\n"));
        const QByteArray listing = query("-qplv");
        QVERIFY2(matching(listing, "enroll.token$").startsWith("-rw------- 1 root root 49 "),
                 listing.constData());
        QVERIFY(matching(listing, "vigild.json$").startsWith("-rw-r--r-- 1 root root "));
        QVERIFY(matching(listing, "site$").startsWith("drwxr-xr-x 2 root root "));

        const QByteArray scripts = query("-qp --scripts");
        QVERIFY2(scripts.startsWith("postinstall scriptlet (using /bin/sh):\n"),
                 scripts.constData());
        QVERIFY(scripts.contains(
            QByteArray::fromStdString(sitePostinstScript("acme", PackageFormat::Rpm))));
        QVERIFY(scripts.contains("postuninstall scriptlet (using /bin/sh):\n" +
                                 QByteArray::fromStdString(sitePostrmScript(PackageFormat::Rpm))));
        QVERIFY(!scripts.contains("preuninstall"));

        const QByteArray requirements = query("-qpR");
        for (const char *name : {"vigil\n", "coreutils\n", "diffutils\n", "/bin/sh\n"})
            QVERIFY2(requirements.contains(name), requirements.constData());
        QVERIFY(query("-qp --provides").contains("vigil-site\n"));
        QCOMPARE(query("-qp --conflicts"), QByteArray("vigil-site\n"));
    }
};

QTEST_GUILESS_MAIN(TestSitePackage)
#include "tst_sitepackage.moc"
