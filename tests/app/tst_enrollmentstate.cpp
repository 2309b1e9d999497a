// The device's enrollment state and the pinned verifier CA: fingerprints agree with the openssl
// CLI and the verifier's own implementation, a CA with another fingerprint is refused, and the
// files are written and read back with their modes, refusing anything tampered with.
#include "app/client/enrollmentstate.h"
#include "protocol/rfc3339.h"
#include "server/admin/datadirectory.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sys/stat.h>

using namespace vigil;
using app::EnrollmentState;
using app::EnrollmentStateError;
using app::EnrollmentStore;

namespace {

namespace fs = std::filesystem;

unsigned modeOf(const fs::path &path)
{
    struct stat status
    {
    };
    if (::lstat(path.c_str(), &status) != 0)
        return 0;
    return status.st_mode & 07777;
}

void writeText(const fs::path &path, const std::string &text)
{
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

std::string readText(const fs::path &path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

template <typename F> std::string thrownMessage(F f)
{
    try {
        f();
    } catch (const EnrollmentStateError &e) {
        return e.what();
    } catch (const std::exception &e) {
        return std::string("<other exception: ") + e.what() + ">";
    }
    return "<no exception>";
}

EnrollmentState sampleState(const std::string &caFingerprint)
{
    EnrollmentState state;
    state.serverUrl = "https://127.0.0.1:8443";
    state.deviceId = "0b7c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21";
    state.assurance = protocol::Assurance::Software;
    state.deviceKeyThumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    state.caFingerprint = caFingerprint;
    state.hostname = "ws-042";
    state.enrolledAt = *protocol::parseRfc3339("2026-11-24T16:05:00Z");
    return state;
}

} // namespace

class TestEnrollmentState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        const auto now = std::chrono::system_clock::now();
        server::DataDirectory::initialise(root() / "verifier-a", {"127.0.0.1"}, now);
        server::DataDirectory::initialise(root() / "verifier-b", {"127.0.0.1"}, now);
        m_caA = root() / "verifier-a" / "ca.pem";
        m_caB = root() / "verifier-b" / "ca.pem";
    }

