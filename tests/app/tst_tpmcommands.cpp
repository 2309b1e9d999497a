// `vigilctl tpm …` against a real swtpm; its quote files are checked by tpm2_checkquote.
#include "app/commands/tpmcommands.h"
#include "programrun.h"
#include "swtpmsimulator.h"

#include <QtTest>
#include <nlohmann/json.hpp>

using namespace vigil;
using vigil::test::SwtpmSimulator;

namespace {

using vigil::test::runProgram;

vigil::test::ProgramRun vigilctl(const QStringList &arguments)
{
    return runProgram(QStringLiteral(VIGIL_BINARY_DIR "/app/vigilctl"), arguments);
}

} // namespace

class TestTpmCommands : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_tcti = QString::fromStdString(m_sim->tcti());
        m_state = QString::fromStdString((m_sim->scratchDirectory() / "state").string());
    }

    void pcrLists_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected"); // empty: rejected
        QTest::newRow("list") << "0,1,7"
                              << "0,1,7";
        QTest::newRow("unsorted, repeated") << "7,0,7,1"
                                            << "0,1,7";
        QTest::newRow("range") << "0-3,23"
                               << "0,1,2,3,23";
        QTest::newRow("all") << "0-23"
                             << "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23";
        QTest::newRow("24") << "24"
                            << "";
        QTest::newRow("empty") << ""
                               << "";
        QTest::newRow("trailing comma") << "0,1,"
                                        << "";
        QTest::newRow("empty item") << "0,,1"
                                    << "";
        QTest::newRow("reverse range") << "7-3"
                                       << "";
        QTest::newRow("sign") << "-1"
                              << "";
        QTest::newRow("bank prefix") << "sha256:0"
                                     << "";
        QTest::newRow("long number") << "007"
                                     << "";
    }

    void pcrLists()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        const auto pcrs = app::parsePcrList(text.toStdString());
        if (expected.isEmpty()) {
            QVERIFY(!pcrs);
            return;
        }
        QVERIFY(pcrs);
        QStringList items;
        for (unsigned pcr : *pcrs)
            items << QString::number(pcr);
        QCOMPARE(items.join(QLatin1Char(',')), expected);
    }

    void infoNamesTheTpm()
    {
        const auto run = vigilctl(
            {QStringLiteral("tpm"), QStringLiteral("info"), QStringLiteral("--tcti"), m_tcti});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("Manufacturer     IBM"));
        QVERIFY(run.out.contains("PCR banks        sha256"));
        QVERIFY(run.out.contains("Lockout          not locked out (0 of "));
        QVERIFY2(
            run.out.contains("Endorsement key  RSA 2048, certificate issued by CN=swtpm-localca"),
            run.out.constData());

        const auto json = vigilctl({QStringLiteral("tpm"), QStringLiteral("info"),
                                    QStringLiteral("--json"), QStringLiteral("--tcti"), m_tcti});
        QCOMPARE(json.exitCode, 0);
        const auto info = nlohmann::json::parse(json.out.toStdString());
        QCOMPARE(info.at("manufacturer").get<std::string>(), std::string("IBM"));
        QCOMPARE(info.at("lockout").at("in_lockout").get<bool>(), false);
        QCOMPARE(info.at("endorsement_key").at("type").get<std::string>(), std::string("RSA 2048"));
        QCOMPARE(info.at("endorsement_key").at("certificate").at("issuer").get<std::string>(),
                 std::string("CN=swtpm-localca"));
    }

    // The acceptance test of the file formats: tpm2-tools' own checker takes them unchanged,
    // also for more than 8 PCRs (several PCR reads, several TPML_DIGESTs in quote.pcrs).
    void quoteFilesPassTpm2CheckQuote_data()
    {
        QTest::addColumn<QString>("pcrs");
        QTest::newRow("boot") << "0,1,7";
        QTest::newRow("one") << "23";
        QTest::newRow("all 24") << "0-23";
    }

    void quoteFilesPassTpm2CheckQuote()
    {
        QFETCH(QString, pcrs);
        const QString nonce =
            QStringLiteral("00112233445566778899aabbccddeeff0123456789abcdef0011223344556677");
        const QString out = QString::fromStdString((m_sim->scratchDirectory() / "quote").string());
        const auto run =
            vigilctl({QStringLiteral("tpm"), QStringLiteral("quote"), QStringLiteral("--nonce"),
                      nonce, QStringLiteral("--pcrs"), pcrs, QStringLiteral("--out"), out,
                      QStringLiteral("--tcti"), m_tcti, QStringLiteral("--state-dir"), m_state});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY(run.out.contains("tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig"));

        const QStringList check{
            QStringLiteral("-u"),        QStringLiteral("ak.pub"),     QStringLiteral("-m"),
            QStringLiteral("quote.msg"), QStringLiteral("-s"),         QStringLiteral("quote.sig"),
            QStringLiteral("-f"),        QStringLiteral("quote.pcrs"), QStringLiteral("-g"),
            QStringLiteral("sha256"),    QStringLiteral("-q"),         nonce};
        vigil::test::ProgramOptions inOut;
        inOut.workingDirectory = out;
        const auto accepted = runProgram(QStringLiteral("tpm2_checkquote"), check, inOut);
        QVERIFY2(accepted.exitCode == 0, accepted.err.constData());

        // The same checker refuses another nonce: the acceptance above means something.
        QStringList wrongNonce = check;
        wrongNonce.last() = QStringLiteral("ff") + nonce.mid(2);
        const auto refused = runProgram(QStringLiteral("tpm2_checkquote"), wrongNonce, inOut);
        // It ran and said no; -1 would mean it did not run or crashed.
        QVERIFY2(refused.exitCode > 0, refused.err.constData());
    }

    void quoteUsageErrors_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        const QString tpm = QStringLiteral("tpm");
        const QString quote = QStringLiteral("quote");
        QTest::newRow("odd hex") << QStringList{tpm,
                                                quote,
                                                QStringLiteral("--nonce"),
                                                QStringLiteral("abc"),
                                                QStringLiteral("--pcrs"),
                                                QStringLiteral("0"),
                                                QStringLiteral("--out"),
                                                QStringLiteral("/tmp/x")}
                                 << "--nonce needs 1 to 64 bytes as hex digits";
        QTest::newRow("long nonce") << QStringList{tpm,
                                                   quote,
                                                   QStringLiteral("--nonce"),
                                                   QString(130, QLatin1Char('a')),
                                                   QStringLiteral("--pcrs"),
                                                   QStringLiteral("0"),
                                                   QStringLiteral("--out"),
                                                   QStringLiteral("/tmp/x")}
                                    << "--nonce needs 1 to 64 bytes as hex digits";
        QTest::newRow("pcr 24") << QStringList{tpm,
                                               quote,
                                               QStringLiteral("--nonce"),
                                               QStringLiteral("aa"),
                                               QStringLiteral("--pcrs"),
                                               QStringLiteral("24"),
                                               QStringLiteral("--out"),
                                               QStringLiteral("/tmp/x")}
                                << "--pcrs needs PCR numbers 0-23";
        QTest::newRow("no out") << QStringList{tpm,
                                               quote,
                                               QStringLiteral("--nonce"),
                                               QStringLiteral("aa"),
                                               QStringLiteral("--pcrs"),
                                               QStringLiteral("0")}
                                << "tpm quote needs --out DIR";
        QTest::newRow("missing value")
            << QStringList{tpm, quote, QStringLiteral("--nonce")} << "option --nonce needs a value";
        QTest::newRow("unknown subcommand")
            << QStringList{tpm, QStringLiteral("reset")} << "unknown command 'tpm reset'";
        QTest::newRow("info with --out")
            << QStringList{tpm, QStringLiteral("info"), QStringLiteral("--out"),
                           QStringLiteral("x")}
            << "tpm info does not take --out";
    }

    void quoteUsageErrors()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const auto run = vigilctl(arguments);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(message.toUtf8()), run.err.constData());
    }

    void noTpmIsAClearFailure()
    {
        const auto run =
            vigilctl({QStringLiteral("tpm"), QStringLiteral("info"), QStringLiteral("--tcti"),
                      QStringLiteral("device:/nonexistent/tpmrm0")});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.startsWith("vigilctl: no TPM: /nonexistent/tpmrm0 does not exist"),
                 run.err.constData());
        QVERIFY(run.out.isEmpty());
    }

    void cleanupTestCase() { m_sim.reset(); }

private:
    std::unique_ptr<SwtpmSimulator> m_sim;
    QString m_tcti;
    QString m_state;
};

QTEST_APPLESS_MAIN(TestTpmCommands)
#include "tst_tpmcommands.moc"
