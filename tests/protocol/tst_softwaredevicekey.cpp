#include "independentpython.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/softwaredevicekey.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using namespace vigil::protocol;
using vigil::test::runPython;
using vigil::test::thrownMessage;
namespace fs = std::filesystem;

namespace {

QByteArray quoted(const fs::path &path)
{
    return "'" + QByteArray::fromStdString(path.string()) + "'";
}

QByteArray pemOf(EVP_PKEY *key)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(bio.get(), &text);
    return QByteArray(text->data, qsizetype(text->length));
}

bool writeFile(const fs::path &path, const QByteArray &content, mode_t mode)
{
    QFile file(QString::fromStdString(path.string()));
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        return false;
    file.close();
    return ::chmod(path.c_str(), mode) == 0;
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode;
}

Bytes digestOf(const QByteArray &text)
{
    Bytes digest(32);
    unsigned int size = 0;
    EVP_Digest(text.constData(), std::size_t(text.size()), digest.data(), &size, EVP_sha256(),
               nullptr);
    return digest;
}

// Restores the umask when a test ends, however it ends.
struct UmaskGuard
{
    explicit UmaskGuard(mode_t mask) : previous(::umask(mask)) {}
    ~UmaskGuard() { ::umask(previous); }
    mode_t previous;
};

} // namespace

