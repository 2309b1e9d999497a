#include "httpsclient.h"
#include "independentpython.h"
#include "programrun.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/rfc3339.h"
#include "server/admin/datadirectory.h"
#include "server/mfa/secretbox.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil::server;
using vigil::test::HttpsClient;
using vigil::test::runProgram;
using vigil::test::runPython;
using vigil::test::thrownMessage;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> defaultNames = {"localhost", "127.0.0.1", "::1"};

// Certificates start at a whole second; anything finer would be lost in them anyway.
TimePoint nowSeconds()
{
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

fs::path pathOf(const QTemporaryDir &dir, const char *name)
{
    return fs::path(dir.path().toStdString()) / name;
}

QByteArray q(const std::string &text)
{
    return QByteArray::fromStdString(text);
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

QByteArray octal(mode_t mode)
{
    return QByteArray::number(uint(mode), 8).rightJustified(4, '0');
}

// "name kind mode" for each entry below dir, sorted: the whole layout in one comparable value.
QByteArrayList layoutOf(const fs::path &dir)
{
    QByteArrayList entries;
    for (const fs::directory_entry &entry : fs::recursive_directory_iterator(dir)) {
        const QByteArray kind = entry.is_symlink() ? "link" : entry.is_directory() ? "dir" : "file";
        entries << q(fs::relative(entry.path(), dir).string()) + " " + kind + " " +
                       octal(modeOf(entry.path()));
    }
    std::sort(entries.begin(), entries.end());
    return entries;
}

QByteArray readAll(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return QByteArray::fromStdString(std::string(std::istreambuf_iterator<char>(in), {}));
}

void writeText(const fs::path &path, const QByteArray &text)
{
    std::ofstream(path, std::ios::binary) << text.toStdString();
}

QString qs(const fs::path &path)
{
    return QString::fromStdString(path.string());
}

// `openssl s_server -www` on a free loopback port: answers "GET /" with a status page, one
// connection at a time. Killed with the object.
class OpenSslServer
{
public:
    OpenSslServer(const fs::path &certificate, const fs::path &key)
    {
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(QStringLiteral("openssl"),
                        {QStringLiteral("s_server"), QStringLiteral("-accept"),
                         QStringLiteral("127.0.0.1:0"), QStringLiteral("-cert"), qs(certificate),
                         QStringLiteral("-key"), qs(key), QStringLiteral("-www")});
        // It prints the port it bound once it listens.
        static const QRegularExpression accept(QStringLiteral("ACCEPT 127\\.0\\.0\\.1:(\\d+)"));
        QByteArray output;
        while (m_process.waitForReadyRead(10000)) {
            output += m_process.readAll();
            const QRegularExpressionMatch match = accept.match(QString::fromUtf8(output));
            if (match.hasMatch()) {
                m_port = match.captured(1).toInt();
                return;
            }
        }
        throw std::runtime_error("openssl s_server did not start: " + output.toStdString());
    }
    ~OpenSslServer()
    {
        m_process.kill();
        m_process.waitForFinished(5000);
    }

    std::string url(const std::string &host) const
    {
        return "https://" + host + ":" + std::to_string(m_port) + "/";
    }

private:
    QProcess m_process;
    int m_port = 0;
};

// Sets the umask for one scope.
class Umask
{
public:
    explicit Umask(mode_t mask) : m_previous(::umask(mask)) {}
    ~Umask() { ::umask(m_previous); }

private:
    mode_t m_previous;
};

// Reads both certificates and the keys with python3-cryptography and prints what a verifier's
// certificate profile is made of: every extension with its criticality, validity relative to
// the `now` given to initialise, the signatures and the key pairs.
const char *const profileScript = R"(
import datetime, re, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = sys.argv[1]
now = int(sys.argv[2])
def read(n):
    return open(d + '/' + n, 'rb').read()
ca = x509.load_pem_x509_certificate(read('ca.pem'))
tls = x509.load_pem_x509_certificate(read('tls.pem'))
def ts(t):
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())
usages = ['digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment',
          'key_agreement', 'key_cert_sign', 'crl_sign']
out = []
for label, c in (('ca', ca), ('tls', tls)):
    p = label + ' '
    out.append(p + 'version ' + c.version.name)
    out.append(p + 'subject ' + re.sub('CA [0-9a-f]{8}$', 'CA <8 hex>', c.subject.rfc4514_string()))
    out.append(p + 'issuer ' + re.sub('CA [0-9a-f]{8}$', 'CA <8 hex>', c.issuer.rfc4514_string()))
    out.append(p + 'key ' + c.public_key().curve.name)
    out.append(p + 'signature ' + c.signature_algorithm_oid._name)
    out.append(p + 'serial bits ' + str(c.serial_number.bit_length()))
    out.append(p + 'not before now' + '%+d' % (ts(c.not_valid_before) - now))
    out.append(p + 'not after now' + '%+d' % (ts(c.not_valid_after) - now))
    for e in c.extensions:
        v = e.value
        crit = ' critical' if e.critical else ''
        if isinstance(v, x509.BasicConstraints):
            out.append(p + 'basicConstraints' + crit + ' ca=' + str(v.ca) + ' pathlen=' + str(v.path_length))
        elif isinstance(v, x509.KeyUsage):
            out.append(p + 'keyUsage' + crit + ' ' + ','.join(u for u in usages if getattr(v, u)))
        elif isinstance(v, x509.ExtendedKeyUsage):
            out.append(p + 'extendedKeyUsage' + crit + ' ' + ','.join(o._name for o in v))
        elif isinstance(v, x509.SubjectAlternativeName):
            out.append(p + 'subjectAltName' + crit + ' dns=' + ','.join(v.get_values_for_type(x509.DNSName)) + ' ip=' + ','.join(str(a) for a in v.get_values_for_type(x509.IPAddress)))
        elif isinstance(v, x509.SubjectKeyIdentifier):
            ok = v.digest == x509.SubjectKeyIdentifier.from_public_key(c.public_key()).digest
            out.append(p + 'subjectKeyIdentifier' + crit + (' of its key' if ok else ' WRONG'))
        elif isinstance(v, x509.AuthorityKeyIdentifier):
            ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            out.append(p + 'authorityKeyIdentifier' + crit + (' of the CA' if v.key_identifier == ski else ' WRONG'))
        else:
            out.append(p + 'UNEXPECTED ' + e.oid.dotted_string)
for label, c in (('ca', ca), ('tls', tls)):
    ca.public_key().verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(c.signature_hash_algorithm))
    out.append(label + ' signed by the CA key')
