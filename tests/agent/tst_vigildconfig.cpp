// vigild's configuration file: the defaults, a full file, an error naming its member (JSON
// pointer) and what was expected for every kind of bad value, and the file checks: missing,
// not a regular file, too large, or changeable by someone other than root and its owner.
#include "app/agent/vigildconfig.h"
#include "testprinters.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using agent::ConfigError;
using agent::VigildConfig;

namespace {

namespace fs = std::filesystem;

void writeText(const fs::path &path, const std::string &text)
{
    {
        std::ofstream out(path, std::ios::trunc | std::ios::binary);
        out << text;
    }
    // What the umask leaves is not the test's subject.
    fs::permissions(path, fs::perms(0644));
}

template <typename F> ConfigError thrown(F f)
{
    try {
        f();
    } catch (const ConfigError &e) {
        return e;
    }
    return ConfigError(ConfigError::Kind::Invalid, "<none>", "<no ConfigError thrown>");
}

const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

} // namespace

class TestVigildConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        m_root = m_dir->path().toStdString();
    }

    void emptyObjectGivesTheDefaults()
    {
        const auto config = VigildConfig::parse("{}");
        QVERIFY(!config.serverUrl);
        QVERIFY(!config.caFile);
        QVERIFY(!config.caFingerprint);
        QCOMPARE(config.tcti, std::string("auto"));
        QCOMPARE(config.stateDirectory, fs::path("/var/lib/vigil"));
        QCOMPARE(config.socketPath, fs::path("/run/vigil/vigild.sock"));
        QCOMPARE(config.privilegedGroup, std::string("vigil"));
        QVERIFY(!config.proxy);
        QVERIFY(config.logLevel == agent::LogLevel::Info);
        QVERIFY(config == VigildConfig{});
        // Not enough to enroll, which is a state vigild reports, not an error.
        const auto blocker = config.enrollmentBlocker();
        QVERIFY2(blocker.find("no server_url and no ca_file") != std::string::npos,
                 blocker.c_str());
    }

    void enrollmentWaitsForTheServerAndItsCa()
    {
        const auto config = VigildConfig::parse("{\"server_url\": \"https://v.example\"}");
        QCOMPARE(config.enrollmentBlocker(),
                 std::string("the configuration has no ca_file; vigild enrolls once the installer "
                             "or an administrator sets it (docs/deployment.md)"));
    }

    void fullFileLoads()
    {
        const fs::path file = m_root / "vigild.json";
        std::string colons;
        for (std::size_t i = 0; i < hex.size(); i += 2)
            colons += (i ? ":" : "") + hex.substr(i, 2);
        writeText(file, "\xEF\xBB\xBF{\n"
                        "  \"server_url\": \"https://verifier.example.com:8443/vigil\",\n"
                        "  \"ca_file\": \"/etc/vigil/verifier-ca.pem\",\n"
                        "  \"ca_fingerprint\": \"SHA256:" +
                            colons +
                            "\",\n"
                            "  \"tcti\": \"swtpm:host=127.0.0.1,port=2321\",\n"
                            "  \"state_directory\": \"/srv/vigil/state\",\n"
                            "  \"socket_path\": \"/run/vigil/other.sock\",\n"
                            "  \"privileged_group\": \"vigil-admins\",\n"
                            "  \"proxy\": \"socks5h://[::1]:1080\",\n"
                            "  \"log_level\": \"debug\"\n"
                            "}\n");
        const auto config = VigildConfig::load(file);
        QCOMPARE(config.serverUrl.value_or(""),
                 std::string("https://verifier.example.com:8443/vigil"));
        QCOMPARE(config.caFile.value_or(""), fs::path("/etc/vigil/verifier-ca.pem"));
        QCOMPARE(config.caFingerprint.value_or(""), "sha256:" + hex);
        QCOMPARE(config.tcti, std::string("swtpm:host=127.0.0.1,port=2321"));
        QCOMPARE(config.stateDirectory, fs::path("/srv/vigil/state"));
        QCOMPARE(config.socketPath, fs::path("/run/vigil/other.sock"));
        QCOMPARE(config.privilegedGroup, std::string("vigil-admins"));
        QCOMPARE(config.proxy.value_or(""), std::string("socks5h://[::1]:1080"));
        QVERIFY(config.logLevel == agent::LogLevel::Debug);
        QCOMPARE(config.enrollmentBlocker(), std::string());
    }

    void otherAcceptedValues_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("tcti none") << QByteArray("{\"tcti\": \"none\"}");
        QTest::newRow("tcti device") << QByteArray("{\"tcti\": \"device:/dev/tpmrm0\"}");
        QTest::newRow("tcti name only") << QByteArray("{\"tcti\": \"tabrmd\"}");
        QTest::newRow("ipv4 host") << QByteArray("{\"server_url\": \"https://192.0.2.7\"}");
        QTest::newRow("ipv6 host")
            << QByteArray("{\"server_url\": \"https://[2001:db8::7]:443/\"}");
        QTest::newRow("upper-case scheme") << QByteArray("{\"server_url\": \"HTTPS://v.example\"}");
        QTest::newRow("proxy with /") << QByteArray("{\"proxy\": \"http://proxy:3128/\"}");
        QTest::newRow("log_level error") << QByteArray("{\"log_level\": \"error\"}");
        QTest::newRow("group with _") << QByteArray("{\"privileged_group\": \"_vigil\"}");
    }

    void otherAcceptedValues()
    {
        QFETCH(QByteArray, text);
        try {
            VigildConfig::parse(text.toStdString());
        } catch (const ConfigError &e) {
            QFAIL(e.what());
        }
    }

    // Every refusal names the member and says what was expected there.
    void errorsNameTheirMember_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("pointer");
        QTest::addColumn<QString>("says"); // a part of the problem

        const auto row = [](const char *name, const QByteArray &text, const char *pointer,
                            const char *says) {
            QTest::newRow(name) << text << QString::fromUtf8(pointer) << QString::fromUtf8(says);
        };
        row("unknown member", "{\"server_uri\": \"https://v.example\"}", "/server_uri",
            "unknown member (expected one of: server_url, ca_file, ");
        row("url a number", "{\"server_url\": 8443}", "/server_url",
            "expected an https:// URL with a host, like https://verifier.example.com, got a "
            "number");
        row("url http", "{\"server_url\": \"http://v.example\"}", "/server_url",
            "got \"http://v.example\": the scheme is \"http\"");
        row("url no scheme", "{\"server_url\": \"v.example\"}", "/server_url", "no scheme://");
        row("url no host", "{\"server_url\": \"https://:8443\"}", "/server_url", "no host");
        row("url userinfo", "{\"server_url\": \"https://me:pw@v.example\"}", "/server_url",
            "user name or password");
        row("url fragment", "{\"server_url\": \"https://v.example/#top\"}", "/server_url",
            "fragment");
        row("url query", "{\"server_url\": \"https://v.example/?a=1\"}", "/server_url", "query");
        row("url port 0", "{\"server_url\": \"https://v.example:0\"}", "/server_url",
            "port is not a number from 1 to 65535");
        row("url port too big", "{\"server_url\": \"https://v.example:65536\"}", "/server_url",
            "port is not a number from 1 to 65535");
        row("url space", "{\"server_url\": \"https://v.example/a b\"}", "/server_url", "a space");
        row("url bad host", "{\"server_url\": \"https://v%2eexample\"}", "/server_url",
            "the host is not a name");
        row("url empty", "{\"server_url\": \"\"}", "/server_url", "got \"\"");
        row("ca_file relative", "{\"ca_file\": \"ca.pem\"}", "/ca_file",
            "expected an absolute file path, got \"ca.pem\": it is relative");
        row("ca_file directory", "{\"ca_file\": \"/etc/vigil/\"}", "/ca_file", "ends in '/'");
        row("ca_file NUL", "{\"ca_file\": \"/etc/vigil/ca\\u0000.pem\"}", "/ca_file",
            "NUL character");
        row("ca_file array", "{\"ca_file\": [\"/a\"]}", "/ca_file", "got an array");
        row("fingerprint sha1", "{\"ca_fingerprint\": \"sha1:0011\"}", "/ca_fingerprint",
            "expected \"sha256:\" and 64 hex digits");
        row("fingerprint short", "{\"ca_fingerprint\": \"sha256:00112233\"}", "/ca_fingerprint",
            "64 hex digits");
        row("tcti space", "{\"tcti\": \"swtpm host=1\"}", "/tcti", "\"auto\", \"none\" or a TCTI");
        row("tcti relative device", "{\"tcti\": \"device:dev/tpm0\"}", "/tcti",
            "not an absolute path");
        row("tcti empty conf", "{\"tcti\": \"swtpm:\"}", "/tcti", "after ':' is empty");
        row("tcti boolean", "{\"tcti\": true}", "/tcti", "got true");
        row("state_directory relative", "{\"state_directory\": \"var/lib/vigil\"}",
            "/state_directory", "expected an absolute path");
        row("socket_path too long", "{\"socket_path\": \"/run/" + QByteArray(110, 'a') + "\"}",
            "/socket_path", "longer than 107 bytes");
        row("group numeric", "{\"privileged_group\": \"1000\"}", "/privileged_group",
            "expected a group name");
        row("group space", "{\"privileged_group\": \"vigil admins\"}", "/privileged_group",
            "group name");
        row("proxy ftp", "{\"proxy\": \"ftp://proxy:21\"}", "/proxy",
            "expected an http://, https://, socks5:// or socks5h:// URL");
        row("proxy path", "{\"proxy\": \"http://proxy:3128/pac\"}", "/proxy", "it has a path");
        row("proxy userinfo", "{\"proxy\": \"http://u:p@proxy:3128\"}", "/proxy",
            "user name or password");
        row("log_level unknown", "{\"log_level\": \"verbose\"}", "/log_level",
            "expected one of \"debug\", \"info\", \"warning\", \"error\", got \"verbose\"");
        row("log_level null", "{\"log_level\": null}", "/log_level", "got null");
        row("log_level object", "{\"log_level\": {\"level\": \"info\"}}", "/log_level",
            "got an object");
        row("duplicate member", "{\"tcti\": \"auto\", \"tcti\": \"none\"}", "/tcti",
            "given more than once");
        row("not an object", "[\"tcti\"]", "", "expected a JSON object ({…}), got an array");
        row("not JSON", "{\n  \"tcti\": \"auto\",\n}", "", "not valid UTF-8 JSON at line 3");
        row("empty text", "", "", "not valid UTF-8 JSON at line 1, column 1");
    }

    void errorsNameTheirMember()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, pointer);
        QFETCH(QString, says);
        const auto error = thrown([&] { VigildConfig::parse(text.toStdString()); });
        QVERIFY(error.kind() == ConfigError::Kind::Invalid);
        QCOMPARE(error.pointer(), pointer.toStdString());
        QVERIFY2(error.problem().find(says.toStdString()) != std::string::npos, error.what());
        const std::string expectedStart = pointer.isEmpty() ? "" : pointer.toStdString() + ": ";
        QVERIFY2(std::string(error.what()).starts_with(expectedStart), error.what());
    }

    void errorFromFileNamesTheFile()
    {
        const fs::path file = m_root / "vigild.json";
        writeText(file, "{\"tcti\": 2}");
        const auto error = thrown([&] { VigildConfig::load(file); });
        QVERIFY(error.kind() == ConfigError::Kind::Invalid);
        QCOMPARE(std::string(error.what()),
                 file.string() + ": /tcti: expected \"auto\", \"none\" or a TCTI like "
                                 "\"device:/dev/tpmrm0\" or \"swtpm:host=127.0.0.1,port=2321\", "
                                 "got a number");
    }

    void missingFileIsItsOwnKind()
    {
        const fs::path file = m_root / "absent.json";
        const auto error = thrown([&] { VigildConfig::load(file); });
        QVERIFY(error.kind() == ConfigError::Kind::Missing);
        QCOMPARE(std::string(error.what()), file.string() + ": does not exist");
    }

    void notARegularFileIsRefused()
    {
        auto error = thrown([&] { VigildConfig::load(m_root); });
        QVERIFY(error.kind() == ConfigError::Kind::Unreadable);
        QVERIFY2(std::string(error.what()).ends_with("not a regular file"), error.what());
        // A FIFO is refused without waiting for a writer.
        const fs::path fifo = m_root / "fifo.json";
        QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
        error = thrown([&] { VigildConfig::load(fifo); });
        QVERIFY(error.kind() == ConfigError::Kind::Unreadable);
    }

    void oversizeFileIsRefused()
    {
        const fs::path file = m_root / "vigild.json";
        writeText(file, "{\"tcti\": \"auto\"}" + std::string(VigildConfig::maxFileSize, ' '));
        const auto error = thrown([&] { VigildConfig::load(file); });
        QVERIFY(error.kind() == ConfigError::Kind::Invalid);
        QVERIFY2(std::string(error.what()).find("larger than 65536 bytes") != std::string::npos,
                 error.what());
    }

    void symbolicLinkToASafeFileIsFollowed()
    {
        writeText(m_root / "real.json", "{\"log_level\": \"warning\"}");
        fs::create_symlink(m_root / "real.json", m_root / "vigild.json");
        QVERIFY(VigildConfig::load(m_root / "vigild.json").logLevel == agent::LogLevel::Warning);
    }

    void writableByOthersIsRefused_data()
    {
        QTest::addColumn<int>("level"); // 0: the file, 1: its directory, 2: the one above that
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("refused");
        QTest::newRow("group-writable file") << 0 << 0664 << true;
        QTest::newRow("world-writable file") << 0 << 0646 << true;
        QTest::newRow("group-writable directory") << 1 << 0770 << true;
        // Sticky protects entries in directories further up, not in the file's own: what
        // others add there would sit beside it.
        QTest::newRow("sticky world-writable directory") << 1 << 01777 << true;
        QTest::newRow("group-writable directory above") << 2 << 0775 << true;
        QTest::newRow("sticky world-writable directory above") << 2 << 01777 << false;
    }

    void writableByOthersIsRefused()
    {
        QFETCH(int, level);
        QFETCH(int, mode);
        QFETCH(bool, refused);
        const fs::path dir = m_root / "etc";
        fs::create_directory(dir);
        fs::permissions(dir, fs::perms(0755));
        const fs::path file = dir / "vigild.json";
        writeText(file, "{}");
        const fs::path target = level == 0 ? file : level == 1 ? dir : m_root;
        QCOMPARE(::chmod(target.c_str(), static_cast<mode_t>(mode)), 0);
        if (!refused) {
            VigildConfig::load(file);
            return;
        }
        const auto error = thrown([&] { VigildConfig::load(file); });
        QVERIFY(error.kind() == ConfigError::Kind::Unsafe);
        const std::string message = error.what();
        const std::string modeText =
            (mode > 0777 ? "" : "0") + QString::number(mode, 8).toStdString();
        const std::string subject = level == 0 ? "'" + target.string() + "' has mode "
                                               : "directory '" + target.string() +
                                                     "', above config file '" + file.string() +
                                                     "', has mode ";
        QVERIFY2(message.find(subject + modeText) != std::string::npos, message.c_str());
        QVERIFY2(message.ends_with("fix: chmod go-w '" + target.string() + "'"), message.c_str());
        // The advice is the whole fix.
        QCOMPARE(::chmod(target.c_str(), static_cast<mode_t>(mode & ~022)), 0);
        VigildConfig::load(file);
    }

    void ownedByAnotherUserIsRefused()
    {
        if (::geteuid() != 0)
            QSKIP("giving a file to another user needs root");
        const fs::path file = m_root / "vigild.json";
        writeText(file, "{}");
        QCOMPARE(::chown(file.c_str(), 65534, 65534), 0);
        const auto error = thrown([&] { VigildConfig::load(file); });
        QVERIFY(error.kind() == ConfigError::Kind::Unsafe);
        QCOMPARE(std::string(error.what()),
                 "config file '" + file.string() +
                     "' is owned by uid 65534, who could change it; only root or this process's "
                     "user (uid 0) may own it; fix: chown root '" +
                     file.string() + "'");
    }

    // A link on the way is checked as an entry: its owner could point it anywhere later.
    void linkOwnedByAnotherUserIsRefused()
    {
        if (::geteuid() != 0)
            QSKIP("giving a link to another user needs root");
        writeText(m_root / "real.json", "{}");
        const fs::path link = m_root / "vigild.json";
        fs::create_symlink(m_root / "real.json", link);
        QCOMPARE(::lchown(link.c_str(), 65534, 65534), 0);
        const auto error = thrown([&] { VigildConfig::load(link); });
        QVERIFY(error.kind() == ConfigError::Kind::Unsafe);
        QCOMPARE(
            std::string(error.what()),
            "symbolic link '" + link.string() + "' on the way to config file '" + link.string() +
                "' ('" + (m_root / "real.json").string() +
                "') is owned by uid 65534, who could point it elsewhere; fix: chown -h root '" +
                link.string() + "'");
    }

    // A link in a directory that others can write could be replaced by theirs.
    void linkInADirectoryOthersCanWriteIsRefused()
    {
        const fs::path shared = m_root / "shared";
        fs::create_directory(shared);
        writeText(m_root / "real.json", "{}");
        fs::create_symlink(m_root / "real.json", shared / "vigild.json");
        QCOMPARE(::chmod(shared.c_str(), 0777), 0);
        const auto error = thrown([&] { VigildConfig::load(shared / "vigild.json"); });
        QVERIFY(error.kind() == ConfigError::Kind::Unsafe);
        const std::string message = error.what();
        QVERIFY2(
            message.starts_with("directory '" + shared.string() + "', which holds symbolic link"),
            message.c_str());
        QVERIFY2(message.ends_with("fix: chmod go-w '" + shared.string() + "'"), message.c_str());
    }

    // docs/deployment.md's table lists exactly the members the parser knows, and its example
    // is a valid file.
    void documentationMatchesTheParser()
    {
        QFile page(QStringLiteral(VIGIL_FIXTURES_DIR "/../../docs/deployment.md"));
        QVERIFY(page.open(QIODevice::ReadOnly));
        // The section's table alone: other tables on the page (the packages) look the same.
        const QString pageText = QString::fromUtf8(page.readAll());
        const auto section = pageText.indexOf(QStringLiteral("\n## vigild configuration\n"));
        QVERIFY(section >= 0);
        const QString text =
            pageText.mid(section, pageText.indexOf(QStringLiteral("\n### "), section) - section);
        QStringList documented;
        const QRegularExpression row(QStringLiteral("^\\| `([a-z_]+)` \\|"),
                                     QRegularExpression::MultilineOption);
        for (auto match = row.globalMatch(text); match.hasNext();)
            documented << match.next().captured(1);
        const auto error = thrown([] { VigildConfig::parse("{\"~\": 1}"); });
        const std::string known = error.problem();
        QVERIFY2(known.starts_with("unknown member (expected one of: "), known.c_str());
        QCOMPARE(documented.join(QStringLiteral(", ")),
                 QString::fromStdString(known.substr(33, known.size() - 34)));

        const auto start = text.indexOf(QStringLiteral("```json\n"));
        const auto end = text.indexOf(QStringLiteral("```"), start + 8);
        QVERIFY(start >= 0 && end > start);
        const auto example =
            VigildConfig::parse(text.mid(start + 8, end - start - 8).toStdString());
        QCOMPARE(example.serverUrl.value_or(""), std::string("https://verifier.example.com:8443"));
        QCOMPARE(example.enrollmentBlocker(), std::string());
    }

private:
    std::optional<QTemporaryDir> m_dir;
    fs::path m_root;
};

QTEST_GUILESS_MAIN(TestVigildConfig)
#include "tst_vigildconfig.moc"
