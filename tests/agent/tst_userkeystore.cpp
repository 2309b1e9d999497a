// UserKeyStore: one 0700 directory per uid, a TPM key when there is a TPM (swtpm here) and a
// software key when there is none, a new key replacing the old of either kind, and directories
// others could read or change refused.
#include "app/agent/mfa/userkeystore.h"
#include "manualclock.h"
#include "protocol/jose/ecdsasignature.h"
#include "swtpmsimulator.h"

#include <QtTest>
#include <fstream>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using namespace std::chrono_literals;
using agent::SoftwareUserKey;
using agent::TpmUserKey;
using agent::UserKeyError;
using agent::UserKeyStore;
namespace fs = std::filesystem;

namespace {

const auto start = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 9h;
const SecretBytes pin(std::string_view("store-pin-1"));

Bytes digest()
{
    return Bytes(32, 0x42);
}

unsigned modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

std::string corruptMessage(const std::function<void()> &operation)
{
    try {
        operation();
    } catch (const UserKeyError &e) {
        return e.kind() == UserKeyError::Kind::Corrupt ? e.what() : "wrong kind";
    }
    return "no error";
}

bool contains(const std::string &text, std::string_view part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

class TestUserKeyStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<test::SwtpmSimulator>();
        m_tpm = std::make_shared<attestation::Tpm>(m_sim->tcti());
    }

    void init()
    {
        m_dir.emplace();
        m_root = fs::path(m_dir->path().toStdString()) / "var" / "users";
    }

    void softwareWithoutTpm()
    {
        UserKeyStore store(m_root, nullptr, m_clock);
        QVERIFY(!store.open(1000));
        QVERIFY(!store.hasKey(1000));
        const auto key = store.create(1000, pin);
        QCOMPARE(key->assuranceName(), std::string_view("software"));
        QCOMPARE(store.directoryOf(1000), m_root / "1000");
        QCOMPARE(modeOf(m_root), 0700u);
        QCOMPARE(modeOf(m_root / "1000"), 0700u);
        QVERIFY(fs::exists(m_root / "1000" / SoftwareUserKey::fileName));
        QVERIFY(store.hasKey(1000));
        QVERIFY(!store.hasKey(1001));
        const auto opened = store.open(1000);
        QCOMPARE(opened->thumbprint(), key->thumbprint());
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest(), opened->sign(digest(), pin)));
        store.remove(1000);
        QVERIFY(!store.hasKey(1000));
        QVERIFY(!store.open(1000));
    }

    void tpmWithTpm()
    {
        UserKeyStore store(m_root, m_tpm, m_clock);
        const auto key = store.create(1000, pin);
        QCOMPARE(key->assurance(), protocol::Assurance::Tpm);
        QVERIFY(fs::exists(m_root / "1000" / TpmUserKey::publicFileName));
        QVERIFY(fs::exists(m_root / "1000" / TpmUserKey::privateFileName));
        const auto opened = store.open(1000);
        QCOMPARE(opened->assurance(), protocol::Assurance::Tpm);
        QVERIFY(static_cast<TpmUserKey &>(*opened).tpmPublic() ==
                static_cast<TpmUserKey &>(*key).tpmPublic());
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest(), opened->sign(digest(), pin)));
        // Several users on one device, one key each.
        const auto other = store.create(1001, pin);
        QVERIFY(other->thumbprint() != key->thumbprint());
    }

    // A new key (recovery, say) replaces the old one, whatever its kind: no stale files remain.
    void newKeyReplacesEitherKind()
    {
        UserKeyStore software(m_root, nullptr, m_clock);
        UserKeyStore tpm(m_root, m_tpm, m_clock);
        software.create(1000, pin);
        const auto tpmKey = tpm.create(1000, pin);
        QVERIFY(!fs::exists(m_root / "1000" / SoftwareUserKey::fileName));
        QCOMPARE(tpm.open(1000)->thumbprint(), tpmKey->thumbprint());
        const auto replaced = tpm.create(1000, pin);
        QVERIFY(replaced->thumbprint() != tpmKey->thumbprint());
        software.create(1000, pin);
        QVERIFY(!fs::exists(m_root / "1000" / TpmUserKey::publicFileName));
        QVERIFY(!fs::exists(m_root / "1000" / TpmUserKey::privateFileName));
        QCOMPARE(software.open(1000)->assuranceName(), std::string_view("software"));
    }

    void inconsistentStateIsRefused()
    {
        UserKeyStore software(m_root, nullptr, m_clock);
        UserKeyStore tpm(m_root, m_tpm, m_clock);
        tpm.create(1000, pin);
        QVERIFY(contains(corruptMessage([&] { software.open(1000); }),
                         "is a TPM key, and vigild has no TPM"));
        fs::copy_file(m_root / "1000" / TpmUserKey::publicFileName,
                      m_root / "1000" / SoftwareUserKey::fileName);
        QVERIFY(contains(corruptMessage([&] { tpm.open(1000); }), "holds both a TPM key"));
        fs::remove(m_root / "1000" / SoftwareUserKey::fileName);
        fs::remove(m_root / "1000" / TpmUserKey::privateFileName);
        QVERIFY(contains(corruptMessage([&] { tpm.open(1000); }), "key.priv"));
    }

    // The directory must be ours and closed to everyone else; a link in its place is refused.
    void unsafeDirectoriesAreRefused()
    {
        UserKeyStore store(m_root, nullptr, m_clock);
        store.create(1000, pin);
        const fs::path directory = m_root / "1000";
        ::chmod(directory.c_str(), 0750);
        QVERIFY(contains(corruptMessage([&] { store.open(1000); }), "chmod 700"));
        QVERIFY(contains(corruptMessage([&] { store.create(1000, pin); }), "chmod 700"));
        ::chmod(directory.c_str(), 0700);
        ::chmod(m_root.c_str(), 0777); // others could rename 1000 away and put their own there
        QVERIFY(contains(corruptMessage([&] { store.open(1000); }), "chmod go-w"));
        ::chmod(m_root.c_str(), 0700);

        fs::rename(directory, m_root / "real");
        fs::create_directory_symlink(m_root / "real", directory);
        QVERIFY(contains(corruptMessage([&] { store.open(1000); }), "symbolic link is refused"));
        fs::remove(directory);
        fs::rename(m_root / "real", directory);
        QVERIFY(store.open(1000));

        if (::geteuid() != 0)
            return; // chown to another user needs root; the mode checks above ran anyway
        QVERIFY(::chown(directory.c_str(), 65534, 65534) == 0);
        QVERIFY(contains(corruptMessage([&] { store.open(1000); }), "owned by uid 65534"));
        QVERIFY(::chown(directory.c_str(), 0, 0) == 0);
    }

    void cleanupTestCase()
    {
        m_tpm.reset();
        m_sim.reset();
    }

private:
    test::ManualClock m_clock{start};
    std::unique_ptr<test::SwtpmSimulator> m_sim;
    std::shared_ptr<attestation::Tpm> m_tpm;
    std::optional<QTemporaryDir> m_dir;
    fs::path m_root;
};

QTEST_GUILESS_MAIN(TestUserKeyStore)
#include "tst_userkeystore.moc"