for label, c, n in (('ca', ca, 'ca-key.pem'), ('tls', tls, 'tls-key.pem')):
    k = serialization.load_pem_private_key(read(n), None)
    same = k.public_key().public_numbers() == c.public_key().public_numbers()
    out.append(label + (' key matches its certificate' if same else ' key DIFFERS'))
token = serialization.load_pem_private_key(read('token-signing-key.pem'), None)
out.append('token key ' + token.curve.name)
print('\n'.join(out))
)";

// profileScript's lines for the directory's certificates, times relative to now; fails the test
// (and returns nothing) when the script does.
QByteArrayList profileOf(const fs::path &dir, TimePoint now)
{
    QByteArray output, error;
    const QByteArray nowText =
        QByteArray::number(qlonglong(std::chrono::system_clock::to_time_t(now)));
    if (!runPython(profileScript, {qs(dir), QString::fromLatin1(nowText)}, {}, output, error)) {
        QTest::qFail(error.constData(), __FILE__, __LINE__);
        return {};
    }
    return output.split('\n');
}

} // namespace

class TestDataDirectory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initialiseWritesExactlyTheLayout_data()
    {
        QTest::addColumn<int>("umask");
        QTest::newRow("umask 022") << 022;
        QTest::newRow("umask 077") << 077;
        QTest::newRow("umask 000") << 0;
    }

    // Modes are exact whatever the umask; missing parents are created; nothing else is left
    // behind (no temporary files).
    void initialiseWritesExactlyTheLayout()
    {
        QFETCH(int, umask);
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "parent/data");
        {
            const Umask mask(mode_t(umask & 0777));
            DataDirectory::initialise(dir, defaultNames, nowSeconds());
        }
        QCOMPARE(octal(modeOf(dir)), QByteArray("0700"));
        QCOMPARE(layoutOf(dir), (QByteArrayList{
                                    "ca-key.pem file 0600",
                                    "ca.pem file 0644",
                                    "ek-cas dir 0755",
                                    "ek-cas/README.txt file 0644",
                                    "secret-box.key file 0600",
                                    "tls-key.pem file 0600",
                                    "tls.pem file 0644",
                                    "token-signing-key.pem file 0600",
                                }));
        QVERIFY(readAll(dir / "ek-cas" / "README.txt").contains("*.pem, *.crt, *.cer or *.der"));
        // The token key is a software key file the verifier can load as it is.
        QCOMPARE(vigil::protocol::SoftwareDeviceKey::load(dir / "token-signing-key.pem")
                     ->publicKey()
                     .x.size(),
                 std::size_t(32));
    }

    void initialiseTakesOverAnEmptyDirectory()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        QCOMPARE(::mkdir(dir.c_str(), 0755), 0);
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        QCOMPARE(octal(modeOf(dir)), QByteArray("0700"));
        QCOMPARE(layoutOf(dir).size(), 8);
    }

    // A second init must never replace a CA that agents pin: the directory is left untouched.
    void initialiseRefusesANonEmptyDirectory()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const QByteArray caBefore = readAll(dir / "ca.pem");
        const QByteArrayList layoutBefore = layoutOf(dir);

        QCOMPARE(thrownMessage<DataDirectoryError>(
                     [&] { DataDirectory::initialise(dir, defaultNames, nowSeconds()); }),
                 "data directory '" + q(dir.string()) +
                     "' is not empty; refusing to initialise over it, which would replace a CA "
                     "that agents may already pin. Choose a new or empty directory (remove this "
                     "one only if nothing uses its CA).");
        QCOMPARE(readAll(dir / "ca.pem"), caBefore);
        QCOMPARE(layoutOf(dir), layoutBefore);

        // Any file at all counts.
        const fs::path other = pathOf(tmp, "other");
        fs::create_directory(other);
        writeText(other / "notes.txt", "keep me");
        QVERIFY(thrownMessage<DataDirectoryError>([&] {
                    DataDirectory::initialise(other, defaultNames, nowSeconds());
                }).contains("is not empty; refusing to initialise over it"));
        QCOMPARE(layoutOf(other),
                 QByteArrayList{"notes.txt file " + octal(modeOf(other / "notes.txt"))});
    }

    void initialiseRefusesAFile()
    {
        QTemporaryDir tmp;
        const fs::path file = pathOf(tmp, "file");
        writeText(file, "x");
        QCOMPARE(thrownMessage<DataDirectoryError>(
                     [&] { DataDirectory::initialise(file, defaultNames, nowSeconds()); }),
                 "data directory '" + q(file.string()) +
                     "' exists and is not a directory; choose another path");
    }

    void initialiseRefusesBadServerNames_data()
    {
        QTest::addColumn<QStringList>("names");
        QTest::addColumn<QByteArray>("message");
        const QByteArray neither = "' is neither an IP address nor a valid DNS name: ";
        QTest::newRow("no names") << QStringList{}
                                  << QByteArray("no server name given: the TLS certificate needs "
                                                "at least one DNS name or IP address that agents "
                                                "connect to");
        QTest::newRow("empty") << QStringList{QString()}
                               << "server name '" + neither + "it has an empty label";
        QTest::newRow("space") << QStringList{QStringLiteral("ok.example"),
                                              QStringLiteral("bad name")}
                               << "server name 'bad name" + neither +
                                      "label 'bad name' has a character other than letters, "
                                      "digits and '-'";
        QTest::newRow("underscore")
            << QStringList{QStringLiteral("under_score.example")}
            << "server name 'under_score.example" + neither +
                   "label 'under_score' has a character other than letters, digits and '-'";
        QTest::newRow("empty label")
            << QStringList{QStringLiteral("a..example")}
            << "server name 'a..example" + neither + "it has an empty label";
        QTest::newRow("trailing dot")
            << QStringList{QStringLiteral("example.org.")}
            << "server name 'example.org." + neither + "it has an empty label";
        QTest::newRow("leading hyphen")
            << QStringList{QStringLiteral("-x.example")}
            << "server name '-x.example" + neither + "label '-x' starts or ends with '-'";
        const QString longLabel(64, QLatin1Char('a'));
        QTest::newRow("64-character label")
            << QStringList{longLabel + QStringLiteral(".example")}
            << "server name '" + longLabel.toLatin1() + ".example" + neither + "label '" +
                   longLabel.toLatin1() + "' is longer than 63 characters";
        QString longName;
        for (int i = 0; i < 3; ++i)
            longName += QString(63, QLatin1Char('b')) + QLatin1Char('.');
        longName += QString(62, QLatin1Char('c'));
        QTest::newRow("254 characters")
            << QStringList{longName}
            << "server name '" + longName.toLatin1() + neither + "longer than 253 characters";
        QTest::newRow("bare wildcard") << QStringList{QStringLiteral("*.example")}
                                       << "server name '*.example" + neither +
                                              "a wildcard needs at least two labels after '*'";
        QTest::newRow("inner wildcard")
            << QStringList{QStringLiteral("a.*.example.org")}
            << "server name 'a.*.example.org" + neither +
                   "label '*' has a character other than letters, digits and '-'";
        QTest::newRow("IPv6 zone") << QStringList{QStringLiteral("fe80::1%eth0")}
                                   << "server name 'fe80::1%eth0" + neither +
                                          "label 'fe80::1%eth0' has a character other than "
                                          "letters, digits and '-'";
        QTest::newRow("URL") << QStringList{QStringLiteral("https://verifier.example")}
                             << "server name 'https://verifier.example" + neither +
                                    "label 'https://verifier' has a character other than "
                                    "letters, digits and '-'";
        QTest::newRow("config syntax")
            << QStringList{QStringLiteral("a.example,DNS:evil.example")}
            << "server name 'a.example,DNS:evil.example" + neither +
                   "label 'example,dns:evil' has a character other than letters, digits and '-'";
    }

    // Nothing is created for a refused name.
    void initialiseRefusesBadServerNames()
    {
        QFETCH(QStringList, names);
        QFETCH(QByteArray, message);
        std::vector<std::string> list;
        for (const QString &name : names)
            list.push_back(name.toStdString());
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        QCOMPARE(thrownMessage<DataDirectoryError>(
                     [&] { DataDirectory::initialise(dir, list, nowSeconds()); }),
                 message);
        QVERIFY(!fs::exists(dir));
    }

    // The profile as python3-cryptography reads it: an independent parser of every field.
    void certificatesHaveTheProfile()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        const TimePoint now = nowSeconds();
        DataDirectory::initialise(dir,
                                  {"Verifier.Example.org", "localhost", "*.agents.example.org",
                                   "127.0.0.1", "::1", "[fd00::5]", "localhost", "10.1.2.3"},
                                  now);
        const QByteArray caValidity = QByteArray::number(3652 * 86400);
        const QByteArray tlsValidity = QByteArray::number(397 * 86400);
        QCOMPARE(profileOf(dir, now),
                 (QByteArrayList{
                     "ca version v3",
                     "ca subject CN=Vigil verifier CA <8 hex>",
                     "ca issuer CN=Vigil verifier CA <8 hex>",
                     "ca key secp256r1",
                     "ca signature ecdsa-with-SHA256",
                     "ca serial bits 127",
                     "ca not before now-3600",
                     "ca not after now+" + caValidity,
                     "ca basicConstraints critical ca=True pathlen=0",
                     "ca keyUsage critical key_cert_sign,crl_sign",
                     "ca subjectKeyIdentifier of its key",
                     "tls version v3",
                     "tls subject CN=Verifier.Example.org",
                     "tls issuer CN=Vigil verifier CA <8 hex>",
                     "tls key secp256r1",
                     "tls signature ecdsa-with-SHA256",
                     "tls serial bits 127",
                     "tls not before now-3600",
                     "tls not after now+" + tlsValidity,
                     "tls basicConstraints critical ca=False pathlen=None",
                     "tls keyUsage critical digital_signature",
                     "tls extendedKeyUsage serverAuth",
                     "tls subjectKeyIdentifier of its key",
                     "tls authorityKeyIdentifier of the CA",
                     "tls subjectAltName dns=verifier.example.org,localhost,*.agents.example.org "
                     "ip=127.0.0.1,::1,fd00::5,10.1.2.3",
                     "ca signed by the CA key",
                     "tls signed by the CA key",
                     "ca key matches its certificate",
                     "tls key matches its certificate",
                     "token key secp256r1",
                     "",
                 }));
        // Each initialisation is a new CA.
        const fs::path second = pathOf(tmp, "second");
        DataDirectory::initialise(second, defaultNames, now);
        QVERIFY(readAll(second / "ca.pem") != readAll(dir / "ca.pem"));
    }

    // Renewal: the same certificate profile again, from the same CA for the same key, valid
    // from the renewal; nothing else in the directory changes.
    void renewIssuesTheCertificateAgain()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        const TimePoint then = nowSeconds() - std::chrono::days(380);
        DataDirectory::initialise(dir, {"Verifier.Example.org", "127.0.0.1", "::1"}, then);
        const DataDirectory data = DataDirectory::open(dir);
        const TlsCertificateInfo before = data.tlsCertificateInfo();
        QCOMPARE(before.names,
                 (std::vector<std::string>{"verifier.example.org", "127.0.0.1", "::1"}));
        QVERIFY(before.notAfter == then + DataDirectory::tlsValidity);
        QCOMPARE(before.fingerprint, certificateFingerprint(dir / "tls.pem"));
        const QByteArrayList layout = layoutOf(dir);
        const QByteArray oldCertificate = readAll(dir / "tls.pem");
        QByteArrayList unchanged;
        for (const char *name : {"ca.pem", "ca-key.pem", "tls-key.pem", "token-signing-key.pem"})
            unchanged << readAll(dir / name);

        const TimePoint now = nowSeconds();
        const TlsCertificateInfo renewed = data.renewTlsCertificate({}, now);
        QCOMPARE(renewed.names, before.names);
        QVERIFY(renewed.notAfter == now + DataDirectory::tlsValidity);
        QCOMPARE(renewed.fingerprint, certificateFingerprint(dir / "tls.pem"));
        QVERIFY(renewed.fingerprint != before.fingerprint);
        QVERIFY(readAll(dir / "tls.pem") != oldCertificate);
        QCOMPARE(layoutOf(dir), layout); // tls.pem 0644 again, no temporary file left
        int i = 0;
        for (const char *name : {"ca.pem", "ca-key.pem", "tls-key.pem", "token-signing-key.pem"})
            QCOMPARE(readAll(dir / name), unchanged[i++]);
        DataDirectory::open(dir); // the key still matches, the CA still signs it

        const QByteArrayList profile = profileOf(dir, now);
        const QByteArray tlsValidity = QByteArray::number(397 * 86400);
        for (const QByteArray &line : QByteArrayList{
                 "tls subject CN=verifier.example.org", "tls serial bits 127",
                 "tls not before now-3600", "tls not after now+" + tlsValidity,
                 "tls basicConstraints critical ca=False pathlen=None",
                 "tls keyUsage critical digital_signature", "tls extendedKeyUsage serverAuth",
                 "tls authorityKeyIdentifier of the CA",
                 "tls subjectAltName dns=verifier.example.org ip=127.0.0.1,::1",
                 "tls signed by the CA key", "tls key matches its certificate"})
            QVERIFY2(profile.contains(line), line.constData());

        // Other names replace the old ones.
        const TlsCertificateInfo renamed = data.renewTlsCertificate({"verifier.example.net"}, now);
        QCOMPARE(renamed.names, std::vector<std::string>{"verifier.example.net"});
        QCOMPARE(data.tlsCertificateInfo().names, renamed.names);
    }

    void renewRefusesABadNameAndWritesNothing()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const QByteArray before = readAll(dir / "tls.pem");
        const DataDirectory data = DataDirectory::open(dir);
        const QByteArray key = readAll(dir / "tls-key.pem");
        for (const auto choice : {DataDirectory::TlsKey::Keep, DataDirectory::TlsKey::New}) {
            QCOMPARE(thrownMessage<DataDirectoryError>([&] {
                         data.renewTlsCertificate({"bad_name.example"}, nowSeconds(), choice);
                     }),
                     QByteArray("server name 'bad_name.example' is neither an IP address nor a "
                                "valid DNS name: label 'bad_name' has a character other than "
                                "letters, digits and '-'"));
            QCOMPARE(readAll(dir / "tls.pem"), before);
            QCOMPARE(readAll(dir / "tls-key.pem"), key);
        }
    }

    // In the CA's last 397 days a renewed certificate ends with the CA; after it, nothing is
    // issued.
    void renewStopsAtTheCasEnd()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        const TimePoint caMade = nowSeconds() - DataDirectory::caValidity + std::chrono::days(100);
        DataDirectory::initialise(dir, defaultNames, caMade);
        const DataDirectory data = DataDirectory::open(dir);
        const TimePoint caEnd = caMade + DataDirectory::caValidity;
        QVERIFY(data.caNotAfter() == caEnd);

        const TlsCertificateInfo renewed = data.renewTlsCertificate({}, nowSeconds());
        QVERIFY(renewed.notAfter == caEnd);
        DataDirectory::open(dir);

        const QByteArray before = readAll(dir / "tls.pem");
        const QByteArray key = readAll(dir / "tls-key.pem");
        for (const auto choice : {DataDirectory::TlsKey::Keep, DataDirectory::TlsKey::New}) {
            QCOMPARE(thrownMessage<DataDirectoryError>(
                         [&] { data.renewTlsCertificate({}, caEnd, choice); }),
                     QByteArray::fromStdString(
                         "the CA certificate expired at " + vigil::protocol::formatRfc3339(caEnd) +
                         "; nothing it signs is accepted any more. Agents must pin a new CA: set "
                         "up a new data directory (vigil-verifier init) and enroll them again "
                         "with its fingerprint"));
            QCOMPARE(readAll(dir / "tls.pem"), before);
            QCOMPARE(readAll(dir / "tls-key.pem"), key);
        }
    }

    // What open() refuses in tls.pem, renewal mends: it issues for the key in tls-key.pem from
    // this directory's CA, with the names given or else those of the certificate it replaces.
    // The CA, which agents pin, and every key stay.
    void renewMendsWhatOpenRefuses_data()
    {
        QTest::addColumn<QByteArray>("damage");
        QTest::addColumn<bool>("namesGiven");
        QTest::addColumn<QByteArray>("namesFrom"); // the directory whose names it ends with
        QTest::newRow("missing, names given")
            << QByteArray("remove tls.pem") << true << QByteArray();
        QTest::newRow("not PEM, names given")
            << QByteArray("garble tls.pem") << true << QByteArray();
        QTest::newRow("certificate of another directory")
            << QByteArray("foreign tls.pem") << false << QByteArray("other");
        QTest::newRow("key of another directory")
            << QByteArray("foreign tls-key.pem") << false << QByteArray("data");
        QTest::newRow("pair of another CA")
            << QByteArray("foreign tls.pem tls-key.pem") << false << QByteArray("other");
    }

    void renewMendsWhatOpenRefuses()
    {
        QFETCH(QByteArray, damage);
        QFETCH(bool, namesGiven);
        QFETCH(QByteArray, namesFrom);
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        const fs::path other = pathOf(tmp, "other");
        DataDirectory::initialise(dir, {"verifier.example.org", "127.0.0.1"}, nowSeconds());
        DataDirectory::initialise(other, {"other.example.org"}, nowSeconds());
        const QByteArrayList words = damage.split(' ');
        if (words.at(0) == "remove") {
            fs::remove(dir / "tls.pem");
        } else if (words.at(0) == "garble") {
            writeText(dir / "tls.pem", "not a certificate\n");
        } else {
            for (qsizetype i = 1; i < words.size(); ++i)
                fs::copy_file(other / words.at(i).toStdString(), dir / words.at(i).toStdString(),
                              fs::copy_options::overwrite_existing);
        }
        const QByteArray refused =
            thrownMessage<DataDirectoryError>([&] { DataDirectory::open(dir); });
        QVERIFY2(refused.startsWith("TLS certificate file '") ||
                     refused.startsWith("the key in '") || refused.startsWith("TLS certificate '"),
                 refused);
        QByteArrayList unchanged;
        for (const char *name : {"ca.pem", "ca-key.pem", "tls-key.pem", "token-signing-key.pem"})
            unchanged << readAll(dir / name);

        const std::vector<std::string> given = {"verifier.example.net"};
        const TlsCertificateInfo renewed =
            DataDirectory::openForTlsRenewal(dir).renewTlsCertificate(
                namesGiven ? given : std::vector<std::string>{}, nowSeconds());
        const std::vector<std::string> expected =
            namesGiven            ? given
            : namesFrom == "data" ? std::vector<std::string>{"verifier.example.org", "127.0.0.1"}
                                  : std::vector<std::string>{"other.example.org"};
        QCOMPARE(renewed.names, expected);
        // open() checks the pair and the CA's signature; the file is the renewal's.
        QCOMPARE(DataDirectory::open(dir).tlsCertificateInfo().fingerprint, renewed.fingerprint);
        QVERIFY(layoutOf(dir).contains("tls.pem file 0644"));
        int i = 0;
        for (const char *name : {"ca.pem", "ca-key.pem", "tls-key.pem", "token-signing-key.pem"})
            QCOMPARE(readAll(dir / name), unchanged[i++]);
    }

    // TlsKey::New replaces the TLS key as well (0600, atomically), also one that is lost; the CA
    // and the token key stay.
    void renewWithANewKeyReplacesTheKey()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const QByteArrayList layout = layoutOf(dir);
        QByteArrayList unchanged;
        for (const char *name : {"ca.pem", "ca-key.pem", "token-signing-key.pem"})
            unchanged << readAll(dir / name);
        QByteArray key = readAll(dir / "tls-key.pem");

        const DataDirectory data = DataDirectory::open(dir);
        for (const bool lost : {false, true}) {
            if (lost) {
                fs::remove(dir / "tls-key.pem");
                // Keeping a key that is gone is not possible; the message says what is.
                QCOMPARE(
                    thrownMessage<DataDirectoryError>([&] {
                        DataDirectory::openForTlsRenewal(dir).renewTlsCertificate({}, nowSeconds());
                    }),
                    "TLS key file '" + q((dir / "tls-key.pem").string()) +
                        "' is missing; make a new TLS key and certificate from this "
                        "directory's CA, which agents pin: `vigil-verifier tls renew --data '" +
                        q(dir.string()) + "' --new-key`");
            }
            const TlsCertificateInfo renewed =
                DataDirectory::openForTlsRenewal(dir).renewTlsCertificate(
                    {}, nowSeconds(), DataDirectory::TlsKey::New);
            QCOMPARE(renewed.names, defaultNames);
            const QByteArray newKey = readAll(dir / "tls-key.pem");
            QVERIFY(newKey.startsWith("-----BEGIN PRIVATE KEY-----\n"));
            QVERIFY(newKey != key);
            key = newKey;
            QCOMPARE(layoutOf(dir), layout); // tls-key.pem 0600, tls.pem 0644, nothing left over
            // The pair belongs together and the CA signed it.
            QCOMPARE(DataDirectory::open(dir).tlsCertificateInfo().fingerprint,
                     renewed.fingerprint);
            int i = 0;
            for (const char *name : {"ca.pem", "ca-key.pem", "token-signing-key.pem"})
                QCOMPARE(readAll(dir / name), unchanged[i++]);
        }
        const QByteArrayList profile = profileOf(dir, nowSeconds());
        QVERIFY(profile.contains("tls key matches its certificate"));
    }

    // The new key is written first; should the certificate then fail, the message says that the
    // key is in place already and how to get its certificate.
    void aCertificateThatCannotFollowTheNewKeySaysSo()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const QByteArray keyBefore = readAll(dir / "tls-key.pem");
        fs::remove(dir / "tls.pem");
        fs::create_directory(dir / "tls.pem"); // no file can be renamed over it
        const QByteArray message = thrownMessage<DataDirectoryError>([&] {
            DataDirectory::openForTlsRenewal(dir).renewTlsCertificate({"localhost"}, nowSeconds(),
                                                                      DataDirectory::TlsKey::New);
        });
        QVERIFY2(message.endsWith("; the new key is in '" + q((dir / "tls-key.pem").string()) +
                                  "' already; issue a new certificate for the TLS key from this "
                                  "directory's CA, which agents pin: `vigil-verifier tls renew "
                                  "--data '" +
                                  q(dir.string()) + "' --name localhost`"),
                 message);
        QVERIFY(readAll(dir / "tls-key.pem") != keyBefore);
    }

    // openForTlsRenewal leaves the TLS pair to the renewal, which still checks a key it keeps as
    // open() does: one that group or others can read is refused, and nothing is written.
    void renewKeepingTheKeyChecksTheKeyFile()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const fs::path key = dir / "tls-key.pem";
        QCOMPARE(::chmod(key.c_str(), 0644), 0);
        const QByteArray before = readAll(dir / "tls.pem");
        QCOMPARE(thrownMessage<DataDirectoryError>([&] {
                     DataDirectory::openForTlsRenewal(dir).renewTlsCertificate({}, nowSeconds());
                 }),
                 "TLS key file '" + q(key.string()) +
                     "' has mode 0644, which lets group or others access it; fix: chmod 600 '" +
                     q(key.string()) + "'");
        QCOMPARE(readAll(dir / "tls.pem"), before);
    }

    // With no certificate to read the names from, renewal needs them, and writes nothing.
    void renewWithoutNamesNeedsAReadableCertificate()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        writeText(dir / "tls.pem", "not a certificate\n");
        const QByteArray message = thrownMessage<DataDirectoryError>(
            [&] { DataDirectory::openForTlsRenewal(dir).renewTlsCertificate({}, nowSeconds()); });
        QVERIFY2(message.startsWith("TLS certificate file '" + q((dir / "tls.pem").string()) +
                                    "' does not hold a PEM certificate ("),
                 message);
        QVERIFY2(message.endsWith("; give the names agents connect to with --name, one for each"),
                 message);
        QCOMPARE(readAll(dir / "tls.pem"), QByteArray("not a certificate\n"));
    }

    // OpenSSL's own command-line verifier: the chain, the server purpose (EKU and key usage)
    // under strict X.509 rules, and the extensions as it prints them.
    void tlsCertificateVerifiesWithTheOpenSslCli()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, {"verifier.example", "192.0.2.7", "2001:db8::1"},
                                  nowSeconds());
        const auto verify =
            runProgram(QStringLiteral("openssl"),
                       {QStringLiteral("verify"), QStringLiteral("-x509_strict"),
                        QStringLiteral("-purpose"), QStringLiteral("sslserver"),
                        QStringLiteral("-CAfile"), qs(dir / "ca.pem"), qs(dir / "tls.pem")});
        QCOMPARE(verify.err, QByteArray());
        QCOMPARE(verify.out, q((dir / "tls.pem").string()) + ": OK\n");
        QCOMPARE(verify.exitCode, 0);

        const auto show =
            runProgram(QStringLiteral("openssl"),
                       {QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-ext"),
                        QStringLiteral("subjectAltName,extendedKeyUsage"), QStringLiteral("-in"),
                        qs(dir / "tls.pem")});
        QCOMPARE(show.exitCode, 0);
        QCOMPARE(show.out, QByteArray("X509v3 Extended Key Usage: \n"
                                      "    TLS Web Server Authentication\n"
                                      "X509v3 Subject Alternative Name: \n"
                                      "    DNS:verifier.example, IP Address:192.0.2.7, IP "
                                      "Address:2001:DB8:0:0:0:0:0:1\n"));

        // Another directory's CA does not vouch for this certificate.
        const fs::path other = pathOf(tmp, "other");
        DataDirectory::initialise(other, defaultNames, nowSeconds());
        const auto foreign = runProgram(QStringLiteral("openssl"),
                                        {QStringLiteral("verify"), QStringLiteral("-CAfile"),
                                         qs(other / "ca.pem"), qs(dir / "tls.pem")});
        QCOMPARE(foreign.exitCode, 2);
        QVERIFY2(foreign.err.contains("unable to get local issuer certificate"),
                 foreign.err.constData());
    }

    void fingerprintMatchesTheOpenSslCli()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        const InitResult result = DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const auto openssl = runProgram(QStringLiteral("openssl"),
                                        {QStringLiteral("x509"), QStringLiteral("-fingerprint"),
                                         QStringLiteral("-sha256"), QStringLiteral("-noout"),
                                         QStringLiteral("-in"), qs(dir / "ca.pem")});
        QCOMPARE(openssl.exitCode, 0);
        // "sha256 Fingerprint=AB:CD:…" -> "sha256:abcd…"
        QByteArray expected = openssl.out.trimmed();
        QVERIFY2(expected.startsWith("sha256 Fingerprint="), expected.constData());
        expected = "sha256:" + expected.mid(expected.indexOf('=') + 1).replace(":", "").toLower();
        QCOMPARE(expected.size(), 7 + 64);
        QCOMPARE(q(result.caFingerprint), expected);
        QCOMPARE(q(certificateFingerprint(dir / "ca.pem")), expected);
        QVERIFY(q(certificateFingerprint(dir / "tls.pem")) != expected);
    }

    void fingerprintRefusesWhatIsNotACertificate()
    {
        QTemporaryDir tmp;
        const fs::path missing = pathOf(tmp, "missing.pem");
        QCOMPARE(thrownMessage<DataDirectoryError>([&] { certificateFingerprint(missing); }),
                 "certificate file '" + q(missing.string()) +
                     "' is missing; give the path of a PEM certificate file");
        const fs::path text = pathOf(tmp, "text.pem");
        writeText(text, "not a certificate\n");
        QVERIFY(thrownMessage<DataDirectoryError>([&] { certificateFingerprint(text); })
                    .startsWith("certificate file '" + q(text.string()) +
                                "' does not hold a PEM certificate ("));
        QCOMPARE(thrownMessage<DataDirectoryError>(
                     [&] { certificateFingerprint(fs::path(tmp.path().toStdString())); }),
                 "certificate file '" + q(tmp.path().toStdString()) +
                     "' is not a regular file; give the path of a PEM certificate file");
    }

    void openAcceptsAFreshDirectory()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const DataDirectory data = DataDirectory::open(dir);
        QCOMPARE(data.directory(), dir);
        QCOMPARE(data.caCertificate(), dir / "ca.pem");
        QCOMPARE(data.caKey(), dir / "ca-key.pem");
        QCOMPARE(data.tlsCertificate(), dir / "tls.pem");
        QCOMPARE(data.tlsKey(), dir / "tls-key.pem");
        QCOMPARE(data.tokenSigningKey(), dir / "token-signing-key.pem");
        QCOMPARE(data.ekCaDirectory(), dir / "ek-cas");
        QCOMPARE(data.database(), dir / "verifier.db");
        QCOMPARE(data.policy(), dir / "policy.json");
        // What the caller adds later does not matter to open(), nor do CA certificates.
        writeText(data.policy(), "{}");
        fs::copy_file(pathOf(tmp, "data/ca.pem"), data.ekCaDirectory() / "some-ca.pem");
        DataDirectory::open(dir);
    }

    // A directory made before the secret box key existed gets one at its first open; later
    // opens keep it.
    void openCreatesTheSecretBoxKeyOfAnOlderDirectory()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const QByteArray made = readAll(dir / "secret-box.key");
        QCOMPARE(made.size(), 32);
        const DataDirectory data = DataDirectory::open(dir);
        QCOMPARE(data.secretBoxKey(), dir / "secret-box.key");
        QCOMPARE(readAll(data.secretBoxKey()), made);
        const vigil::Bytes sealed = data.secretBox().seal(vigil::Bytes{1, 2, 3}, "u1");

        fs::remove(data.secretBoxKey());
        {
            const Umask mask(0);
            DataDirectory::open(dir);
        }
        QCOMPARE(octal(modeOf(data.secretBoxKey())), QByteArray("0600"));
        const QByteArray created = readAll(data.secretBoxKey());
        QCOMPARE(created.size(), 32);
        QVERIFY(created != made);
        // What the old key sealed does not open under the new one.
        QVERIFY_THROWS_EXCEPTION(SecretBoxError, data.secretBox().open(sealed, "u1"));
        DataDirectory::open(dir);
        QCOMPARE(readAll(data.secretBoxKey()), created);
    }

    void openRefuses_data()
    {
        QTest::addColumn<QByteArray>("damage");
        QTest::addColumn<QByteArray>("message"); // %D is the data directory
        const QByteArray fix = "; restore the data directory from a backup, or create a new one "
                               "with `vigil-verifier init --data DIR`";
        const QByteArray renew = "; issue a new certificate for the TLS key from this directory's "
                                 "CA, which agents pin: `vigil-verifier tls renew --data '%D'`";
        QTest::newRow("key mode 0644")
            << QByteArray("chmod 644 tls-key.pem")
            << QByteArray("TLS key file '%D/tls-key.pem' has mode 0644, which lets group or "
                          "others access it; fix: chmod 600 '%D/tls-key.pem'");
        QTest::newRow("key mode 0640")
            << QByteArray("chmod 640 ca-key.pem")
            << QByteArray("CA key file '%D/ca-key.pem' has mode 0640, which lets group or "
                          "others access it; fix: chmod 600 '%D/ca-key.pem'");
        QTest::newRow("symlinked key")
            << QByteArray("symlink token-signing-key.pem")
            << QByteArray("token signing key file '%D/token-signing-key.pem' is a symbolic "
                          "link; refusing to follow it. Replace the link with the key file "
                          "itself.");
        QTest::newRow("key owned by another user")
            << QByteArray("chown tls-key.pem")
            << QByteArray("TLS key file '%D/tls-key.pem' is owned by uid 65534, not by this "
                          "process's user (uid 0); fix: chown 0 '%D/tls-key.pem' (or remove it)");
        QTest::newRow("missing CA certificate")
            << QByteArray("remove ca.pem") << "CA certificate file '%D/ca.pem' is missing" + fix;
        QTest::newRow("missing CA key")
            << QByteArray("remove ca-key.pem") << "CA key file '%D/ca-key.pem' is missing" + fix;
        QTest::newRow("missing TLS key")
            << QByteArray("remove tls-key.pem")
            << QByteArray("TLS key file '%D/tls-key.pem' is missing; make a new TLS key and "
                          "certificate from this directory's CA, which agents pin: "
                          "`vigil-verifier tls renew --data '%D' --new-key`");
        QTest::newRow("missing token key")
            << QByteArray("remove token-signing-key.pem")
            << "token signing key file '%D/token-signing-key.pem' is missing" + fix;
        QTest::newRow("group-writable directory")
            << QByteArray("chmod 770 .")
            << QByteArray("data directory '%D' has mode 0770, which lets group or others "
                          "replace its files; fix: chmod 700 '%D'");
        QTest::newRow("other-writable directory")
            << QByteArray("chmod 703 .")
            << QByteArray("data directory '%D' has mode 0703, which lets group or others "
                          "replace its files; fix: chmod 700 '%D'");
        QTest::newRow("directory owned by another user")
            << QByteArray("chown .")
            << QByteArray("data directory '%D' is owned by uid 65534, not by this process's "
                          "user (uid 0); fix: run vigil-verifier as its owner, or chown -R 0 "
                          "'%D'");
        QTest::newRow("missing directory")
            << QByteArray("remove .")
            << QByteArray("data directory '%D' does not exist; create it with `vigil-verifier "
                          "init --data '%D'`");
        QTest::newRow("TLS key of another directory")
            << QByteArray("foreign tls-key.pem")
            << "the key in '%D/tls-key.pem' does not belong to the certificate in '%D/tls.pem'" +
                   renew;
        QTest::newRow("CA key of another directory")
            << QByteArray("foreign ca-key.pem")
            << "the key in '%D/ca-key.pem' does not belong to the certificate in '%D/ca.pem'" + fix;
        QTest::newRow("TLS pair of another CA")
            << QByteArray("foreign tls.pem tls-key.pem")
            << "TLS certificate '%D/tls.pem' is not signed by the CA in '%D/ca.pem'" + renew;
        QTest::newRow("token key on P-384")
            << QByteArray("p384 token-signing-key.pem")
            << "token signing key file '%D/token-signing-key.pem' does not hold an EC P-256 key "
               "(EC key is on curve secp384r1, expected P-256 (prime256v1))" +
                   fix;
        QTest::newRow("secret box key mode 0640")
            << QByteArray("chmod 640 secret-box.key")
            << QByteArray("secret box key file '%D/secret-box.key' has mode 0640, which lets "
                          "group or others access it; fix: chmod 600 '%D/secret-box.key'");
        QTest::newRow("secret box key of 31 bytes")
            << QByteArray("truncate secret-box.key")
            << QByteArray("secret box key file '%D/secret-box.key' holds 31 bytes, not 32; the "
                          "key seals the TOTP secrets in verifier.db: restore "
                          "'%D/secret-box.key' from the data directory's backup (a new key "
                          "makes every user set up TOTP again)");
        QTest::newRow("secret box key of 33 bytes")
            << QByteArray("extend secret-box.key")
            << QByteArray("secret box key file '%D/secret-box.key' holds 33 bytes, not 32; the "
                          "key seals the TOTP secrets in verifier.db: restore "
                          "'%D/secret-box.key' from the data directory's backup (a new key "
                          "makes every user set up TOTP again)");
        QTest::newRow("symlinked secret box key")
            << QByteArray("symlink secret-box.key")
            << QByteArray("secret box key file '%D/secret-box.key' is a symbolic link; refusing "
                          "to follow it. Replace the link with the key file itself.");
        QTest::newRow("missing ek-cas")
            << QByteArray("remove ek-cas")
            << QByteArray("trusted EK CA directory '%D/ek-cas' is missing or not a directory; "
                          "fix: mkdir -m 755 '%D/ek-cas' and put the TPM manufacturers' CA "
                          "certificates in it");
    }

    void openRefuses()
    {
        QFETCH(QByteArray, damage);
        QFETCH(QByteArray, message);
        if (damage.startsWith("chown") && ::geteuid() != 0)
            QSKIP("changing a file's owner needs root");

        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const QByteArrayList words = damage.split(' ');
        const QByteArray action = words.at(0);
        const QByteArray name = words.last();
        const fs::path target = name == "." ? dir : dir / name.toStdString();
        if (action == "chmod") {
            QCOMPARE(::chmod(target.c_str(), mode_t(words.at(1).toUInt(nullptr, 8))), 0);
        } else if (action == "chown") {
            QCOMPARE(::chown(target.c_str(), 65534, 65534), 0);
        } else if (action == "symlink") {
            const fs::path real = pathOf(tmp, "elsewhere.pem");
            fs::rename(target, real);
            fs::create_symlink(real, target);
        } else if (action == "remove") {
            fs::remove_all(target);
        } else if (action == "foreign") {
            const fs::path other = pathOf(tmp, "other");
            DataDirectory::initialise(other, defaultNames, nowSeconds());
            for (qsizetype i = 1; i < words.size(); ++i) {
                const std::string file = words.at(i).toStdString();
                fs::copy_file(other / file, dir / file, fs::copy_options::overwrite_existing);
            }
        } else if (action == "truncate" || action == "extend") {
            const QByteArray key = readAll(target);
            QCOMPARE(key.size(), 32);
            writeText(target, action == "truncate" ? key.left(31) : key + "x");
        } else if (action == "p384") {
            const auto keygen = runProgram(QStringLiteral("openssl"),
                                           {QStringLiteral("genpkey"), QStringLiteral("-algorithm"),
                                            QStringLiteral("EC"), QStringLiteral("-pkeyopt"),
                                            QStringLiteral("ec_paramgen_curve:P-384")});
            QCOMPARE(keygen.exitCode, 0);
            writeText(target, keygen.out);
            QCOMPARE(::chmod(target.c_str(), 0600), 0);
        } else {
            QFAIL("unknown damage");
        }
        QCOMPARE(thrownMessage<DataDirectoryError>([&] { DataDirectory::open(dir); }),
                 QByteArray(message).replace("%D", q(dir.string())));
    }

    // What serve could not present is refused at open, before any command runs on it.
    void openRefusesAnUnusableTlsCertificate_data()
    {
        QTest::addColumn<QByteArray>("damage");
        QTest::addColumn<QByteArray>("start"); // %D is the data directory
        QTest::addColumn<QByteArray>("fix");
        // tls renew mends a certificate it can issue again; it needs the names when it cannot
        // read them from the old one.
        const QByteArray renew = "; issue a new certificate for the TLS key from this directory's "
                                 "CA, which agents pin: `vigil-verifier tls renew --data '%D' "
                                 "--name NAME` (a --name for each name agents connect to)";
        const QByteArray mend = "; mend it with `vigil-verifier tls renew --data '%D'`, adding "
                                "--new-key if OpenSSL refuses the key";
        QTest::newRow("missing") << QByteArray("remove")
                                 << QByteArray("TLS certificate file '%D/tls.pem' is missing")
                                 << renew;
        QTest::newRow("not PEM") << QByteArray("garble")
                                 << QByteArray("TLS certificate file '%D/tls.pem' does not hold a "
                                               "PEM certificate (")
                                 << renew;
        QTest::newRow("a broken block after the certificate")
            << QByteArray("append") << QByteArray("cannot load the TLS certificate '%D/tls.pem': ")
            << mend;
        QTest::newRow("a key OpenSSL will not present")
            << QByteArray("weaken")
            << QByteArray("OpenSSL refuses to present the TLS certificate '%D/tls.pem' with its "
                          "key: ")
            << mend;
    }

    void openRefusesAnUnusableTlsCertificate()
    {
        QFETCH(QByteArray, damage);
        QFETCH(QByteArray, start);
        QFETCH(QByteArray, fix);
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const fs::path certificate = dir / "tls.pem";
        const fs::path key = dir / "tls-key.pem";
        if (damage == "remove") {
            fs::remove(certificate);
        } else if (damage == "garble") {
            writeText(certificate, "not a certificate\n");
        } else if (damage == "append") {
            std::ofstream(certificate, std::ios::app)
                << "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n";
        } else {
            const auto made = runProgram(
                QStringLiteral("openssl"),
                {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                 QStringLiteral("rsa:512"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
                 qs(key), QStringLiteral("-out"), qs(certificate), QStringLiteral("-subj"),
                 QStringLiteral("/CN=weak"), QStringLiteral("-days"), QStringLiteral("1")});
            QVERIFY2(made.exitCode == 0, made.err.constData());
            QCOMPARE(::chmod(key.c_str(), 0600), 0);
        }
        const QByteArray message =
            thrownMessage<DataDirectoryError>([&] { DataDirectory::open(dir); });
        QVERIFY2(message.startsWith(QByteArray(start).replace("%D", q(dir.string()))), message);
        QVERIFY2(message.endsWith(QByteArray(fix).replace("%D", q(dir.string()))), message);

        // What the message advises mends it. A renewal that keeps a key OpenSSL refuses is
        // refused before anything is written.
        const DataDirectory renewal = DataDirectory::openForTlsRenewal(dir);
        const std::vector<std::string> names =
            damage == "append" ? std::vector<std::string>{} : std::vector<std::string>{"localhost"};
        if (damage == "weaken") {
            const QByteArray before = readAll(certificate);
            const QByteArray refused = thrownMessage<DataDirectoryError>(
                [&] { renewal.renewTlsCertificate(names, nowSeconds()); });
            QVERIFY2(refused.startsWith("OpenSSL refuses to present the TLS certificate '" +
                                        q(certificate.string()) + "' with its key: "),
                     refused);
            QVERIFY2(refused.endsWith("; make a new TLS key and certificate from this directory's "
                                      "CA, which agents pin: `vigil-verifier tls renew --data '" +
                                      q(dir.string()) + "' --new-key`"),
                     refused);
            QCOMPARE(readAll(certificate), before);
            renewal.renewTlsCertificate(names, nowSeconds(), DataDirectory::TlsKey::New);
        } else {
            renewal.renewTlsCertificate(names, nowSeconds());
        }
        DataDirectory::open(dir);
    }

    // The client against an independent TLS server (openssl s_server) serving the initialised
    // directory's certificate: the pinned CA is trusted, the DNS name and the IP address match.
    void httpsClientFetchesWithThePinnedCa()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        const OpenSslServer server(dir / "tls.pem", dir / "tls-key.pem");
        HttpsClient client(dir / "ca.pem");
        for (const std::string host : {"127.0.0.1", "localhost"}) {
            const vigil::test::HttpResponse response = client.get(server.url(host));
            QCOMPARE(response.status, 200L);
            QCOMPARE(q(response.contentType), QByteArray("text/html"));
            QCOMPARE(q(response.headers.at("content-type")), QByteArray("text/html"));
            QVERIFY2(q(response.body).contains("s_server -accept 127.0.0.1:0"),
                     response.body.c_str());
            QVERIFY(q(response.body).contains("Ciphers supported in s_server binary"));
        }
        // s_server -www closes every connection after its answer.
        QCOMPARE(client.connectionsOpened(), 2L);
    }

    void httpsClientRefusesAnotherCa()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        const fs::path other = pathOf(tmp, "other");
        DataDirectory::initialise(dir, defaultNames, nowSeconds());
        DataDirectory::initialise(other, defaultNames, nowSeconds());
        const OpenSslServer server(dir / "tls.pem", dir / "tls-key.pem");
        HttpsClient client(other / "ca.pem");
        const std::string url = server.url("127.0.0.1");
        QCOMPARE(thrownMessage<std::runtime_error>([&] { client.get(url); }),
                 "GET " + q(url) +
                     ": SSL certificate problem: unable to get local issuer certificate");
    }

    void httpsClientRefusesANameTheCertificateDoesNotHold()
    {
        QTemporaryDir tmp;
        const fs::path dir = pathOf(tmp, "data");
        DataDirectory::initialise(dir, {"verifier.example", "10.9.8.7"}, nowSeconds());
        const OpenSslServer server(dir / "tls.pem", dir / "tls-key.pem");
        HttpsClient client(dir / "ca.pem");
        const std::string url = server.url("127.0.0.1");
        QCOMPARE(thrownMessage<std::runtime_error>(
                     [&] { client.request("POST", url, {"Content-Type: text/plain"}, "x"); }),
                 "POST " + q(url) +
                     ": SSL: no alternative certificate subject name matches target host name "
                     "'127.0.0.1'");
    }

    void httpsClientNeedsAReadableCaFile()
    {
        QTemporaryDir tmp;
        const fs::path missing = pathOf(tmp, "missing.pem");
        QCOMPARE(thrownMessage<std::runtime_error>([&] { HttpsClient client(missing); }),
                 "cannot read CA file '" + q(missing.string()) + "': No such file or directory");
    }
};

QTEST_APPLESS_MAIN(TestDataDirectory)
#include "tst_datadirectory.moc"
