#include "attestation/ekcertificate.h"
#include "swtpmsimulator.h"
#include "tpm2tools.h"

#include <QTest>
#include <fstream>
#include <functional>
#include <memory>

using namespace vigil::attestation;
using vigil::Bytes;
using vigil::toBytes;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

namespace {

Bytes readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::filesystem::path &path, std::string_view text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

EkCertificateError ekError(const std::function<void()> &operation, std::string *message = nullptr)
{
    try {
        operation();
    } catch (const EkCertificateException &e) {
        if (message)
            *message = e.what();
        return e.error();
    }
    qFatal("expected an EkCertificateException");
}

// tcg-at-tpmSpecification ("2.0", level 0, revision 138) as TCG EK profile section 3.2.13 puts
// it into Subject Directory Attributes; the same bytes swtpm writes.
constexpr std::string_view tpmSpecificationAttributes =
    "3019301706056781050210310e300c0c03322e300201000202008a";

} // namespace

class TestEkCertificate : public QObject
{
    Q_OBJECT

    std::unique_ptr<SwtpmSimulator> m_sim;
    std::filesystem::path m_dir;
    Bytes m_rsaCertificate;
    Bytes m_eccCertificate;

    int run(const std::string &program, const std::vector<std::string> &argv,
            QByteArray *standardError = nullptr)
    {
        QStringList arguments;
        for (const std::string &a : argv)
            arguments << QString::fromStdString(a);
        const Tpm2Tools tools(*m_sim, Tpm2Tools::Flush::Never);
        return tools.runUnchecked(QString::fromStdString(program), arguments, nullptr,
                                  standardError);
    }

    void mustRun(const std::string &program, const std::vector<std::string> &arguments)
    {
        QByteArray standardError;
        if (run(program, arguments, &standardError) != 0)
            qFatal("%s failed: %s", program.c_str(), standardError.constData());
    }

    // An independent CA made by the openssl command line: a self-signed P-256 root.
    void makeCa(const std::string &name)
    {
        std::filesystem::create_directories(m_dir / name);
        mustRun("openssl",
                {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + "/ca.key", "-out", name + "/ca.pem", "-subj", "/CN=" + name,
                 "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign"});
    }

