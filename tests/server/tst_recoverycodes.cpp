// RecoveryCodes on a real database: the codes' form, each working once, a new set invalidating
// the old, the input's normalisation, and what is stored (a keyed hash).
#include "server/mfa/recoverycodes.h"
#include "server/storage/sqlitestorage.h"
#include "testprinters.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <set>
#include <sqlite3.h>

using vigil::Bytes;
using namespace vigil::server;

namespace {

using std::chrono::seconds;

const TimePoint t0 = TimePoint(seconds(1795000000));

} // namespace

class TestRecoveryCodes : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_serial = 0;
    std::string m_path;
    std::unique_ptr<SqliteStorage> m_storage;
    std::unique_ptr<SecretBox> m_box;
    std::unique_ptr<RecoveryCodes> m_codes;

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void init()
    {
        m_codes.reset();
        m_path = m_dir.filePath(QString::number(++m_serial)).toStdString();
        m_storage = SqliteStorage::open(m_path);
        m_box = std::make_unique<SecretBox>(Bytes(32, 0x33));
        m_codes = std::make_unique<RecoveryCodes>(*m_storage, *m_box);
        QVERIFY(m_storage->addUser(User{"u1", "alice", t0, std::nullopt}));
        QVERIFY(m_storage->addUser(User{"u2", "bob", t0, std::nullopt}));
    }

    void tenCodesOfSixtyBits()
    {
        const auto codes = m_codes->regenerate("u1", t0);
        QCOMPARE(codes.size(), std::size_t(10));
        static const QRegularExpression form(
            QStringLiteral("^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$"));
        std::set<std::string> distinct;
        for (const auto &code : codes) {
            QVERIFY2(form.match(QString::fromStdString(code)).hasMatch(), code.c_str());
            distinct.insert(code);
        }
        QCOMPARE(distinct.size(), std::size_t(10));
        QCOMPARE(m_storage->recoveryCodesLeft("u1"), 10);
        // Not stored as they are, nor as their plain SHA-256: only the keyed hash.
        const Bytes stored = m_codes->hash("u1", *RecoveryCodes::normalise(codes[0]));
        QCOMPARE(stored.size(), std::size_t(32));
        QVERIFY(m_storage->useRecoveryCode("u1", stored, t0));
        // Another key (another data directory) hashes the same code apart.
        const SecretBox otherBox(Bytes(32, 0x44));
        QVERIFY(RecoveryCodes(*m_storage, otherBox).hash("u1", "AAAABBBBCCCC") !=
                m_codes->hash("u1", "AAAABBBBCCCC"));
        QVERIFY(m_codes->hash("u2", "AAAABBBBCCCC") != m_codes->hash("u1", "AAAABBBBCCCC"));
    }

    void eachCodeWorksOnce()
    {
        const auto codes = m_codes->regenerate("u1", t0);
        for (std::size_t i = 0; i < codes.size(); ++i) {
            QVERIFY(m_codes->use("u1", codes[i], t0));
            QVERIFY(!m_codes->use("u1", codes[i], t0));
            QCOMPARE(m_storage->recoveryCodesLeft("u1"), int(9 - i));
        }
    }

    void codesAreTheirUsersOnly()
    {
        const auto alice = m_codes->regenerate("u1", t0);
        QVERIFY(!m_codes->use("u2", alice[0], t0));
        QVERIFY(m_codes->use("u1", alice[0], t0));
    }

    void aNewSetInvalidatesTheOld()
    {
        const auto first = m_codes->regenerate("u1", t0);
        QVERIFY(m_codes->use("u1", first[0], t0));
        const auto second = m_codes->regenerate("u1", t0 + seconds(1));
        QCOMPARE(m_storage->recoveryCodesLeft("u1"), 10);
        for (const auto &code : first)
            QVERIFY(!m_codes->use("u1", code, t0));
        QVERIFY(m_codes->use("u1", second[9], t0));
    }

    void inputIsNormalised_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("normalised"); // empty: refused
        QTest::newRow("as shown") << QStringLiteral("ABCD-EFGH-IJ23")
                                  << QStringLiteral("ABCDEFGHIJ23");
        QTest::newRow("lower case")
            << QStringLiteral("abcd-efgh-ij23") << QStringLiteral("ABCDEFGHIJ23");
        QTest::newRow("no dashes")
            << QStringLiteral("abcdEFGHij23") << QStringLiteral("ABCDEFGHIJ23");
        QTest::newRow("spaces") << QStringLiteral(" abcd efgh ij23 ")
                                << QStringLiteral("ABCDEFGHIJ23");
        QTest::newRow("dashes anywhere")
            << QStringLiteral("a-b-c-d--efghij23") << QStringLiteral("ABCDEFGHIJ23");
        QTest::newRow("eleven") << QStringLiteral("ABCD-EFGH-IJ2") << QString();
        QTest::newRow("thirteen") << QStringLiteral("ABCD-EFGH-IJ234") << QString();
        QTest::newRow("digit 1") << QStringLiteral("ABCD-EFGH-IJ21") << QString();
        QTest::newRow("digit 0") << QStringLiteral("ABCD-EFGH-IJ20") << QString();
        QTest::newRow("digit 8") << QStringLiteral("ABCD-EFGH-IJ28") << QString();
        QTest::newRow("tab") << QStringLiteral("ABCD\tEFGH-IJ23") << QString();
        QTest::newRow("underscore") << QStringLiteral("ABCD_EFGH_IJ23") << QString();
        QTest::newRow("empty") << QString() << QString();
        QTest::newRow("non-ASCII") << QStringLiteral("ÄBCD-EFGH-IJ23") << QString();
    }

    void inputIsNormalised()
    {
        QFETCH(QString, input);
        QFETCH(QString, normalised);
        const auto result = RecoveryCodes::normalise(input.toStdString());
        QCOMPARE(result.value_or(""), normalised.toStdString());
    }

    // What the user types, however written, uses the code up.
    void normalisedInputUsesTheCode()
    {
        const auto codes = m_codes->regenerate("u1", t0);
        QString typed = QString::fromStdString(codes[3]).toLower();
        typed.replace(QLatin1Char('-'), QLatin1Char(' '));
        QVERIFY(m_codes->use("u1", typed.toStdString(), t0));
        QVERIFY(!m_codes->use("u1", codes[3], t0));
        QVERIFY(!m_codes->use("u1", "not a code", t0));
        QCOMPARE(RecoveryCodes::format("ABCDEFGHIJ23"), std::string("ABCD-EFGH-IJ23"));
    }
};

QTEST_APPLESS_MAIN(TestRecoveryCodes)
#include "tst_recoverycodes.moc"
