// Keys whose authValue is a PIN (Tpm::createPinKey and the operations after it) on swtpm:
// signatures checked by OpenSSL, wrong PINs counted by the TPM's dictionary-attack protection up
// to its lockout, PIN changes, corrupt blobs and TPM2_Certify checked by the verifier's code.
#include "attestation/attestverifier.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmerror.h"
#include "attestation/tpmpublic.h"
#include "attestation/userkeypublic.h"
#include "protocol/jose/ecdsasignature.h"
#include "swtpmsimulator.h"
#include "tpm2tools.h"

#include <QTest>
#include <fstream>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

using namespace vigil;
using namespace vigil::attestation;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

namespace {

const SecretBytes &pin()
{
    static const SecretBytes value(std::string_view("246810"));
    return value;
}

const SecretBytes &wrongPin()
{
    static const SecretBytes value(std::string_view("135790"));
    return value;
}

Bytes digestOf(std::string_view text)
{
    Bytes digest(32);
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
    return digest;
}

protocol::EcPublicKey pointOf(const Bytes &publicArea)
{
    const TPM2B_PUBLIC parsed = unmarshalPublic(publicArea);
    return {p256Coordinate(parsed.publicArea.unique.ecc.x, "x"),
            p256Coordinate(parsed.publicArea.unique.ecc.y, "y")};
}

struct Failure
{
    TpmError::Kind kind = TpmError::Kind::Other;
    std::string message;
};

Failure failureOf(const std::function<void()> &operation)
{
    try {
        operation();
    } catch (const TpmError &e) {
        return {e.kind(), e.what()};
    }
    return {TpmError::Kind::Other, "no error"};
}

bool contains(const std::string &text, std::string_view part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

class TestTpmPin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_tpm = std::make_unique<Tpm>(m_sim->tcti());
        m_tools = std::make_unique<Tpm2Tools>(*m_sim, Tpm2Tools::Flush::Never);
        // Five tries; a failure is forgotten after 600 s, far longer than the suite runs.
        setDictionaryAttackParameters(5);
    }