    // A leaf issued by CA name, valid from now for `days`, with the given extension lines.
    Bytes issueLeaf(const std::string &ca, const std::string &leaf, const std::string &extensions,
                    int days = 30)
    {
        writeFile(m_dir / (leaf + ".cnf"), "[ext]\n" + extensions);
        mustRun("openssl",
                {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", leaf + ".key", "-out", leaf + ".csr", "-subj", "/CN=" + leaf});
        mustRun("openssl", {"x509",        "-req",         "-in",         leaf + ".csr",
                            "-CA",         ca + "/ca.pem", "-CAkey",      ca + "/ca.key",
                            "-set_serial", "4660",         "-days",       std::to_string(days),
                            "-extfile",    leaf + ".cnf",  "-extensions", "ext",
                            "-outform",    "DER",          "-out",        leaf + ".der"});
        return readFile(m_dir / (leaf + ".der"));
    }

    EkTrustStore trust(const std::filesystem::path &directory)
    {
        return EkTrustStore::fromDirectory(directory);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_dir = m_sim->scratchDirectory();
        // swtpm_setup stores the RSA-2048 EK certificate at the low-range index and the ECC one
        // at 0x01c00016, the high-range P-384 index of the TCG EK Credential Profile 2.5.
        mustRun("tpm2_nvread", {"0x01c00002", "-o", "ek_rsa.der"});
        mustRun("tpm2_nvread", {"0x01c00016", "-o", "ek_ecc.der"});
        for (const std::string alg : {"rsa", "ecc", "ecc384"}) {
            mustRun("tpm2_createek",
                    {"-c", "ek_" + alg + ".ctx", "-G", alg, "-u", "ek_" + alg + ".pub"});
            mustRun("tpm2_flushcontext", {"-t"});
        }
        mustRun("tpm2_createprimary", {"-C", "o", "-G", "rsa2048", "-c", "other_rsa.ctx"});
        mustRun("tpm2_readpublic", {"-c", "other_rsa.ctx", "-o", "other_rsa.pub"});
        mustRun("tpm2_flushcontext", {"-t"});
        m_rsaCertificate = readFile(m_dir / "ek_rsa.der");
        m_eccCertificate = readFile(m_dir / "ek_ecc.der");

        const auto ca = m_sim->caDirectory();
        std::filesystem::create_directories(m_dir / "root_only");
        std::filesystem::copy_file(ca / "swtpm-localca-rootca-cert.pem",
                                   m_dir / "root_only" / "root.pem");
        std::filesystem::create_directories(m_dir / "empty");
        makeCa("other_ca");
    }

    void cleanupTestCase() { m_sim.reset(); }

    void swtpmChain_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QByteArray>("keyType");
        QTest::addColumn<QByteArray>("ekPublic");
        QTest::newRow("rsa") << QByteArray("ek_rsa.der") << QByteArray("RSA 2048")
                             << QByteArray("ek_rsa.pub");
        QTest::newRow("ecc p384") << QByteArray("ek_ecc.der") << QByteArray("EC P-384")
                                  << QByteArray("ek_ecc384.pub");
    }

    // The CA directory swtpm_setup used holds root and intermediate (and private keys, which
    // are skipped with a note).
    void swtpmChain()
    {
        QFETCH(QByteArray, file);
        QFETCH(QByteArray, keyType);
        QFETCH(QByteArray, ekPublic);
        const EkCertificate certificate =
            EkCertificate::parse(readFile(m_dir / file.toStdString()));
        const EkTrustStore store = trust(m_sim->caDirectory());
        QCOMPARE(store.certificateCount(), std::size_t(2));
        const std::vector<std::string> notes = store.notes();
        QCOMPARE(notes.size(), std::size_t(2));
        QCOMPARE(notes[0], std::string("signkey.pem: no certificate, skipped"));
        QCOMPARE(notes[1],
                 std::string("swtpm-localca-rootca-privkey.pem: no certificate, skipped"));

        const EkCertificateInfo info = verifyEkCertificate(certificate, store, {}, Clock::now());
        QCOMPARE(info.subject, std::string("CN=unknown"));
        QCOMPARE(info.issuer, std::string("CN=swtpm-localca"));
        QVERIFY(!info.serialNumber.empty());
        QCOMPARE(info.notAfterText, std::string("9999-12-31T23:59:59Z"));
        QVERIFY(info.notAfter == Clock::time_point::max()); // beyond system_clock's range
        QVERIFY(info.notBefore <= Clock::now() && info.notBefore > Clock::now() - 1h);
        QCOMPARE(info.keyType, keyType.toStdString());

        QVERIFY(ekCertificateMatchesPublic(certificate, readFile(m_dir / ekPublic.toStdString())));
        requireEkCertificateMatchesPublic(certificate, readFile(m_dir / ekPublic.toStdString()));
    }

    // Root alone in the trusted directory; the intermediate arrives with the EK certificate.
    void intermediateSuppliedSeparately()
    {
        const EkCertificate certificate = EkCertificate::parse(m_rsaCertificate);
        const EkTrustStore rootOnly = trust(m_dir / "root_only");
        QCOMPARE(rootOnly.certificateCount(), std::size_t(1));
        QVERIFY(rootOnly.notes().empty());

        const std::vector<Bytes> pem{readFile(m_sim->caDirectory() / "issuercert.pem")};
        QCOMPARE(verifyEkCertificate(certificate, rootOnly, pem, Clock::now()).issuer,
                 std::string("CN=swtpm-localca"));
        const std::vector<Bytes> der{
            EkCertificate::parse(readFile(m_sim->caDirectory() / "issuercert.pem")).der()};
        verifyEkCertificate(EkCertificate::parse(m_eccCertificate), rootOnly, der, Clock::now());

        std::string message;
        QCOMPARE(ekError([&] { verifyEkCertificate(certificate, rootOnly, {}, Clock::now()); },
                         &message),
                 EkCertificateError::UntrustedIssuer);
        QVERIFY2(message.find("unable to get local issuer certificate") != std::string::npos,
                 message.c_str());

        const std::vector<Bytes> garbage{Bytes{1, 2, 3}};
        QCOMPARE(
            ekError([&] { verifyEkCertificate(certificate, rootOnly, garbage, Clock::now()); }),
            EkCertificateError::Malformed);
    }

    void untrusted()
    {
        const EkCertificate certificate = EkCertificate::parse(m_rsaCertificate);
        QCOMPARE(ekError([&] { trust(m_dir / "empty"); }), EkCertificateError::NoTrustedCas);
        QCOMPARE(ekError([&] { trust(m_dir / "does-not-exist"); }),
                 EkCertificateError::NoTrustedCas);
        std::string message;
        QCOMPARE(ekError(
                     [&] {
                         verifyEkCertificate(certificate, trust(m_dir / "other_ca"), {},
                                             Clock::now());
                     },
                     &message),
                 EkCertificateError::UntrustedIssuer);
        QVERIFY2(message.find("CN=swtpm-localca") != std::string::npos, message.c_str());
        // The intermediate is not a trust anchor on its own (no partial chains) ...
        std::filesystem::create_directories(m_dir / "intermediate_only");
        std::filesystem::copy_file(m_sim->caDirectory() / "issuercert.pem",
                                   m_dir / "intermediate_only" / "issuer.crt",
                                   std::filesystem::copy_options::overwrite_existing);
        QCOMPARE(ekError([&] {
                     verifyEkCertificate(certificate, trust(m_dir / "intermediate_only"), {},
                                         Clock::now());
                 }),
                 EkCertificateError::UntrustedIssuer);
        // ... and a root supplied as an "intermediate" is not trusted either.
        const std::vector<Bytes> chain{
            readFile(m_sim->caDirectory() / "issuercert.pem"),
            readFile(m_sim->caDirectory() / "swtpm-localca-rootca-cert.pem")};
        QCOMPARE(ekError([&] {
                     verifyEkCertificate(certificate, trust(m_dir / "other_ca"), chain,
                                         Clock::now());
                 }),
                 EkCertificateError::UntrustedIssuer);
    }

    void validityPeriod()
    {
        const EkCertificate certificate = EkCertificate::parse(m_rsaCertificate);
        const EkTrustStore store = trust(m_sim->caDirectory());
        const EkCertificateInfo info = certificate.info();
        std::string message;
        QCOMPARE(ekError([&] { verifyEkCertificate(certificate, store, {}, info.notBefore - 1h); },
                         &message),
                 EkCertificateError::NotYetValid);
        QVERIFY2(message.find("certificate is not yet valid") != std::string::npos,
                 message.c_str());

        // swtpm's chain never expires (notAfter 9999, past system_clock's range), so expiry is
        // checked on a leaf with a one-day life from an openssl-made CA.
        const Bytes leaf = issueLeaf("other_ca", "short_lived",
                                     "basicConstraints=critical,CA:FALSE\n"
                                     "keyUsage=critical,keyEncipherment\n"
                                     "extendedKeyUsage=2.23.133.8.1\n",
                                     1);
        const EkCertificate shortLived = EkCertificate::parse(leaf);
        const EkTrustStore other = trust(m_dir / "other_ca");
        verifyEkCertificate(shortLived, other, {}, Clock::now());
        QCOMPARE(ekError([&] { verifyEkCertificate(shortLived, other, {}, Clock::now() + 48h); },
                         &message),
                 EkCertificateError::Expired);
        QVERIFY2(message.find("certificate has expired") != std::string::npos, message.c_str());
        QVERIFY(shortLived.info().notAfter > Clock::now() + 23h &&
                shortLived.info().notAfter < Clock::now() + 25h);
    }

    void badSignature()
    {
        Bytes tampered = m_rsaCertificate;
        tampered.back() ^= 0x01; // last byte of the signature value
        const EkCertificate certificate = EkCertificate::parse(tampered);
        std::string message;
        QCOMPARE(ekError(
                     [&] {
                         verifyEkCertificate(certificate, trust(m_sim->caDirectory()), {},
                                             Clock::now());
                     },
                     &message),
                 EkCertificateError::BadSignature);
        QVERIFY2(message.find("certificate signature failure") != std::string::npos,
                 message.c_str());
    }

    void extensions_data()
    {
        QTest::addColumn<QByteArray>("extensions");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<int>("error");
        const QByteArray base = "basicConstraints=critical,CA:FALSE\n"
                                "keyUsage=critical,keyEncipherment\n";
        const QByteArray eku = "extendedKeyUsage=2.23.133.8.1\n";
        QTest::newRow("ek profile") << base + eku << true << 0;
        QTest::newRow("no eku") << base << true << 0;
        QTest::newRow("critical subject directory attributes")
            << base + eku + "2.5.29.9=critical,DER:" + QByteArray(tpmSpecificationAttributes.data())
            << true << 0;
        QTest::newRow("unknown critical extension")
            << base + eku + "1.3.6.1.4.1.99999.1=critical,DER:0500" << false
            << int(EkCertificateError::Rejected);
        QTest::newRow("server eku") << base + "extendedKeyUsage=serverAuth\n"
                                    << false << int(EkCertificateError::NotEkCertificate);
    }

    void extensions()
    {
        QFETCH(QByteArray, extensions);
        QFETCH(bool, accepted);
        QFETCH(int, error);
        const std::string name =
            "leaf_" + std::to_string(std::hash<std::string>{}(extensions.toStdString()));
        const EkCertificate certificate =
            EkCertificate::parse(issueLeaf("other_ca", name, extensions.toStdString()));
        const EkTrustStore other = trust(m_dir / "other_ca");
        if (accepted) {
            QCOMPARE(verifyEkCertificate(certificate, other, {}, Clock::now()).subject,
                     "CN=" + name);
            return;
        }
        std::string message;
        QCOMPARE(int(ekError([&] { verifyEkCertificate(certificate, other, {}, Clock::now()); },
                             &message)),
                 error);
        qInfo("%s", message.c_str());
    }

    void keyMismatch()
    {
        const EkCertificate rsa = EkCertificate::parse(m_rsaCertificate);
        const EkCertificate ecc = EkCertificate::parse(m_eccCertificate);
        QVERIFY(!ekCertificateMatchesPublic(rsa, readFile(m_dir / "other_rsa.pub")));
        QVERIFY(!ekCertificateMatchesPublic(rsa, readFile(m_dir / "ek_ecc384.pub")));
        QVERIFY(!ekCertificateMatchesPublic(ecc, readFile(m_dir / "ek_rsa.pub")));
        QVERIFY(!ekCertificateMatchesPublic(ecc, readFile(m_dir / "ek_ecc.pub"))); // P-256
        std::string message;
        QCOMPARE(
            ekError([&] { requireEkCertificateMatchesPublic(ecc, readFile(m_dir / "ek_ecc.pub")); },
                    &message),
            EkCertificateError::KeyMismatch);
        QCOMPARE(message, std::string("EK certificate's key (EC P-384) is not the EK's key "
                                      "(EC P-256)"));
        QCOMPARE(ekError([&] {
                     requireEkCertificateMatchesPublic(rsa, readFile(m_dir / "other_rsa.pub"));
                 }),
                 EkCertificateError::KeyMismatch);

        Bytes truncated = readFile(m_dir / "ek_rsa.pub");
        truncated.pop_back();
        QCOMPARE(ekError([&] { ekCertificateMatchesPublic(rsa, truncated); }),
                 EkCertificateError::Malformed);
    }

    void malformed_data()
    {
        QTest::addColumn<int>("cut");
        QTest::newRow("one byte short") << 1;
        QTest::newRow("half") << -2;
        QTest::newRow("header only") << -4;
    }

    void malformed()
    {
        QFETCH(int, cut);
        const std::size_t keep = cut > 0     ? m_rsaCertificate.size() - std::size_t(cut)
                                 : cut == -2 ? m_rsaCertificate.size() / 2
                                             : 4;
        const Bytes truncated(m_rsaCertificate.begin(), m_rsaCertificate.begin() + long(keep));
        QCOMPARE(ekError([&] { EkCertificate::parse(truncated); }), EkCertificateError::Malformed);
    }

    void encodings()
    {
        QCOMPARE(ekError([&] { EkCertificate::parse(Bytes{}); }), EkCertificateError::Malformed);
        QCOMPARE(ekError([&] { EkCertificate::parse(toBytes("not a certificate")); }),
                 EkCertificateError::Malformed);
        QCOMPARE(ekError([&] { EkCertificate::parse(toBytes("-----BEGIN CERTIFICATE-----\n")); }),
                 EkCertificateError::Malformed);

        // NV padding after the DER is tolerated; other trailing bytes are not.
        for (const std::uint8_t pad : {std::uint8_t(0x00), std::uint8_t(0xff)}) {
            Bytes padded = m_rsaCertificate;
            padded.insert(padded.end(), 64, pad);
            QVERIFY(EkCertificate::parse(padded).der() == m_rsaCertificate);
        }
        Bytes trailing = m_rsaCertificate;
        trailing.push_back(0x00);
        trailing.push_back(0x01);
        QCOMPARE(ekError([&] { EkCertificate::parse(trailing); }), EkCertificateError::Malformed);

        // PEM, as `openssl x509 -inform der` writes it.
        mustRun("openssl", {"x509", "-inform", "DER", "-in", "ek_rsa.der", "-out", "ek_rsa.pem"});
        const EkCertificate fromPem = EkCertificate::parse(readFile(m_dir / "ek_rsa.pem"));
        QVERIFY(fromPem.der() == m_rsaCertificate);
        verifyEkCertificate(fromPem, trust(m_sim->caDirectory()), {}, Clock::now());

        // Two certificates are not one EK certificate.
        Bytes bundle = readFile(m_dir / "ek_rsa.pem");
        const Bytes again = bundle;
        bundle.insert(bundle.end(), again.begin(), again.end());
        QCOMPARE(ekError([&] { EkCertificate::parse(bundle); }), EkCertificateError::Malformed);
    }

    void serialNumber()
    {
        const Bytes leaf = issueLeaf("other_ca", "serial", "basicConstraints=CA:FALSE\n");
        QCOMPARE(EkCertificate::parse(leaf).info().serialNumber, std::string("1234")); // 4660
        QCOMPARE(EkCertificate::parse(leaf).info().issuer, std::string("CN=other_ca"));
    }

    void errorNames()
    {
        QCOMPARE(ekCertificateErrorName(EkCertificateError::UntrustedIssuer), "untrusted_issuer");
        QCOMPARE(ekCertificateErrorName(EkCertificateError::NoTrustedCas), "no_trusted_cas");
        QCOMPARE(ekCertificateErrorName(EkCertificateError::NotYetValid), "not_yet_valid");
        QCOMPARE(ekCertificateErrorName(EkCertificateError::KeyMismatch), "key_mismatch");
    }
};

QTEST_APPLESS_MAIN(TestEkCertificate)
#include "tst_ekcertificate.moc"