class TestSoftwareDeviceKey : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    fs::path dir() const { return fs::path(m_dir->path().toStdString()); }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void cleanup() { m_dir.reset(); }

    // A hostile umask (0277) would leave a 0400 file and a 0500 directory if create relied on
    // the modes passed to open and mkdir.
    void createWritesExactModesAndReloads()
    {
        const fs::path state = dir() / "state";
        const fs::path path = state / "vigil" / "device-key.pem";
        std::unique_ptr<SoftwareDeviceKey> created;
        {
            UmaskGuard umask(0277);
            created = SoftwareDeviceKey::create(path);
        }
        QCOMPARE(modeOf(path), mode_t(S_IFREG | 0600));
        QCOMPARE(modeOf(state / "vigil"), mode_t(S_IFDIR | 0700));
        QCOMPARE(modeOf(state), mode_t(S_IFDIR | 0700));
        QCOMPARE(
            QDir(QString::fromStdString((state / "vigil").string()))
                .entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot),
            QStringList{QStringLiteral("device-key.pem")});

        QFile file(QString::fromStdString(path.string()));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray pem = file.readAll();
        QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"));
        QVERIFY(pem.endsWith("-----END PRIVATE KEY-----\n"));

        QCOMPARE(created->assurance(), Assurance::Software);
        QCOMPARE(QByteArray(assuranceName(created->assurance()).data()), QByteArray("software"));
        QCOMPARE(QByteArray(assuranceName(Assurance::Tpm).data()), QByteArray("tpm"));
        QVERIFY(created->path() == path);

        const auto loaded = SoftwareDeviceKey::load(path);
        QVERIFY(loaded->publicKey().x == created->publicKey().x);
        QVERIFY(loaded->publicKey().y == created->publicKey().y);
        QCOMPARE(QByteArray::fromStdString(loaded->thumbprint()),
                 QByteArray::fromStdString(created->thumbprint()));
        QCOMPARE(QByteArray::fromStdString(created->thumbprint()),
                 QByteArray::fromStdString(jwkThumbprint(created->publicKey())));
        QCOMPARE(QByteArray::fromStdString(created->publicJwk().dump()),
                 QByteArray::fromStdString(ecPublicJwk(created->publicKey()).dump()));
    }

    void createRefusesAnExistingFile()
    {
        const fs::path path = dir() / "device-key.pem";
        const std::string thumbprint = SoftwareDeviceKey::create(path)->thumbprint();
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::create(path); }),
                 "device key file " + quoted(path) +
                     " already exists; refusing to replace it (that would change the device's "
                     "identity). Load it, or remove it to enroll afresh.");
        QCOMPARE(QByteArray::fromStdString(SoftwareDeviceKey::load(path)->thumbprint()),
                 QByteArray::fromStdString(thumbprint));
        QCOMPARE(
            QDir(m_dir->path())
                .entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot),
            QStringList{QStringLiteral("device-key.pem")});
    }

    void createInAnExistingDirectoryKeepsItsMode()
    {
        const fs::path shared = dir() / "shared";
        QVERIFY(::mkdir(shared.c_str(), 0755) == 0);
        QVERIFY(::chmod(shared.c_str(), 0755) == 0);
        SoftwareDeviceKey::create(shared / "key.pem");
        QCOMPARE(modeOf(shared), mode_t(S_IFDIR | 0755));
        QCOMPARE(modeOf(shared / "key.pem"), mode_t(S_IFREG | 0600));
    }

    void createUnderAFileFails()
    {
        const fs::path file = dir() / "file";
        QVERIFY(writeFile(file, "x", 0600));
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::create(file / "key.pem"); }),
                 "cannot create the device key in " + quoted(file) + ": it is not a directory");
    }

    void loadOrCreate()
    {
        const fs::path path = dir() / "sub" / "device-key.pem";
        const std::string first = SoftwareDeviceKey::loadOrCreate(path)->thumbprint();
        QCOMPARE(modeOf(path), mode_t(S_IFREG | 0600));
        QCOMPARE(QByteArray::fromStdString(SoftwareDeviceKey::loadOrCreate(path)->thumbprint()),
                 QByteArray::fromStdString(first));
        QCOMPARE(QByteArray::fromStdString(SoftwareDeviceKey::load(path)->thumbprint()),
                 QByteArray::fromStdString(first));
    }

    void loadChecksMode_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("0600") << 0600 << true;
        QTest::newRow("0400") << 0400 << true;
        QTest::newRow("0700") << 0700 << true;
        QTest::newRow("0644") << 0644 << false;
        QTest::newRow("0640") << 0640 << false;
        QTest::newRow("0604") << 0604 << false;
        QTest::newRow("0660") << 0660 << false;
        QTest::newRow("0666") << 0666 << false;
        QTest::newRow("0610") << 0610 << false;
        QTest::newRow("0601") << 0601 << false;
        QTest::newRow("0620") << 0620 << false;
    }

    void loadChecksMode()
    {
        QFETCH(int, mode);
        QFETCH(bool, accepted);
        const fs::path path = dir() / "device-key.pem";
        const std::string thumbprint = SoftwareDeviceKey::create(path)->thumbprint();
        QVERIFY(::chmod(path.c_str(), mode_t(mode)) == 0);
        if (accepted) {
            QCOMPARE(QByteArray::fromStdString(SoftwareDeviceKey::load(path)->thumbprint()),
                     QByteArray::fromStdString(thumbprint));
            QCOMPARE(QByteArray::fromStdString(SoftwareDeviceKey::loadOrCreate(path)->thumbprint()),
                     QByteArray::fromStdString(thumbprint));
            return;
        }
        const QByteArray expected =
            "device key file " + quoted(path) + " has mode 0" + QByteArray::number(mode, 8) +
            ", which lets group or others access it; fix: chmod 600 " + quoted(path);
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(path); }), expected);
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::loadOrCreate(path); }), expected);
        // Following the advice works.
        QVERIFY(::chmod(path.c_str(), 0600) == 0);
        QCOMPARE(QByteArray::fromStdString(SoftwareDeviceKey::load(path)->thumbprint()),
                 QByteArray::fromStdString(thumbprint));
    }

    void loadRefusesSymlinks()
    {
        const fs::path real = dir() / "real.pem";
        const fs::path link = dir() / "link.pem";
        SoftwareDeviceKey::create(real);
        QVERIFY(::symlink(real.c_str(), link.c_str()) == 0);
        const QByteArray expected = "device key file " + quoted(link) +
                                    " is a symbolic link; refusing to follow it. Replace the link "
                                    "with the key file itself.";
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(link); }), expected);
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::loadOrCreate(link); }), expected);

        // A dangling link is not a missing file: loadOrCreate must not write through it.
        const fs::path dangling = dir() / "dangling.pem";
        const fs::path target = dir() / "target.pem";
        QVERIFY(::symlink(target.c_str(), dangling.c_str()) == 0);
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::loadOrCreate(dangling); }),
                 "device key file " + quoted(dangling) +
                     " is a symbolic link; refusing to follow it. Replace the link with the key "
                     "file itself.");
        QVERIFY(!fs::exists(target));
    }

    void loadRefusesOtherOwners()
    {
        if (::geteuid() != 0)
            QSKIP("giving the key file to another user needs root");
        const fs::path path = dir() / "device-key.pem";
        SoftwareDeviceKey::create(path);
        QVERIFY(::chown(path.c_str(), 65534, 65534) == 0); // nobody:nogroup
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(path); }),
                 "device key file " + quoted(path) +
                     " is owned by uid 65534, not by this process's user (uid 0); fix: chown 0 " +
                     quoted(path) + " (or remove it)");
    }

    void loadRefusesNonFiles()
    {
        const fs::path directory = dir() / "directory.pem";
        QVERIFY(::mkdir(directory.c_str(), 0700) == 0);
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(directory); }),
                 "device key file " + quoted(directory) + " is not a regular file");
        // A FIFO must be refused without blocking on open.
        const fs::path fifo = dir() / "fifo.pem";
        QVERIFY(::mkfifo(fifo.c_str(), 0600) == 0);
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(fifo); }),
                 "device key file " + quoted(fifo) + " is not a regular file");
        const fs::path missing = dir() / "missing.pem";
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(missing); }),
                 "cannot open device key file " + quoted(missing) + ": No such file or directory");
    }

    void loadRefusesOversizedFiles()
    {
        const fs::path path = dir() / "big.pem";
        QVERIFY(
            writeFile(path, QByteArray(qsizetype(SoftwareDeviceKey::maxFileSize) + 1, 'A'), 0600));
        QCOMPARE(thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(path); }),
                 "device key file " + quoted(path) +
                     " is 16385 bytes, more than the 16384 a key file can be");
    }

    void loadRefusesWhatIsNotAPrivateKey_data()
    {
        QTest::addColumn<QByteArray>("content");
        const EvpPkeyPtr p256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        BioPtr publicPem(BIO_new(BIO_s_mem()));
        PEM_write_bio_PUBKEY(publicPem.get(), p256.get());
        BUF_MEM *publicText = nullptr;
        BIO_get_mem_ptr(publicPem.get(), &publicText);
        BioPtr encryptedPem(BIO_new(BIO_s_mem()));
        char password[] = "password";
        PEM_write_bio_PKCS8PrivateKey(encryptedPem.get(), p256.get(), EVP_aes_256_cbc(), password,
                                      int(sizeof password - 1), nullptr, nullptr);
        BUF_MEM *encryptedText = nullptr;
        BIO_get_mem_ptr(encryptedPem.get(), &encryptedText);

        QTest::newRow("empty") << QByteArray();
        QTest::newRow("garbage") << QByteArray("this is not a key\n");
        QTest::newRow("PEM armour around garbage")
            << QByteArray("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        QTest::newRow("truncated PEM") << pemOf(p256.get()).left(100);
        QTest::newRow("public key only")
            << QByteArray(publicText->data, qsizetype(publicText->length));
        // Must fail rather than prompt for a password on the terminal.
        QTest::newRow("encrypted PKCS#8")
            << QByteArray(encryptedText->data, qsizetype(encryptedText->length));
    }

    void loadRefusesWhatIsNotAPrivateKey()
    {
        QFETCH(QByteArray, content);
        const fs::path path = dir() / "device-key.pem";
        QVERIFY(writeFile(path, content, 0600));
        const QByteArray message = thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(path); });
        const QByteArray prefix =
            "device key file " + quoted(path) + " does not hold an unencrypted PEM private key: ";
        QVERIFY2(message.startsWith(prefix), message.constData());
    }

    void loadRefusesOtherKeyTypes_data()
    {
        QTest::addColumn<QByteArray>("pem");
        QTest::addColumn<QByteArray>("reason");
        EvpPkeyPtr rsa(EVP_RSA_gen(2048));
        EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
        EvpPkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        QTest::newRow("RSA-2048") << pemOf(rsa.get()) << QByteArray("key is not an EC key");
        QTest::newRow("P-384") << pemOf(p384.get())
                               << QByteArray(
                                      "EC key is on curve secp384r1, expected P-256 (prime256v1)");
        QTest::newRow("Ed25519") << pemOf(ed25519.get()) << QByteArray("key is not an EC key");
    }

    void loadRefusesOtherKeyTypes()
    {
        QFETCH(QByteArray, pem);
        QFETCH(QByteArray, reason);
        QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----"));
        const fs::path path = dir() / "device-key.pem";
        QVERIFY(writeFile(path, pem, 0600));
        const QByteArray message = thrownMessage<KeyError>([&] { SoftwareDeviceKey::load(path); });
        QCOMPARE(message, "device key file " + quoted(path) +
                              " does not hold an EC P-256 private key: " + reason);
        // No key material in the message: no line of the PEM body appears in it.
        for (const QByteArray &line : pem.split('\n'))
            if (!line.isEmpty() && !line.startsWith("-----"))
                QVERIFY(!message.contains(line));
    }

    // Keys written by python cryptography, PKCS#8 and the SEC 1 form OpenSSL calls traditional,
    // load with the public point python reports; our PEM loads in python with ours.
    void pemInteroperatesWithPythonCryptography()
    {
        const char *script = R"(
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
def point(key):
    n = key.public_key().public_numbers()
    return n.x.to_bytes(32, 'big').hex() + ' ' + n.y.to_bytes(32, 'big').hex()
directory, ours = sys.argv[1], sys.argv[2]
for name, form in (('pkcs8.pem', serialization.PrivateFormat.PKCS8),
                   ('sec1.pem', serialization.PrivateFormat.TraditionalOpenSSL)):
    key = ec.generate_private_key(ec.SECP256R1())
    with open(directory + '/' + name, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, form,
                                  serialization.NoEncryption()))
    print(name, point(key))