    // Three implementations agree: this one, the verifier's (what `init` prints) and the
    // openssl CLI's, whose colon-separated form normaliseFingerprint accepts.
    void fingerprintMatchesTheVerifierAndOpenssl()
    {
        const std::string ours = app::certificateFingerprint(readText(m_caA));
        QCOMPARE(ours, server::certificateFingerprint(m_caA));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("x509"), QStringLiteral("-in"),
                       QString::fromStdString(m_caA.string()), QStringLiteral("-noout"),
                       QStringLiteral("-fingerprint"), QStringLiteral("-sha256")});
        QVERIFY(openssl.waitForFinished(10000));
        const QByteArray line = openssl.readAllStandardOutput().trimmed();
        QVERIFY2(line.startsWith("sha256 Fingerprint="), line.constData());
        const auto theirs = app::normaliseFingerprint("sha256:" + line.mid(19).toStdString());
        QVERIFY(theirs);
        QCOMPARE(*theirs, ours);
        QVERIFY(ours != app::certificateFingerprint(readText(m_caB)));
    }

    void fingerprintForms_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected"); // empty: refused
        const QString hex = QStringLiteral("00112233445566778899aabbccddeeff"
                                           "00112233445566778899aabbccddeeff");
        QString colons;
        for (int i = 0; i < hex.size(); i += 2)
            colons += (i ? QStringLiteral(":") : QString()) + hex.mid(i, 2).toUpper();
        QTest::newRow("lower") << QStringLiteral("sha256:") + hex
                               << QStringLiteral("sha256:") + hex;
        QTest::newRow("upper") << QStringLiteral("SHA256:") + hex.toUpper()
                               << QStringLiteral("sha256:") + hex;
        QTest::newRow("colons") << QStringLiteral("sha256:") + colons
                                << QStringLiteral("sha256:") + hex;
        QTest::newRow("no prefix") << hex << QString();
        QTest::newRow("sha1 prefix") << QStringLiteral("sha1:") + hex << "";
        QTest::newRow("short") << QStringLiteral("sha256:") + hex.left(62) << "";
        QTest::newRow("long") << QStringLiteral("sha256:") + hex + QStringLiteral("00") << "";
        QTest::newRow("not hex") << QStringLiteral("sha256:") + hex.left(63) + QStringLiteral("g")
                                 << "";
        QTest::newRow("trailing colon")
            << QStringLiteral("sha256:") + colons + QStringLiteral(":") << "";
        QTest::newRow("misplaced colon") << QStringLiteral("sha256:0:") + hex.mid(1) << "";
        QTest::newRow("empty") << ""
                               << "";
    }

    void fingerprintForms()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        const auto normalised = app::normaliseFingerprint(text.toStdString());
        if (expected.isEmpty()) {
            QVERIFY2(!normalised, normalised ? normalised->c_str() : "");
        } else {
            QVERIFY(normalised);
            QCOMPARE(QString::fromStdString(*normalised), expected);
        }
    }

    void caFileCheckedAgainstTheFingerprint()
    {
        const std::string a = server::certificateFingerprint(m_caA);
        const std::string b = server::certificateFingerprint(m_caB);
        const auto ca = app::readCaFile(m_caA, a);
        QCOMPARE(ca.fingerprint, a);
        QCOMPARE(ca.pem, readText(m_caA));
        QCOMPARE(app::readCaFile(m_caA).fingerprint, a); // no fingerprint given: not checked

        QCOMPARE(thrownMessage([&] { app::readCaFile(m_caA, b); }),
                 "CA file '" + m_caA.string() + "' has fingerprint " + a + ", not the expected " +
                     b + "; refusing to trust it (is it the right verifier's ca.pem?)");
        QCOMPARE(thrownMessage([&] { app::readCaFile(m_caA, std::string("sha256:abc")); }),
                 std::string("the CA fingerprint 'sha256:abc' is not sha256: followed by 64 hex "
                             "digits"));
    }

    void badCaFiles()
    {
        const fs::path notPem = root() / "not.pem";
        writeText(notPem, "hello\n");
        QCOMPARE(thrownMessage([&] { app::readCaFile(notPem); }),
                 "CA file '" + notPem.string() +
                     "': no PEM certificate in it; give the verifier's ca.pem");
        const fs::path key = root() / "verifier-a" / "ca-key.pem";
        QCOMPARE(thrownMessage([&] { app::readCaFile(key); }),
                 "CA file '" + key.string() +
                     "': no PEM certificate in it; give the verifier's ca.pem");
        QCOMPARE(thrownMessage([&] { app::readCaFile(root() / "missing.pem"); }),
                 "cannot read CA file '" + (root() / "missing.pem").string() +
                     "': No such file or directory");
        const fs::path link = root() / "link.pem";
        fs::create_symlink(m_caA, link);
        QCOMPARE(thrownMessage([&] { app::readCaFile(link); }),
                 "CA file '" + link.string() + "' is a symbolic link; give the file itself");
        QCOMPARE(thrownMessage([&] { app::readCaFile(root()); }),
                 "CA file '" + root().string() + "' is not a regular file");
        const fs::path big = root() / "big.pem";
        writeText(big, readText(m_caA) + std::string(app::maxCaFileSize, '\n'));
        QCOMPARE(thrownMessage([&] { app::readCaFile(big); }),
                 "CA file '" + big.string() + "' is larger than 65536 bytes");
    }

    void stageCommitLoad()
    {
        const fs::path state = root() / "state-ok" / "vigil";
        const EnrollmentStore store(state);
        QVERIFY(!store.load());

        const auto ca = app::readCaFile(m_caA);
        const fs::path staged = store.stageCa(ca);
        QCOMPARE(staged, state / "verifier-ca.pem.new");
        QCOMPARE(modeOf(state), 0700u);
        QCOMPARE(modeOf(staged), 0644u);
        QVERIFY(!store.load()); // staging is not enrolling

        const EnrollmentState saved = sampleState(ca.fingerprint);
        store.commit(saved);
        QVERIFY(!fs::exists(staged));
        QCOMPARE(modeOf(store.caFile()), 0644u);
        QCOMPARE(modeOf(store.stateFile()), 0600u);
        QCOMPARE(readText(store.caFile()), ca.pem);

        const auto loaded = store.load();
        QVERIFY(loaded);
        QCOMPARE(loaded->toJson(), saved.toJson());
        const auto json = nlohmann::json::parse(readText(store.stateFile()));
        QCOMPARE(json.at("ca_fingerprint").get<std::string>(), ca.fingerprint);
        QCOMPARE(json.at("enrolled_at").get<std::string>(), std::string("2026-11-24T16:05:00Z"));
        QCOMPARE(json.at("assurance").get<std::string>(), std::string("software"));

        // A failed re-enrollment leaves the enrollment as it was.
        store.stageCa(app::readCaFile(m_caB));
        store.discardStaged();
        QVERIFY(!fs::exists(staged));
        QCOMPARE(store.load()->toJson(), saved.toJson());
    }

    void tamperedCaIsRefused()
    {
        const fs::path state = root() / "state-tampered";
        const EnrollmentStore store(state);
        const auto ca = app::readCaFile(m_caA);
        store.stageCa(ca);
        store.commit(sampleState(ca.fingerprint));

        const std::string b = server::certificateFingerprint(m_caB);
        fs::copy_file(m_caB, store.caFile(), fs::copy_options::overwrite_existing);
        QCOMPARE(thrownMessage([&] { store.load(); }),
                 "pinned verifier CA '" + store.caFile().string() + "' has fingerprint " + b +
                     ", not the " + ca.fingerprint +
                     " recorded at enrollment; fix: enroll again (vigilctl enroll)");

        fs::copy_file(m_caA, store.caFile(), fs::copy_options::overwrite_existing);
        ::chmod(store.caFile().c_str(), 0664);
        QCOMPARE(thrownMessage([&] { store.load(); }),
                 "pinned verifier CA '" + store.caFile().string() +
                     "' has mode 0664: others could replace it; fix: chmod 644 '" +
                     store.caFile().string() + "'");
        ::chmod(store.caFile().c_str(), 0644);
        QVERIFY(store.load());

        fs::remove(store.caFile());
        QCOMPARE(thrownMessage([&] { store.load(); }), "cannot read pinned verifier CA '" +
                                                           store.caFile().string() +
                                                           "': No such file or directory");
    }

    void stateFileReadableByOthersIsRefused()
    {
        const fs::path state = root() / "state-mode";
        const EnrollmentStore store(state);
        const auto ca = app::readCaFile(m_caA);
        store.stageCa(ca);
        store.commit(sampleState(ca.fingerprint));
        ::chmod(store.stateFile().c_str(), 0644);
        const std::string message = thrownMessage([&] { store.load(); });
        QVERIFY2(message.starts_with("enrollment state file '" + store.stateFile().string() +
                                     "' has mode 0644"),
                 message.c_str());
    }

    void malformedState_data()
    {
        QTest::addColumn<QString>("pointer");
        QTest::addColumn<QString>("value"); // JSON; empty: the member is removed
        QTest::addColumn<QString>("message");
        QTest::newRow("no version") << "/version"
                                    << ""
                                    << "/version: must be 1";
        QTest::newRow("version 2") << "/version"
                                   << "2"
                                   << "/version: must be 1";
        QTest::newRow("no device id") << "/device_id"
                                      << ""
                                      << "/device_id: is missing";
        QTest::newRow("device id number") << "/device_id"
                                          << "7"
                                          << "/device_id: must be a string";
        QTest::newRow("http server") << "/server_url"
                                     << "\"http://x\""
                                     << "/server_url: must be an https:// URL";
        QTest::newRow("assurance") << "/assurance"
                                   << "\"hsm\""
                                   << "/assurance: must be \"tpm\" or \"software\"";
        QTest::newRow("thumbprint")
            << "/device_key_thumbprint"
            << "\"abc\""
            << "/device_key_thumbprint: must be a base64url SHA-256 thumbprint";
        QTest::newRow("fingerprint")
            << "/ca_fingerprint"
            << "\"md5:00\""
            << "/ca_fingerprint: must be sha256: followed by 64 hex digits";
        QTest::newRow("time") << "/enrolled_at"
                              << "\"yesterday\""
                              << "/enrolled_at: must be an RFC 3339 UTC time like "
                                 "2026-11-24T16:05:00Z";
        QTest::newRow("empty hostname") << "/hostname"
                                        << "\"\""
                                        << "/hostname: must have 1 to 255 characters";
    }

    void malformedState()
    {
        QFETCH(QString, pointer);
        QFETCH(QString, value);
        QFETCH(QString, message);
        const fs::path state = root() / "state-malformed";
        const EnrollmentStore store(state);
        const auto ca = app::readCaFile(m_caA);
        store.stageCa(ca);
        store.commit(sampleState(ca.fingerprint));
        auto json = nlohmann::json::parse(readText(store.stateFile()));
        const nlohmann::json::json_pointer at(pointer.toStdString());
        if (value.isEmpty())
            json.erase(at.back());
        else
            json[at] = nlohmann::json::parse(value.toStdString());
        writeText(store.stateFile(), json.dump());
        QCOMPARE(QString::fromStdString(thrownMessage([&] { store.load(); })),
                 QStringLiteral("enrollment state '") +
                     QString::fromStdString(store.stateFile().string()) + QStringLiteral("': ") +
                     message + QStringLiteral("; fix: enroll again (vigilctl enroll)"));

        writeText(store.stateFile(), "{\"version\":1,");
        const std::string broken = thrownMessage([&] { store.load(); });
        QVERIFY2(broken.starts_with("enrollment state '" + store.stateFile().string() + "': "),
                 broken.c_str());
    }

private:
    fs::path root() const { return fs::path(m_temporary.path().toStdString()); }

    QTemporaryDir m_temporary;
    fs::path m_caA, m_caB;
};

QTEST_APPLESS_MAIN(TestEnrollmentState)
#include "tst_enrollmentstate.moc"
