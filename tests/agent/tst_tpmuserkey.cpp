// TpmUserKey on swtpm: the user key in the TPM as vigild uses it, through its files. Signatures
// checked by OpenSSL, wrong PINs counted by the TPM up to its lockout (reported with the wait),
// PIN changes that retire the old file, damaged files refused, AK certification accepted by the
// verifier's check, and the PIN in no log line.
#include "app/agent/mfa/tpmuserkey.h"
#include "attestation/attestverifier.h"
#include "attestation/tpm/tpmdevicekey.h"
#include "attestation/tpm/tpmidentity.h"
#include "attestation/tpmpublic.h"
#include "logcapture.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"
#include "swtpmsimulator.h"
#include "tpm2tools.h"

#include <QtTest>
#include <fstream>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>

using namespace vigil;
using namespace std::chrono_literals;
using agent::PinAttempts;
using agent::TpmUserKey;
using agent::UserKeyError;
using attestation::Tpm;
using attestation::TpmObject;
namespace fs = std::filesystem;

namespace {

const SecretBytes pin(std::string_view("7391-kestrel"));
const SecretBytes wrongPin(std::string_view("0000-osprey"));

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

Bytes readFile(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const fs::path &path, const Bytes &contents)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char *>(contents.data()), std::streamsize(contents.size()));
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

} // namespace

