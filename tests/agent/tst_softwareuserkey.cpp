// SoftwareUserKey: the PIN-sealed key of a device without a TPM. Signatures checked by OpenSSL,
// wrong PINs counted on disk before each attempt (a kill mid-attempt still counts), growing
// delays on a manual clock, the lock after ten, altered files refused, modes, and no PIN in the
// file or the log.
#include "app/agent/mfa/softwareuserkey.h"
#include "logcapture.h"
#include "manualclock.h"
#include "protocol/jose/ecdsasignature.h"

#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil;
using namespace std::chrono_literals;
using agent::PinAttempts;
using agent::SoftwareUserKey;
using agent::UserKeyError;
namespace fs = std::filesystem;

namespace {

const auto start = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 9h;
const SecretBytes pin(std::string_view("correct horse"));
const SecretBytes wrongPin(std::string_view("Tr0ub4dor&3"));

Bytes digestOf(std::string_view text)
{
    Bytes digest(32);
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
    return digest;
}

unsigned modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

std::string readText(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

nlohmann::json readJson(const fs::path &path)
{
    return nlohmann::json::parse(readText(path));
}

// Rewrites the file as vigild would (mode 0600), with edit applied to its JSON.
void editFile(const fs::path &path, const std::function<void(nlohmann::json &)> &edit)
{
    nlohmann::json json = readJson(path);
    edit(json);
    std::ofstream(path, std::ios::trunc) << json.dump();
}

struct Failure
{
    UserKeyError::Kind kind = UserKeyError::Kind::Unavailable;
    std::string message;
    PinAttempts attempts;
};

Failure failureOf(const std::function<void()> &operation)
{
    try {
        operation();
    } catch (const UserKeyError &e) {
        return {e.kind(), e.what(), e.attempts()};
    }
    return {UserKeyError::Kind::Unavailable, "no error", {}};
}

bool contains(const std::string &text, std::string_view part)
{
    return text.find(part) != std::string::npos;
}

// Every attempt is two fsynced writes: on a disk shared with parallel builds that took over a
// minute for this suite, so its files live on tmpfs when there is one (fsync costs nothing
// there; what is tested is the order of the writes, not the disk).
QString temporaryDirectoryTemplate()
{
    if (QFileInfo(QStringLiteral("/dev/shm")).isWritable())
        return QStringLiteral("/dev/shm/tst_softwareuserkey-XXXXXX");
    return QDir::tempPath() + QStringLiteral("/tst_softwareuserkey-XXXXXX");
}

// A stand-in for scrypt where a test makes many attempts and is about counting them, not about
// the derivation's cost (scrypt takes about 0.1 s, and far more on a loaded machine).
SoftwareUserKey::Options fast()
{
    SoftwareUserKey::Options options;
    options.derive = [](const SecretBytes &value, std::span<const std::uint8_t> salt) {
        SecretBytes key = SecretBytes::zeroed(32);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned int length = 0;
        EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
        EVP_DigestUpdate(ctx, value.data(), value.size());
        EVP_DigestUpdate(ctx, salt.data(), salt.size());
        EVP_DigestFinal_ex(ctx, key.data(), &length);
        EVP_MD_CTX_free(ctx);
        return key;
    };
    return options;
}

} // namespace

class TestSoftwareUserKey : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.emplace(temporaryDirectoryTemplate());
        m_clock.emplace(start);
        m_keyDir = fs::path(m_dir->path().toStdString()) / "users" / "1000";
    }

    void signsAndOpenSslVerifies()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        QCOMPARE(key->assurance(), protocol::Assurance::Software);
        QCOMPARE(key->assuranceName(), std::string_view("software"));
        const Bytes digest = digestOf("user proof");
        const Bytes signature = key->sign(digest, pin);
        QCOMPARE(signature.size(), std::size_t(64));
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, signature));
        QVERIFY(!protocol::verifyEs256(key->publicKey(), digestOf("other"), signature));
        QCOMPARE(key->publicJwk().at("kty"), "EC");
        QCOMPARE(key->thumbprint().size(), std::size_t(43));

        // Another process (a restarted vigild) opens the same key.
        const auto reopened = SoftwareUserKey::open(m_keyDir, *m_clock);
        QVERIFY(reopened->publicKey().x == key->publicKey().x);
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, reopened->sign(digest, pin)));
    }

    // 0600 in a 0700 directory; the PIN, and the private key unsealed, are nowhere in it.
    void fileIsPrivateAndSealed()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        QCOMPARE(modeOf(file), 0600u);
        QCOMPARE(modeOf(m_keyDir), 0700u);
        const std::string text = readText(file);
        QVERIFY(!contains(text, pin.view()));
        const nlohmann::json json = nlohmann::json::parse(text);
        QCOMPARE(json.at("version"), 1);
        QCOMPARE(json.at("kdf"), "scrypt");
        QCOMPARE(json.at("n"), 32768);
        QCOMPARE(json.at("cipher"), "A256GCM");
        QCOMPARE(json.at("failures"), 0);
        // A PKCS#8 DER starts with SEQUENCE; the sealed bytes are ciphertext, not that.
        const Bytes sealed = *base64UrlDecode(json.at("sealed").get<std::string>());
        QVERIFY(sealed.size() > 100);
        QVERIFY(!(sealed[0] == 0x30 && sealed[1] == 0x81));
    }

    void wrongPinIsCountedAndARightOneResets()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        const Failure failure = failureOf([&] { key->sign(digestOf("x"), wrongPin); });
        QCOMPARE(failure.kind, UserKeyError::Kind::WrongPin);
        QCOMPARE(failure.message,
                 std::string("wrong PIN: 9 attempts left before the key is locked"));
        QCOMPARE(failure.attempts.attemptsLeft, std::optional<std::uint32_t>(9));
        QCOMPARE(readJson(file).at("failures"), 1);
        QCOMPARE(key->attempts().attemptsLeft, std::optional<std::uint32_t>(9));
        // A malformed PIN is no attempt at the real one: not counted.
        QCOMPARE(
            failureOf([&] { key->sign(digestOf("x"), SecretBytes(std::string_view("123"))); }).kind,
            UserKeyError::Kind::BadPin);
        QCOMPARE(readJson(file).at("failures"), 1);
        key->sign(digestOf("x"), pin);
        QCOMPARE(readJson(file).at("failures"), 0);
        QCOMPARE(key->attempts().attemptsLeft, std::optional<std::uint32_t>(10));
    }

    // After three failures each attempt waits 2^(failures-3) s after the last; one made earlier
    // is refused without counting. After ten the key is locked, even for the right PIN.
    void delaysGrowThenTheKeyLocks()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        const auto wrong = [&] { return failureOf([&] { key->sign(digestOf("x"), wrongPin); }); };
        for (int i = 0; i < 3; ++i)
            QCOMPARE(wrong().kind, UserKeyError::Kind::WrongPin);
        QCOMPARE(key->attempts().lockedOutFor, 1s);

        std::chrono::seconds delay = 1s;
        for (std::uint32_t failures = 3; failures < 10; ++failures, delay *= 2) {
            // Too early: refused with the remaining wait, and not counted.
            m_clock->advance(delay - 500ms);
            const Failure early = failureOf([&] { key->sign(digestOf("x"), pin); });
            QCOMPARE(early.kind, UserKeyError::Kind::LockedOut);
            QCOMPARE(early.attempts.lockedOutFor, 1s); // 0.5 s rounded up
            QVERIFY2(contains(early.message, "PIN locked for 1 s more"), early.message.c_str());
            QCOMPARE(readJson(file).at("failures"), failures);
            m_clock->advance(500ms);
            const Failure failure = wrong();
            QCOMPARE(failure.kind, UserKeyError::Kind::WrongPin);
            QCOMPARE(readJson(file).at("failures"), failures + 1);
            if (failures + 1 < 10) {
                QCOMPARE(failure.attempts.lockedOutFor, delay * 2);
                QCOMPARE(failure.attempts.attemptsLeft,
                         std::optional<std::uint32_t>(10 - failures - 1));
            } else {
                QVERIFY(failure.attempts.locked);
                QVERIFY2(contains(failure.message, "the key is now locked"),
                         failure.message.c_str());
            }
        }
        m_clock->advance(24h * 365);
        const Failure locked = failureOf([&] { key->sign(digestOf("x"), pin); });
        QCOMPARE(locked.kind, UserKeyError::Kind::Locked);
        QVERIFY(locked.attempts.locked);
        QVERIFY(contains(locked.message, "a recovery code or a new invite replaces it"));
        QVERIFY(key->attempts().locked);
        QCOMPARE(failureOf([&] { key->changePin(pin, wrongPin); }).kind,
                 UserKeyError::Kind::Locked);
        QCOMPARE(readJson(file).at("failures"), 10);
    }

    // The right PIN, once its wait is over, resets the count and the delays.
    void rightPinAfterADelayResets()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        for (int i = 0; i < 4; ++i) {
            m_clock->advance(10s);
            failureOf([&] { key->sign(digestOf("x"), wrongPin); });
        }
        QCOMPARE(key->attempts().lockedOutFor, 2s);
        m_clock->advance(2s);
        key->sign(digestOf("x"), pin);
        const PinAttempts attempts = key->attempts();
        QCOMPARE(attempts.lockedOutFor, 0s);
        QCOMPARE(attempts.attemptsLeft, std::optional<std::uint32_t>(10));
    }

    // A clock set back does not stretch the wait past one delay.
    void clockSetBackWaitsOneDelayAtMost()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        for (int i = 0; i < 5; ++i) {
            m_clock->advance(60s);
            failureOf([&] { key->sign(digestOf("x"), wrongPin); });
        }
        m_clock->advance(-24h);
        QCOMPARE(key->attempts().lockedOutFor, 4s);
    }

    // The counter is on disk before the PIN is tried: seen from inside the key derivation, and
    // after a process killed there.
    void counterIsWrittenBeforeTheAttempt()
    {
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        std::vector<int> seen;
        SoftwareUserKey::Options watching;
        watching.derive = [&](const SecretBytes &value, std::span<const std::uint8_t> salt) {
            seen.push_back(readJson(file).at("failures").get<int>());
            return agent::scryptSealingKey(value, salt);
        };
        SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        const auto key = SoftwareUserKey::open(m_keyDir, *m_clock, watching);
        failureOf([&] { key->sign(digestOf("x"), wrongPin); });
        failureOf([&] { key->sign(digestOf("x"), wrongPin); });
        key->sign(digestOf("x"), pin);
        QCOMPARE(seen, (std::vector<int>{1, 2, 3}));
        QCOMPARE(readJson(file).at("failures"), 0);

        // A child tries a PIN and dies in the middle of it (vigild killed): the guess counted.
        const pid_t child = fork();
        if (child == 0) {
            SoftwareUserKey::Options dying;
            dying.derive = [](const SecretBytes &, std::span<const std::uint8_t>) -> SecretBytes {
                _exit(0);
            };
            const auto doomed = SoftwareUserKey::open(m_keyDir, *m_clock, dying);
            doomed->sign(digestOf("x"), pin);
            _exit(1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        QCOMPARE(readJson(file).at("failures"), 1);
        QCOMPARE(key->attempts().attemptsLeft, std::optional<std::uint32_t>(9));
    }

    // Attempts from several threads at once are taken one at a time: exactly three are tried
    // and counted before the delay refuses the rest, which are not counted.
    void concurrentAttemptsAreEachCounted()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        std::atomic<int> wrong = 0;
        std::atomic<int> refused = 0;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 2; ++i) {
                    const auto kind = failureOf([&] { key->sign(digestOf("x"), wrongPin); }).kind;
                    (kind == UserKeyError::Kind::WrongPin ? wrong : refused)++;
                }
            });
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(wrong.load(), 3);
        QCOMPARE(refused.load(), 5);
        QCOMPARE(readJson(m_keyDir / SoftwareUserKey::fileName).at("failures"), 3);
    }

    void changePinReseals()
    {
        const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        const std::string saltBefore = readJson(file).at("salt");
        const SecretBytes newPin(std::string_view("n3w-PIN-ünïcode"));
        QCOMPARE(failureOf([&] { key->changePin(wrongPin, newPin); }).kind,
                 UserKeyError::Kind::WrongPin);
        key->changePin(pin, newPin);
        QVERIFY(readJson(file).at("salt") != saltBefore);
        QCOMPARE(readJson(file).at("failures"), 0);
        const Bytes digest = digestOf("after");
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, key->sign(digest, newPin)));
        QCOMPARE(failureOf([&] { key->sign(digest, pin); }).kind, UserKeyError::Kind::WrongPin);
        QVERIFY(
            protocol::verifyEs256(key->publicKey(), digest,
                                  SoftwareUserKey::open(m_keyDir, *m_clock)->sign(digest, newPin)));
    }

    // Each alteration is refused with the member it concerns; none crashes or unlocks.
    void alteredFilesAreRefused_data()
    {
        QTest::addColumn<QString>("member");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("version") << "version"
                                 << "2"
                                 << "/version: unsupported version 2";
        QTest::newRow("kdf") << "kdf"
                             << "\"pbkdf2\""
                             << "/kdf: must be \"scrypt\"";
        QTest::newRow("weaker scrypt") << "n"
                                       << "1024"
                                       << "scrypt parameters must be";
        QTest::newRow("cipher") << "cipher"
                                << "\"A128GCM\""
                                << "/cipher: must be";
        QTest::newRow("short salt") << "salt"
                                    << "\"AAAA\""
                                    << "/salt";
        QTest::newRow("salt not base64url") << "salt"
                                            << "\"++++++++++++++++++++++\""
                                            << "/salt";
        QTest::newRow("nonce") << "nonce"
                               << "\"AAAAAAAA\""
                               << "/nonce";
        QTest::newRow("sealed too short") << "sealed"
                                          << "\"AAAA\""
                                          << "/sealed";
        QTest::newRow("point off the curve") << "x"
                                             << "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""
                                             << "/x";
        QTest::newRow("negative counter") << "failures"
                                          << "-1"
                                          << "/failures";
        QTest::newRow("counter as text") << "failures"
                                         << "\"0\""
                                         << "/failures";
        QTest::newRow("missing tag") << "last_attempt_ms"
                                     << ""
                                     << "/last_attempt_ms: missing";
    }

    void alteredFilesAreRefused()
    {
        QFETCH(QString, member);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        editFile(file, [&](nlohmann::json &json) {
            if (value.isEmpty())
                json.erase(member.toStdString());
            else
                json[member.toStdString()] = nlohmann::json::parse(value.toStdString());
        });
        const Failure failure =
            failureOf([&] { SoftwareUserKey::open(m_keyDir, *m_clock, fast()); });
        QCOMPARE(failure.kind, UserKeyError::Kind::Corrupt);
        QVERIFY2(contains(failure.message, expected.toStdString()), failure.message.c_str());
        QVERIFY(contains(failure.message, "enroll again with a recovery code"));
    }

    void notJsonOrTruncatedIsRefused()
    {
        SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        const std::string text = readText(file);
        for (const std::string &bad : {std::string(), text.substr(0, text.size() / 2),
                                       std::string("\x00\x01garbage", 9), std::string("[]")}) {
            std::ofstream(file, std::ios::trunc) << bad;
            QCOMPARE(failureOf([&] { SoftwareUserKey::open(m_keyDir, *m_clock, fast()); }).kind,
                     UserKeyError::Kind::Corrupt);
        }
    }

    // A public key swapped for another key's is found at the first unlock; a flipped bit in
    // the ciphertext cannot be told from a wrong PIN (GCM says only "does not verify").
    void swappedPublicKeyAndAlteredCiphertext()
    {
        const auto other = SoftwareUserKey::create(m_keyDir / "other", pin, *m_clock);
        SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        editFile(file, [&](nlohmann::json &json) {
            json["x"] = base64UrlEncode(other->publicKey().x);
            json["y"] = base64UrlEncode(other->publicKey().y);
        });
        const auto swapped = SoftwareUserKey::open(m_keyDir, *m_clock);
        const Failure failure = failureOf([&] { swapped->sign(digestOf("x"), pin); });
        QCOMPARE(failure.kind, UserKeyError::Kind::Corrupt);
        QVERIFY2(contains(failure.message, "names a public key that is not its private key's"),
                 failure.message.c_str());

        SoftwareUserKey::create(m_keyDir, pin, *m_clock);
        editFile(file, [&](nlohmann::json &json) {
            Bytes sealed = *base64UrlDecode(json["sealed"].get<std::string>());
            sealed[10] ^= 0x01;
            json["sealed"] = base64UrlEncode(sealed);
        });
        QCOMPARE(failureOf([&] {
                     SoftwareUserKey::open(m_keyDir, *m_clock)->sign(digestOf("x"), pin);
                 }).kind,
                 UserKeyError::Kind::WrongPin);
    }

    void wrongModeOrLinkIsRefused()
    {
        SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
        const fs::path file = m_keyDir / SoftwareUserKey::fileName;
        ::chmod(file.c_str(), 0644);
        const Failure failure =
            failureOf([&] { SoftwareUserKey::open(m_keyDir, *m_clock, fast()); });
        QCOMPARE(failure.kind, UserKeyError::Kind::Corrupt);
        QVERIFY2(contains(failure.message, "has mode 0644") &&
                     contains(failure.message, "chmod 600"),
                 failure.message.c_str());
        ::chmod(file.c_str(), 0600);
        fs::rename(file, m_keyDir / "elsewhere");
        fs::create_symlink(m_keyDir / "elsewhere", file);
        QVERIFY(
            contains(failureOf([&] { SoftwareUserKey::open(m_keyDir, *m_clock, fast()); }).message,
                     "is a symbolic link"));
        fs::remove(file);
        QVERIFY(
            contains(failureOf([&] { SoftwareUserKey::open(m_keyDir, *m_clock, fast()); }).message,
                     "cannot open"));
    }

    // Wrong PINs, lockouts and the lock are logged, with everything Qt logs at debug level too;
    // neither PIN is in any line or any error message.
    void pinIsInNoLogOrMessage()
    {
        QString log;
        std::string messages;
        {
            const test::LogCapture capture;
            const auto key = SoftwareUserKey::create(m_keyDir, pin, *m_clock, fast());
            for (int i = 0; i < 12; ++i) {
                messages += failureOf([&] { key->sign(digestOf("x"), wrongPin); }).message + "\n";
                m_clock->advance(1000s);
            }
            messages += failureOf([&] { key->changePin(pin, wrongPin); }).message + "\n";
            log = capture.text();
        }
        QVERIFY2(log.contains(QStringLiteral("wrong PIN, 10 in a row")), qPrintable(log));
        QVERIFY(log.contains(QStringLiteral("attempt refused")));
        for (const SecretBytes *secret : {&pin, &wrongPin}) {
            const QString text =
                QString::fromUtf8(secret->view().data(), qsizetype(secret->size()));
            QVERIFY(!log.contains(text));
            QVERIFY(!log.contains(text.left(6)));
            QVERIFY(!contains(messages, secret->view()));
        }
    }

private:
    std::optional<QTemporaryDir> m_dir;
    std::optional<test::ManualClock> m_clock;
    fs::path m_keyDir;
};

QTEST_GUILESS_MAIN(TestSoftwareUserKey)
#include "tst_softwareuserkey.moc"
