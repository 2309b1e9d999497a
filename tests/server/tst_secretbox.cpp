// SecretBox: AES-256-GCM sealing at rest, checked against Python's cryptography, every kind of
// tampering refused, and the key file's rules.
#include "independentpython.h"
#include "server/mfa/secretbox.h"

#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <sys/stat.h>

using vigil::Bytes;
using namespace vigil::server;
using vigil::test::runPython;
using vigil::test::thrownMessage;
namespace fs = std::filesystem;

namespace {

Bytes key(std::uint8_t fill)
{
    return Bytes(SecretBox::keySize, fill);
}

QByteArray hex(const Bytes &bytes)
{
    return QByteArray::fromStdString(vigil::toHex(bytes));
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

Bytes readAll(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

const QByteArray tampered = "sealed secret does not open: it was changed, belongs to another "
                            "user, or was sealed under another key";

} // namespace

class TestSecretBox : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sealsAndOpens()
    {
        const SecretBox box(key(7));
        const Bytes secret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        const Bytes sealed = box.seal(secret, "user-1");
        QCOMPARE(sealed.size(), secret.size() + 29);
        QCOMPARE(int(sealed[0]), 1);
        QCOMPARE(box.open(sealed, "user-1"), secret);
        // A fresh nonce each time: the same secret never seals the same way twice.
        QVERIFY(box.seal(secret, "user-1") != sealed);
        // A copy of the box holds the same key.
        const SecretBox copy = box;
        QCOMPARE(copy.open(sealed, "user-1"), secret);
        QCOMPARE(box.open(box.seal(Bytes{}, "u"), "u"), Bytes{});
    }

    // Python's AESGCM opens what SecretBox seals, and the other way round.
    void agreesWithAnIndependentImplementation()
    {
        const Bytes k = key(0x42);
        const SecretBox box(k);
        const Bytes secret{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
        const Bytes sealed = box.seal(secret, "5b3c0a7e-user");
        const char *script = "import sys\n"
                             "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
                             "k, s = [bytes.fromhex(x) for x in sys.argv[1:3]]\n"
                             "aad = sys.argv[3].encode()\n"
                             "g = AESGCM(k)\n"
                             "p = g.decrypt(s[1:13], s[13:], aad)\n"
                             "n = bytes(range(12))\n"
                             "print(p.hex(), (b'\\x01' + n + g.encrypt(n, p + p, aad)).hex())\n";
        QByteArray out;
        QByteArray err;
        QVERIFY2(runPython(script,
                           {QString::fromLatin1(hex(k)), QString::fromLatin1(hex(sealed)),
                            QStringLiteral("5b3c0a7e-user")},
                           {}, out, err),
                 err.constData());
        const QList<QByteArray> fields = out.trimmed().split(' ');
        QCOMPARE(fields.size(), 2);
        QCOMPARE(fields[0], hex(secret));
        const auto theirs = vigil::fromHex(fields[1].toStdString());
        QVERIFY(theirs);
        Bytes twice = secret;
        twice.insert(twice.end(), secret.begin(), secret.end());
        QCOMPARE(box.open(*theirs, "5b3c0a7e-user"), twice);
    }

    void refusesEveryChangedByte()
    {
        const SecretBox box(key(1));
        const Bytes sealed = box.seal(Bytes{9, 8, 7}, "u1");
        for (std::size_t i = 1; i < sealed.size(); ++i) {
            Bytes changed = sealed;
            changed[i] ^= 0x01;
            QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(changed, "u1"); }), tampered);
        }
        Bytes version = sealed;
        version[0] = 2;
        QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(version, "u1"); }),
                 QByteArray("sealed secret has unknown format version 2"));
    }

    void refusesAnotherUserAnotherKeyAndTruncation()
    {
        const SecretBox box(key(1));
        const Bytes sealed = box.seal(Bytes{9, 8, 7}, "u1");
        QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(sealed, "u2"); }), tampered);
        QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(sealed, ""); }), tampered);
        QCOMPARE(thrownMessage<SecretBoxError>([&] { SecretBox(key(2)).open(sealed, "u1"); }),
                 tampered);
        // Shorter by one byte: the tag no longer matches; shorter than the overhead: refused
        // before any decryption.
        const Bytes shorter(sealed.begin(), sealed.end() - 1);
        QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(shorter, "u1"); }), tampered);
        const Bytes stub(sealed.begin(), sealed.begin() + 28);
        QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(stub, "u1"); }),
                 QByteArray("sealed secret is truncated (28 bytes)"));
        QCOMPARE(thrownMessage<SecretBoxError>([&] { box.open(Bytes{}, "u1"); }),
                 QByteArray("sealed secret is truncated (0 bytes)"));
    }

    void refusesAKeyOfTheWrongSize()
    {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, SecretBox(Bytes(31, 0)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, SecretBox(Bytes(33, 0)));
    }

    // HKDF-SHA-256 with the key as input key material, no salt and the label as info, as
    // Python's HKDF computes it.
    void derivesKeysPerLabel()
    {
        const SecretBox box(key(3));
        const Bytes first = box.deriveKey("vigil recovery codes v1");
        QCOMPARE(first.size(), std::size_t(32));
        QCOMPARE(box.deriveKey("vigil recovery codes v1"), first);
        QVERIFY(box.deriveKey("another purpose") != first);
        QVERIFY(SecretBox(key(4)).deriveKey("vigil recovery codes v1") != first);

        const char *script = "import sys\n"
                             "from cryptography.hazmat.primitives import hashes\n"
                             "from cryptography.hazmat.primitives.kdf.hkdf import HKDF\n"
                             "h = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,\n"
                             "         info=sys.argv[2].encode())\n"
                             "print(h.derive(bytes.fromhex(sys.argv[1])).hex())\n";
        QByteArray out;
        QByteArray err;
        QVERIFY2(
            runPython(script,
                      {QString::fromLatin1(hex(key(3))), QStringLiteral("vigil recovery codes v1")},
                      {}, out, err),
            err.constData());
        QCOMPARE(out.trimmed(), hex(first));
    }

    void keyFiles()
    {
        QTemporaryDir tmp;
        const fs::path path = fs::path(tmp.path().toStdString()) / "secret-box.key";
        const mode_t old = ::umask(0);
        SecretBox::createKeyFile(path);
        ::umask(old);
        QCOMPARE(modeOf(path), mode_t(0600));
        const Bytes stored = readAll(path);
        QCOMPARE(stored.size(), std::size_t(32));
        QVERIFY(stored != Bytes(32, 0));

        const Bytes sealed = SecretBox::load(path).seal(Bytes{5}, "u");
        QCOMPARE(SecretBox(stored).open(sealed, "u"), Bytes{5});
        QCOMPARE(SecretBox::loadOrCreate(path).open(sealed, "u"), Bytes{5});
        QCOMPARE(readAll(path), stored);

        // Never overwritten.
        QCOMPARE(thrownMessage<SecretBoxError>([&] { SecretBox::createKeyFile(path); }),
                 QByteArray::fromStdString("secret box key file '" + path.string() +
                                           "' exists already; it was left alone"));
        QCOMPARE(readAll(path), stored);

        const fs::path missing = fs::path(tmp.path().toStdString()) / "missing.key";
        QCOMPARE(thrownMessage<SecretBoxError>([&] { SecretBox::load(missing); }),
                 QByteArray::fromStdString(
                     "secret box key file '" + missing.string() +
                     "' is missing; the key seals the TOTP secrets in verifier.db: restore '" +
                     missing.string() +
                     "' from the data directory's backup (a new key makes every user set up "
                     "TOTP again)"));
        const Bytes created = SecretBox::loadOrCreate(missing).seal(Bytes{6}, "u");
        QCOMPARE(modeOf(missing), mode_t(0600));
        QCOMPARE(SecretBox::load(missing).open(created, "u"), Bytes{6});

        QCOMPARE(::chmod(path.c_str(), 0604), 0);
        QCOMPARE(thrownMessage<SecretBoxError>([&] { SecretBox::load(path); }),
                 QByteArray::fromStdString("secret box key file '" + path.string() +
                                           "' has mode 0604, which lets group or others access "
                                           "it; fix: chmod 600 '" +
                                           path.string() + "'"));
        // loadOrCreate does not replace a key it refuses.
        QVERIFY_THROWS_EXCEPTION(SecretBoxError, SecretBox::loadOrCreate(path));
        QCOMPARE(readAll(path), stored);
    }
};

QTEST_APPLESS_MAIN(TestSecretBox)
#include "tst_secretbox.moc"