with open(ours, 'rb') as f:
    print('ours', point(serialization.load_pem_private_key(f.read(), None)))
)";
        const fs::path ours = dir() / "ours.pem";
        const auto created = SoftwareDeviceKey::create(ours);
        QByteArray output;
        QByteArray error;
        QVERIFY2(runPython(script,
                           {QString::fromStdString(dir().string()),
                            QString::fromStdString(ours.string())},
                           {}, output, error),
                 error.constData());
        const QList<QByteArray> lines = output.trimmed().split('\n');
        QCOMPARE(lines.size(), qsizetype(3));
        for (const QByteArray &line : lines) {
            const QList<QByteArray> fields = line.split(' ');
            QCOMPARE(fields.size(), qsizetype(3));
            EcPublicKey expected{*fromHex(fields[1].toStdString()),
                                 *fromHex(fields[2].toStdString())};
            EcPublicKey actual;
            if (fields[0] == "ours") {
                actual = created->publicKey();
            } else {
                const fs::path path = dir() / fields[0].toStdString();
                QVERIFY(::chmod(path.c_str(), 0600) == 0);
                actual = SoftwareDeviceKey::load(path)->publicKey();
            }
            QVERIFY2(actual.x == expected.x && actual.y == expected.y, fields[0].constData());
        }
    }

    void signRejectsWrongDigestSizes_data()
    {
        QTest::addColumn<int>("size");
        QTest::newRow("empty") << 0;
        QTest::newRow("31") << 31;
        QTest::newRow("33") << 33;
        QTest::newRow("SHA-384 size") << 48;
    }

    void signRejectsWrongDigestSizes()
    {
        QFETCH(int, size);
        const auto key = SoftwareDeviceKey::create(dir() / "device-key.pem");
        QCOMPARE(thrownMessage<KeyError>([&] { key->sign(Bytes(std::size_t(size), 0x5a)); }),
                 "digest to sign is " + QByteArray::number(size) +
                     " bytes; ES256 signs a 32-byte SHA-256 digest");
    }

    // Our r||s signatures verify in python cryptography after its own raw->DER conversion
    // (encode_dss_signature), and with verifyEs256; altered ones fail in python.
    void signaturesVerifyIndependently()
    {
        const auto key = SoftwareDeviceKey::create(dir() / "device-key.pem");
        const EcPublicKey point = key->publicKey();
        QByteArray input = QByteArray::fromStdString(toHex(point.x) + " " + toHex(point.y)) + "\n";
        std::vector<bool> expected;
        for (int i = 0; i < 8; ++i) {
            const Bytes digest = digestOf("report " + QByteArray::number(i));
            Bytes signature = key->sign(digest);
            QCOMPARE(signature.size(), std::size_t(64));
            QVERIFY(verifyEs256(point, digest, signature));
            // ECDSA is randomised: a second signature differs and verifies too.
            const Bytes again = key->sign(digest);
            QVERIFY(again != signature);
            QVERIFY(verifyEs256(point, digest, again));
            const bool tamper = i % 2 == 1;
            if (tamper)
                signature[40] ^= 0x01;
            expected.push_back(!tamper);
            input += QByteArray::fromStdString(toHex(digest) + " " + toHex(signature)) + "\n";
        }
        const char *script = R"(
import sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
lines = sys.stdin.read().split('\n')
x, y = (int(v, 16) for v in lines[0].split())
key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
for line in lines[1:]:
    if not line:
        continue
    digest, raw = (bytes.fromhex(v) for v in line.split())
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], 'big'),
                                     int.from_bytes(raw[32:], 'big'))
    try:
        key.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        print('valid')
    except InvalidSignature:
        print('invalid')
)";
        QByteArray output;
        QByteArray error;
        QVERIFY2(runPython(script, {}, input, output, error), error.constData());
        const QList<QByteArray> verdicts = output.trimmed().split('\n');
        QCOMPARE(verdicts.size(), qsizetype(expected.size()));
        for (std::size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(verdicts[qsizetype(i)], QByteArray(expected[i] ? "valid" : "invalid"));
    }
};

QTEST_APPLESS_MAIN(TestSoftwareDeviceKey)
#include "tst_softwaredevicekey.moc"