    // Every test starts with the counter at zero, as tests must not depend on their order.
    void init()
    {
        m_tools->run(QStringLiteral("tpm2_dictionarylockout"), {QStringLiteral("-c")});
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 0u);
    }

    void signsAndOpenSslVerifies()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
        const TpmObject key = m_tpm->loadKey(srk, blobs);
        const Bytes digest = digestOf("a user proof");
        const Bytes signature = m_tpm->signWithPin(key, pin(), srk, digest);
        QCOMPARE(signature.size(), std::size_t(64));
        QVERIFY(protocol::verifyEs256(pointOf(blobs.publicArea), digest, signature));
        QVERIFY(!protocol::verifyEs256(pointOf(blobs.publicArea), digestOf("other"), signature));
        // ECDSA is randomized: a second signature differs and verifies too.
        const Bytes again = m_tpm->signWithPin(key, pin(), srk, digest);
        QVERIFY(again != signature);
        QVERIFY(protocol::verifyEs256(pointOf(blobs.publicArea), digest, again));
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 0u);
    }

    // The attributes the verifier insists on (contract 5.9), read back from what the TPM made.
    void publicAreaIsDictionaryAttackProtected()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
        const TpmPublic parsed = TpmPublic::parse(blobs.publicArea);
        const TPMA_OBJECT attributes = parsed.area().objectAttributes;
        QVERIFY(!(attributes & TPMA_OBJECT_NODA));
        QVERIFY(attributes & TPMA_OBJECT_USERWITHAUTH);
        QVERIFY(attributes & TPMA_OBJECT_SIGN_ENCRYPT);
        QVERIFY(attributes & TPMA_OBJECT_FIXEDTPM);
        QVERIFY(attributes & TPMA_OBJECT_FIXEDPARENT);
        QVERIFY(attributes & TPMA_OBJECT_SENSITIVEDATAORIGIN);
        QVERIFY(!(attributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)));
        QCOMPARE(parsed.area().parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
        QCOMPARE(userKeyPublicProblem(unmarshalPublic(blobs.publicArea).publicArea), std::string());

        TPM2B_PUBLIC changed = unmarshalPublic(blobs.publicArea);
        changed.publicArea.objectAttributes |= TPMA_OBJECT_NODA;
        changed.publicArea.objectAttributes &= ~TPMA_OBJECT_USERWITHAUTH;
        QCOMPARE(userKeyPublicProblem(changed.publicArea),
                 std::string("lacks userWithAuth; has noDA"));
        QCOMPARE(userKeyPublicProblem(storageRootKeyTemplate().publicArea),
                 std::string("scheme is not ECDSA with SHA-256; lacks sign; has noDA, "
                             "restricted, decrypt"));
    }

    // A wrong PIN is its own error, raises the TPM's counter by one and says how many attempts
    // are left; the PIN is in no message.
    void wrongPinIsRefusedAndCounted()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject key = m_tpm->loadKey(srk, m_tpm->createPinKey(srk, pin()));
        const Failure failure =
            failureOf([&] { m_tpm->signWithPin(key, wrongPin(), srk, digestOf("x")); });
        QCOMPARE(failure.kind, TpmError::Kind::AuthFailed);
        QVERIFY2(contains(failure.message, "wrong PIN; 4 attempts left before the TPM locks out"),
                 failure.message.c_str());
        QVERIFY(!contains(failure.message, wrongPin().view()));
        QVERIFY(!contains(failure.message, pin().view()));
        const DictionaryAttackState state = m_tpm->dictionaryAttackState();
        QCOMPARE(state.counter, 1u);
        QCOMPARE(state.maxTries, 5u);
        QCOMPARE(state.attemptsLeft(), 4u);
        QVERIFY(!state.inLockout);
        // The right PIN still works, and does not reset the TPM's counter.
        m_tpm->signWithPin(key, pin(), srk, digestOf("x"));
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 1u);
    }

    // Wrong PINs up to the TPM's limit lock the key out; even the right PIN is then refused,
    // with its own error saying how long; the lockout authorization ends it.
    void lockoutIsReachedAndReported()
    {
        setDictionaryAttackParameters(3);
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject key = m_tpm->loadKey(srk, m_tpm->createPinKey(srk, pin()));
        const Bytes digest = digestOf("x");
        QVERIFY(
            contains(failureOf([&] { m_tpm->signWithPin(key, wrongPin(), srk, digest); }).message,
                     "2 attempts left"));
        QVERIFY(
            contains(failureOf([&] { m_tpm->signWithPin(key, wrongPin(), srk, digest); }).message,
                     "1 attempt left"));
        const Failure last = failureOf([&] { m_tpm->signWithPin(key, wrongPin(), srk, digest); });
        QCOMPARE(last.kind, TpmError::Kind::AuthFailed);
        QVERIFY2(contains(last.message, "the TPM now refuses further attempts"),
                 last.message.c_str());

        const DictionaryAttackState state = m_tpm->dictionaryAttackState();
        QVERIFY(state.inLockout);
        QCOMPARE(state.attemptsLeft(), 0u);
        QCOMPARE(state.lockedOutForAtMostSeconds(), 600u);
        const Failure locked = failureOf([&] { m_tpm->signWithPin(key, pin(), srk, digest); });
        QCOMPARE(locked.kind, TpmError::Kind::Lockout);
        QVERIFY2(contains(locked.message, "takes another attempt within 600 s"),
                 locked.message.c_str());
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 3u); // a refused attempt is not counted

        m_tools->run(QStringLiteral("tpm2_dictionarylockout"), {QStringLiteral("-c")});
        QVERIFY(!m_tpm->dictionaryAttackState().inLockout);
        m_tpm->signWithPin(key, pin(), srk, digest);
        setDictionaryAttackParameters(5);
    }

    // The new PIN works on the new blob and the old PIN does not; the old blob with the old PIN
    // still does, which is why the caller must delete it.
    void changePinMakesANewBlob()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
        const SecretBytes newPin(std::string_view("a longer passphrase, 32 bytes..."));
        QCOMPARE(newPin.size(), std::size_t(32));
        TpmKeyBlobs changed{blobs.publicArea, {}};
        {
            const TpmObject key = m_tpm->loadKey(srk, blobs);
            QCOMPARE(failureOf([&] { m_tpm->changePin(key, srk, wrongPin(), newPin); }).kind,
                     TpmError::Kind::AuthFailed);
            changed.privateArea = m_tpm->changePin(key, srk, pin(), newPin);
        }
        QVERIFY(changed.privateArea != blobs.privateArea);
        const Bytes digest = digestOf("after the change");
        {
            const TpmObject key = m_tpm->loadKey(srk, changed);
            QVERIFY(protocol::verifyEs256(pointOf(changed.publicArea), digest,
                                          m_tpm->signWithPin(key, newPin, srk, digest)));
            QCOMPARE(failureOf([&] { m_tpm->signWithPin(key, pin(), srk, digest); }).kind,
                     TpmError::Kind::AuthFailed);
        }
        const TpmObject old = m_tpm->loadKey(srk, blobs);
        m_tpm->signWithPin(old, pin(), srk, digest);
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 2u);
    }

    void pinSizeIsChecked()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        for (const std::string_view text :
             {std::string_view("12345"), std::string_view("123456789012345678901234567890123")}) {
            const SecretBytes bad(text);
            const Failure failure = failureOf([&] { m_tpm->createPinKey(srk, bad); });
            QCOMPARE(failure.kind, TpmError::Kind::Other);
            QCOMPARE(failure.message, std::string("a PIN must be 6 to 32 bytes long"));
        }
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 0u);
    }

    // tss2 writes secrets derived from the PIN into its debug and trace log: with either asked
    // for, nothing that carries a PIN runs.
    void verboseTss2LogRefusesPins()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
        const TpmObject key = m_tpm->loadKey(srk, blobs);
        for (const char *setting : {"esys+trace", "all+NONE,esys_crypto+DEBUG"}) {
            qputenv("TSS2_LOG", setting);
            const Failure failure =
                failureOf([&] { m_tpm->signWithPin(key, pin(), srk, Bytes(32)); });
            const Failure create = failureOf([&] { m_tpm->createPinKey(srk, pin()); });
            qputenv("TSS2_LOG", "all+NONE");
            QVERIFY2(contains(failure.message, "refusing to use a PIN while TSS2_LOG"),
                     failure.message.c_str());
            QCOMPARE(create.message, failure.message);
        }
        qputenv("TSS2_LOG", "all+error");
        const Bytes digest = digestOf("quiet enough");
        const Bytes signature = m_tpm->signWithPin(key, pin(), srk, digest);
        qputenv("TSS2_LOG", "all+NONE");
        QVERIFY(protocol::verifyEs256(pointOf(blobs.publicArea), digest, signature));
    }

    // Truncated or altered blobs are errors with a message, never a crash or a key that works.
    void corruptBlobsAreRefused()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
        const auto loadFails = [&](const TpmKeyBlobs &bad) {
            return failureOf([&] { m_tpm->loadKey(srk, bad); });
        };
        for (std::size_t keep : {std::size_t(0), std::size_t(1), blobs.publicArea.size() / 2,
                                 blobs.publicArea.size() - 1}) {
            const TpmKeyBlobs truncated{
                Bytes(blobs.publicArea.begin(), blobs.publicArea.begin() + std::ptrdiff_t(keep)),
                blobs.privateArea};
            const Failure failure = loadFails(truncated);
            QCOMPARE(failure.kind, TpmError::Kind::BadState);
            QVERIFY2(contains(failure.message, "TPM2B_PUBLIC is malformed"),
                     failure.message.c_str());
        }
        const TpmKeyBlobs shortPrivate{
            blobs.publicArea, Bytes(blobs.privateArea.begin(), blobs.privateArea.end() - 1)};
        QCOMPARE(loadFails(shortPrivate).kind, TpmError::Kind::BadState);

        // A flipped bit in the encrypted private part fails the TPM's integrity check.
        TpmKeyBlobs flipped = blobs;
        flipped.privateArea[flipped.privateArea.size() - 5] ^= 0x01;
        const Failure integrity = loadFails(flipped);
        QVERIFY2(integrity.message.starts_with("load key: "), integrity.message.c_str());
        // Another key's public area with this private part: the TPM sees they do not belong.
        const TpmKeyBlobs other = m_tpm->createPinKey(srk, pin());
        QVERIFY(!loadFails(TpmKeyBlobs{other.publicArea, blobs.privateArea}).message.empty());
        QVERIFY(loadFails(TpmKeyBlobs{other.publicArea, blobs.privateArea}).message != "no error");
    }

    // The device's AK certifies the user key (the PIN authorizes: Certify uses the key), and
    // the verifier's verifyCertify accepts the result with the right qualifying data only.
    void certifyVerifiesWithTheVerifiersCheck()
    {
        TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject ak = m_tpm->loadKey(srk, m_tpm->createKey(srk, attestationKeyTemplate()));
        const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
        const TpmObject key = m_tpm->loadKey(srk, blobs);
        const Bytes qualifying = digestOf("invite code");
        const protocol::CertifyEvidence evidence =
            m_tpm->certifyWithPin(key, pin(), srk, ak, qualifying);
        verifyCertify(evidence, ak.publicArea(), blobs.publicArea, qualifying);
        QVERIFY_THROWS_EXCEPTION(
            EvidenceException,
            verifyCertify(evidence, ak.publicArea(), blobs.publicArea, digestOf("another code")));
        // Without the PIN (password session with an empty value) the TPM refuses, and counts.
        QCOMPARE(failureOf([&] { m_tpm->certify(key, ak, qualifying); }).kind,
                 TpmError::Kind::AuthFailed);
        QCOMPARE(
            failureOf([&] { m_tpm->certifyWithPin(key, wrongPin(), srk, ak, qualifying); }).kind,
            TpmError::Kind::AuthFailed);
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 2u);
    }

    // Sessions and objects are flushed after every operation, failed ones included (swtpm has
    // no resource manager: a leaked session would make the fourth StartAuthSession fail).
    void nothingLeaks()
    {
        const std::size_t before = m_tpm->loadedTransientObjects();
        {
            const TpmObject srk = m_tpm->createStorageRootKey();
            const TpmKeyBlobs blobs = m_tpm->createPinKey(srk, pin());
            for (int i = 0; i < 20; ++i) {
                const TpmObject key = m_tpm->loadKey(srk, blobs);
                m_tpm->signWithPin(key, pin(), srk, digestOf("x"));
                if (i % 5 == 0)
                    failureOf([&] { m_tpm->signWithPin(key, wrongPin(), srk, digestOf("x")); });
            }
        }
        QCOMPARE(m_tpm->loadedTransientObjects(), before);
        QCOMPARE(m_tpm->dictionaryAttackState().counter, 4u);
    }

    // What crosses the bus, recorded by tss2's pcap TCTI between ESYS and swtpm: the PIN is in
    // none of the commands that create, use, re-key or certify the key. The digest that was
    // signed is there, so the capture does record the traffic.
    void pinNeverCrossesTheBus()
    {
        const auto capture = m_sim->scratchDirectory() / "bus.pcap";
        std::filesystem::remove(capture);
        qputenv("TCTI_PCAP_FILE", QByteArray::fromStdString(capture.string()));
        const SecretBytes busPin(std::string_view("pin-that-must-not-leak"));
        const SecretBytes busNewPin(std::string_view("the-new-pin-must-not-leak"));
        const Bytes digest = digestOf("visible digest");
        {
            Tpm tapped("pcap:" + m_sim->tcti());
            TpmObject srk = tapped.createStorageRootKey();
            const TpmObject ak =
                tapped.loadKey(srk, tapped.createKey(srk, attestationKeyTemplate()));
            const TpmKeyBlobs blobs = tapped.createPinKey(srk, busPin);
            const TpmObject key = tapped.loadKey(srk, blobs);
            tapped.signWithPin(key, busPin, srk, digest);
            tapped.certifyWithPin(key, busPin, srk, ak, digestOf("invite"));
            failureOf([&] { tapped.signWithPin(key, busNewPin, srk, digest); });
            tapped.changePin(key, srk, busPin, busNewPin);
        }
        qunsetenv("TCTI_PCAP_FILE");
        std::ifstream in(capture, std::ios::binary);
        const std::string bus((std::istreambuf_iterator<char>(in)), {});
        QVERIFY(bus.size() > 1000);
        QVERIFY(contains(
            bus, std::string_view(reinterpret_cast<const char *>(digest.data()), digest.size())));
        QVERIFY(!contains(bus, busPin.view()));
        QVERIFY(!contains(bus, busNewPin.view()));
        QVERIFY(!contains(bus, busPin.view().substr(0, 8)));
    }

    // A leased slot: the object leaves the TPM and comes back under a new handle, usable as
    // before; moving the lease moves the duty to restore it.
    void slotLeaseTakesAnObjectOutAndBack()
    {
        const std::size_t before = m_tpm->loadedTransientObjects();
        TpmObject srk = m_tpm->createStorageRootKey();
        TpmObject key = m_tpm->loadKey(srk, m_tpm->createKey(srk, signingKeyTemplate()));
        srk = TpmObject();
        const ESYS_TR handle = key.handle();
        {
            TpmSlotLease lease = m_tpm->leaseSlotOf(key);
            QVERIFY(!key);
            QCOMPARE(m_tpm->loadedTransientObjects(), before);
            TpmSlotLease moved = std::move(lease);
            lease = TpmSlotLease(); // restores nothing: the duty moved
            QVERIFY(!key);
        }
        QVERIFY(key);
        QVERIFY(key.handle() != handle);
        QCOMPARE(m_tpm->loadedTransientObjects(), before + 1);
        const Bytes digest = digestOf("back");
        QVERIFY(protocol::verifyEs256(pointOf(key.publicArea()), digest, m_tpm->sign(key, digest)));
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

    std::unique_ptr<SwtpmSimulator> m_sim;
    std::unique_ptr<Tpm> m_tpm;
    std::unique_ptr<Tpm2Tools> m_tools;
};

QTEST_APPLESS_MAIN(TestTpmPin)
#include "tst_tpmpin.moc"
