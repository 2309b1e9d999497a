// TlsCredentials::load on real files: a data directory's pair, a chain with an intermediate, and
// each way a file can be unusable, with the message that names it.
#include "core/certificatefingerprint.h"
#include "independentpython.h"
#include "programrun.h"
#include "server/admin/datadirectory.h"
#include "server/tls/tlscredentials.h"

#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <openssl/err.h>
#include <openssl/x509.h>

using namespace vigil::server;
using vigil::test::runProgram;
using vigil::test::thrownMessage;
namespace fs = std::filesystem;

namespace {

void concatenate(const fs::path &to, std::initializer_list<fs::path> from, const std::string &tail)
{
    std::ofstream out(to, std::ios::trunc);
    for (const auto &file : from)
        out << std::ifstream(file).rdbuf();
    out << tail;
}

} // namespace

class TestTlsCredentials : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_data = path("verifier");
        DataDirectory::initialise(m_data, {"127.0.0.1"}, std::chrono::system_clock::now());
        m_certificate = m_data / DataDirectory::tlsCertificateName;
        m_key = m_data / DataDirectory::tlsKeyName;
    }

    void loadsADataDirectorysPair()
    {
        const auto credentials = TlsCredentials::load(m_certificate, m_key);
        QVERIFY(credentials && credentials->certificate());
        QCOMPARE(vigil::certificateFingerprint(credentials->certificate()),
                 certificateFingerprint(m_certificate));
    }

    // An error some earlier call left on this thread must not become the reason given.
    void aStaleOpenSslErrorIsNotReported()
    {
        ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
        const QByteArray message = thrownMessage<std::runtime_error>(
            [&] { TlsCredentials::load(path("missing.pem"), m_key); });
        QVERIFY2(!message.contains("already in hash table"), message);
    }

    void aMissingCertificateFileIsNamed()
    {
        const fs::path missing = path("missing.pem");
        const QByteArray message =
            thrownMessage<std::runtime_error>([&] { TlsCredentials::load(missing, m_key); });
        QVERIFY2(message.startsWith(QByteArray::fromStdString("cannot load the TLS certificate " +
                                                              missing.string() + ": ")),
                 message);
    }

    void aMissingKeyFileIsNamed()
    {
        const fs::path missing = path("missing-key.pem");
        const QByteArray message = thrownMessage<std::runtime_error>(
            [&] { TlsCredentials::load(m_certificate, missing); });
        QVERIFY2(message.startsWith(QByteArray::fromStdString("cannot load the TLS key " +
                                                              missing.string() + ": ")),
                 message);
    }

    void aKeyOfAnotherCertificateIsRefused()
    {
        const fs::path caKey = m_data / DataDirectory::caKeyName;
        QCOMPARE(thrownMessage<std::runtime_error>(
                     [&] { TlsCredentials::load(m_certificate, caKey); }),
                 QByteArray::fromStdString("the TLS key " + caKey.string() + " does not belong to " +
                                           m_certificate.string()));
    }

    void aChainWithAnIntermediateLoads()
    {
        const fs::path chain = path("chain.pem");
        concatenate(chain, {m_certificate, m_data / DataDirectory::caCertificateName}, "");
        QVERIFY(TlsCredentials::load(chain, m_key));
    }

    // A broken block after good ones is a damaged file, not the end of the chain.
    void trailingGarbageIsRefused()
    {
        const fs::path file = path("trailing.pem");
        concatenate(file, {m_certificate},
                    "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
        const QByteArray message =
            thrownMessage<std::runtime_error>([&] { TlsCredentials::load(file, m_key); });
        QVERIFY2(message.startsWith(QByteArray::fromStdString("cannot load the TLS certificate " +
                                                              file.string() + ": ")),
                 message);
    }

    // X509_check_private_key accepts an RSA-512 pair; every handshake would then fail at any
    // security level above 0. Refused at load, with OpenSSL's reason.
    void aKeyOpenSslWouldNotPresentIsRefused()
    {
        const fs::path certificate = path("weak.pem");
        const fs::path key = path("weak-key.pem");
        const auto made = runProgram(
            QStringLiteral("openssl"),
            {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
             QStringLiteral("rsa:512"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
             QString::fromStdString(key.string()), QStringLiteral("-out"),
             QString::fromStdString(certificate.string()), QStringLiteral("-subj"),
             QStringLiteral("/CN=weak"), QStringLiteral("-days"), QStringLiteral("1")});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const QByteArray message =
            thrownMessage<std::runtime_error>([&] { TlsCredentials::load(certificate, key); });
        QVERIFY2(message.startsWith(
                     QByteArray::fromStdString("OpenSSL refuses to present the TLS certificate " +
                                               certificate.string() + " with its key: ")),
                 message);
        QVERIFY2(message.contains("too small"), message);
    }

private:
    fs::path path(const char *name) const { return fs::path(m_dir.path().toStdString()) / name; }

    QTemporaryDir m_dir;
    fs::path m_data;
    fs::path m_certificate;
    fs::path m_key;
};

QTEST_GUILESS_MAIN(TestTlsCredentials)
#include "tst_tlscredentials.moc"