class TestTpmUserKey : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<test::SwtpmSimulator>();
        m_tpm = std::make_shared<Tpm>(m_sim->tcti());
        m_tools = std::make_unique<test::Tpm2Tools>(*m_sim, test::Tpm2Tools::Flush::Never);
        setDictionaryAttackParameters(5);
    }

    void init()
    {
        m_tools->run(QStringLiteral("tpm2_dictionarylockout"), {QStringLiteral("-c")});
        m_dir.emplace();
        m_keyDir = fs::path(m_dir->path().toStdString()) / "users" / "1000";
    }

    void createSignAndReopen()
    {
        const auto key = TpmUserKey::create(m_tpm, m_keyDir, pin);
        QCOMPARE(key->assuranceName(), std::string_view("tpm"));
        for (const char *name : {TpmUserKey::publicFileName, TpmUserKey::privateFileName})
            QCOMPARE(modeOf(m_keyDir / name), 0600u);
        QCOMPARE(modeOf(m_keyDir), 0700u);
        QVERIFY(readFile(m_keyDir / TpmUserKey::publicFileName) == key->tpmPublic());

        const Bytes digest = digestOf("user proof");
        const Bytes signature = key->sign(digest, pin);
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, signature));
        // The JWK is the TPM key's point, as the verifier will compare (contract 5.9).
        const auto parsed = attestation::TpmPublic::parse(key->tpmPublic());
        QVERIFY(protocol::parseEcPublicJwk(key->publicJwk()).x ==
                Bytes(parsed.area().unique.ecc.x.buffer,
                      parsed.area().unique.ecc.x.buffer + parsed.area().unique.ecc.x.size));
        QVERIFY(!(parsed.area().objectAttributes & TPMA_OBJECT_NODA));
        QVERIFY(parsed.area().objectAttributes & TPMA_OBJECT_USERWITHAUTH);

        m_sim->restart(); // a reboot: the files are all there is
        const auto reopened = TpmUserKey::open(m_tpm, m_keyDir);
        QCOMPARE(reopened->thumbprint(), key->thumbprint());
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, reopened->sign(digest, pin)));
        QCOMPARE(m_tpm->loadedTransientObjects(), std::size_t(0));
    }

    // A wrong PIN: its own error, in the contract's words, counted by the TPM; neither PIN is
    // in the message or any log line (all categories at debug level).
    void wrongPinIsCountedAndNotLogged()
    {
        const auto key = TpmUserKey::create(m_tpm, m_keyDir, pin);
        QString log;
        Failure failure;
        {
            const test::LogCapture capture;
            failure = failureOf([&] { key->sign(digestOf("x"), wrongPin); });
            failureOf([&] { key->changePin(wrongPin, pin); });
            log = capture.text();
        }
        QCOMPARE(failure.kind, UserKeyError::Kind::WrongPin);
        QCOMPARE(failure.message,
                 std::string("wrong PIN: 4 attempts left before the TPM locks the key"));
        QCOMPARE(failure.attempts.attemptsLeft, std::optional<std::uint32_t>(4));
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 2u);
        QCOMPARE(key->attempts().attemptsLeft, std::optional<std::uint32_t>(3));
        QVERIFY2(log.contains(QStringLiteral("wrong PIN")), qPrintable(log));
        for (const SecretBytes *secret : {&pin, &wrongPin}) {
            const QString text =
                QString::fromUtf8(secret->view().data(), qsizetype(secret->size()));
            QVERIFY(!log.contains(text));
            QVERIFY(!log.contains(text.left(6)));
            QVERIFY(!contains(failure.message, secret->view()));
        }
        QCOMPARE(
            failureOf([&] { key->sign(digestOf("x"), SecretBytes(std::string_view("1"))); }).kind,
            UserKeyError::Kind::BadPin);
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 2u); // not a TPM attempt
    }

    // Failing until the TPM locks out: the last wrong PIN says no attempt is left, the next try
    // (even with the right PIN) is LockedOut with the TPM's interval as the wait.
    void lockoutIsReachedAndReported()
    {
        setDictionaryAttackParameters(3);
        const auto key = TpmUserKey::create(m_tpm, m_keyDir, pin);
        QCOMPARE(failureOf([&] { key->sign(digestOf("x"), wrongPin); }).attempts.attemptsLeft,
                 std::optional<std::uint32_t>(2));
        QCOMPARE(failureOf([&] { key->sign(digestOf("x"), wrongPin); }).attempts.attemptsLeft,
                 std::optional<std::uint32_t>(1));
        const Failure last = failureOf([&] { key->sign(digestOf("x"), wrongPin); });
        QCOMPARE(last.kind, UserKeyError::Kind::WrongPin);
        QCOMPARE(last.message,
                 std::string("wrong PIN: no attempt left; next attempt within 600 s"));

        const Failure locked = failureOf([&] { key->sign(digestOf("x"), pin); });
        QCOMPARE(locked.kind, UserKeyError::Kind::LockedOut);
        QCOMPARE(locked.attempts.lockedOutFor, 600s);
        QCOMPARE(locked.attempts.attemptsLeft, std::optional<std::uint32_t>(0));
        QVERIFY2(contains(locked.message, "takes another attempt within 600 s"),
                 locked.message.c_str());
        const PinAttempts state = key->attempts();
        QCOMPARE(state.lockedOutFor, 600s);
        QVERIFY(!state.locked); // the TPM recovers on its own; nothing is lost for good

        m_tools->run(QStringLiteral("tpm2_dictionarylockout"), {QStringLiteral("-c")});
        key->sign(digestOf("x"), pin);
        setDictionaryAttackParameters(5);
    }

    // The new PIN works, the old one no longer does, and the old blob is gone from disk.
    void changePinReplacesThePrivateFile()
    {
        const auto key = TpmUserKey::create(m_tpm, m_keyDir, pin);
        const Bytes oldPrivate = readFile(m_keyDir / TpmUserKey::privateFileName);
        const SecretBytes newPin(std::string_view("another-pin-2026"));
        key->changePin(pin, newPin);
        QVERIFY(readFile(m_keyDir / TpmUserKey::privateFileName) != oldPrivate);
        QCOMPARE(modeOf(m_keyDir / TpmUserKey::privateFileName), 0600u);
        const Bytes digest = digestOf("after");
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, key->sign(digest, newPin)));
        QCOMPARE(failureOf([&] { key->sign(digest, pin); }).kind, UserKeyError::Kind::WrongPin);
        const auto reopened = TpmUserKey::open(m_tpm, m_keyDir);
        QVERIFY(protocol::verifyEs256(key->publicKey(), digest, reopened->sign(digest, newPin)));
        QCOMPARE(failureOf([&] { reopened->sign(digest, pin); }).kind,
                 UserKeyError::Kind::WrongPin);
        QCOMPARE(
            failureOf([&] { key->changePin(newPin, SecretBytes(std::string_view("x"))); }).kind,
            UserKeyError::Kind::BadPin);
    }

    // Damaged, truncated, swapped or loosely protected files: Corrupt with a message, never a
    // crash, and never a key that signs.
    void damagedFilesAreRefused()
    {
        const auto key = TpmUserKey::create(m_tpm, m_keyDir, pin);
        const fs::path publicFile = m_keyDir / TpmUserKey::publicFileName;
        const fs::path privateFile = m_keyDir / TpmUserKey::privateFileName;
        const Bytes publicArea = readFile(publicFile);
        const Bytes privateArea = readFile(privateFile);
        const auto restore = [&] {
            writeFile(publicFile, publicArea);
            writeFile(privateFile, privateArea);
        };
        const auto openFails = [&] {
            return failureOf([&] { TpmUserKey::open(m_tpm, m_keyDir); });
        };
        const auto signFails = [&] {
            return failureOf([&] { TpmUserKey::open(m_tpm, m_keyDir)->sign(digestOf("x"), pin); });
        };

        for (std::size_t keep : {std::size_t(0), std::size_t(3), publicArea.size() - 1}) {
            writeFile(publicFile,
                      Bytes(publicArea.begin(), publicArea.begin() + std::ptrdiff_t(keep)));
            const Failure failure = openFails();
            QCOMPARE(failure.kind, UserKeyError::Kind::Corrupt);
            QVERIFY2(contains(failure.message, "is corrupt"), failure.message.c_str());
        }
        restore();
        writeFile(privateFile, Bytes(privateArea.begin(), privateArea.end() - 7));
        QCOMPARE(signFails().kind, UserKeyError::Kind::Corrupt);
        Bytes flipped = privateArea;
        flipped[flipped.size() - 3] ^= 0x40;
        writeFile(privateFile, flipped);
        const Failure integrity = signFails();
        QCOMPARE(integrity.kind, UserKeyError::Kind::Corrupt);
        QVERIFY2(contains(integrity.message, "does not load into this TPM"),
                 integrity.message.c_str());

        // A public area altered to noDA: refused before the TPM sees it.
        restore();
        TPM2B_PUBLIC altered = attestation::unmarshalPublic(publicArea);
        altered.publicArea.objectAttributes |= TPMA_OBJECT_NODA;
        writeFile(publicFile, attestation::marshalPublic(altered));
        QVERIFY2(contains(openFails().message, "has noDA"), openFails().message.c_str());

        restore();
        ::chmod(privateFile.c_str(), 0640);
        QVERIFY(contains(openFails().message, "chmod 600"));
        ::chmod(privateFile.c_str(), 0600);
        fs::remove(privateFile);
        QCOMPARE(openFails().kind, UserKeyError::Kind::Corrupt);
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 0u); // none of this was a PIN attempt
    }

    // TPM2_Certify by an AK, authorized by the PIN; verifyCertify (the verifier's check)
    // accepts it with the right qualifying data and public area only.
    void certifyIsAcceptedByTheVerifier()
    {
        const auto key = TpmUserKey::create(m_tpm, m_keyDir, pin);
        TpmObject ak;
        {
            const TpmObject srk = m_tpm->createStorageRootKey();
            ak = m_tpm->loadKey(srk, m_tpm->createKey(srk, attestation::attestationKeyTemplate()));
        }
        const Bytes qualifying = digestOf("ABCD-EFGH-IJKL");
        const protocol::CertifyEvidence evidence = key->certify(ak, qualifying, pin);
        attestation::verifyCertify(evidence, ak.publicArea(), key->tpmPublic(), qualifying);
        QVERIFY_THROWS_EXCEPTION(attestation::EvidenceException,
                                 attestation::verifyCertify(evidence, ak.publicArea(),
                                                            key->tpmPublic(), digestOf("other")));
        const auto other = TpmUserKey::create(m_tpm, m_keyDir / "other", pin);
        QVERIFY_THROWS_EXCEPTION(
            attestation::EvidenceException,
            attestation::verifyCertify(evidence, ak.publicArea(), other->tpmPublic(), qualifying));
        QCOMPARE(failureOf([&] { key->certify(ak, qualifying, wrongPin); }).kind,
                 UserKeyError::Kind::WrongPin);
    }

    // swtpm has no resource manager and three object slots: a TpmIdentity holds two, a user
    // key operation needs two more (SRK and key). Leasing the device key's slot makes room for
    // signing and for certifying by the identity's AK; afterwards the device key signs again.
    void besideAnIdentityWithoutResourceManager()
    {
        const auto identity = std::make_shared<attestation::TpmIdentity>(
            m_tpm, fs::path(m_dir->path().toStdString()) / "identity");
        QVERIFY(!m_tpm->hasResourceManager());
        const Failure full = failureOf([&] { TpmUserKey::create(m_tpm, m_keyDir, pin); });
        QCOMPARE(full.kind, UserKeyError::Kind::Unavailable);
        QVERIFY2(contains(full.message, "no free TPM slots"), full.message.c_str());
        const Bytes digest = digestOf("beside the identity");
        std::unique_ptr<TpmUserKey> key;
        {
            const attestation::TpmSlotLease lease = identity->leaseDeviceKeySlot();
            QCOMPARE(m_tpm->loadedTransientObjects(), std::size_t(1));
            key = TpmUserKey::create(m_tpm, m_keyDir, pin);
            QVERIFY(protocol::verifyEs256(key->publicKey(), digest, key->sign(digest, pin)));
            const Bytes qualifying = digestOf("invite");
            attestation::verifyCertify(key->certify(identity->attestationKey(), qualifying, pin),
                                       identity->attestationKeyPublic(), key->tpmPublic(),
                                       qualifying);
        }
        QCOMPARE(failureOf([&] { key->sign(digest, pin); }).kind, UserKeyError::Kind::Unavailable);
        QCOMPARE(m_tpm->loadedTransientObjects(), std::size_t(2));
        const attestation::TpmDeviceKey deviceKey(identity);
        QVERIFY(protocol::verifyEs256(deviceKey.publicKey(), digest,
                                      identity->signWithDeviceKey(digest)));
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 0u);
    }

    void cleanupTestCase()
    {
        m_tools.reset();
        m_tpm.reset();
        m_sim.reset();
    }

private:
    void setDictionaryAttackParameters(int maxTries)
    {
        m_tools->run(QStringLiteral("tpm2_dictionarylockout"),
                     {QStringLiteral("-s"), QStringLiteral("-n"), QString::number(maxTries),
                      QStringLiteral("-t"), QStringLiteral("600"), QStringLiteral("-l"),
                      QStringLiteral("600")});
    }

    std::unique_ptr<test::SwtpmSimulator> m_sim;
    std::shared_ptr<Tpm> m_tpm;
    std::unique_ptr<test::Tpm2Tools> m_tools;
    std::optional<QTemporaryDir> m_dir;
    fs::path m_keyDir;
};

QTEST_GUILESS_MAIN(TestTpmUserKey)
#include "tst_tpmuserkey.moc"
