#include "posture/parsers/mountinfo.h"

#include <QtTest>
#include <random>

using namespace vigil::posture;

namespace {

QString text(const std::string &value)
{
    return QString::fromStdString(value);
}

QStringList issues(const std::vector<ParseIssue> &list)
{
    QStringList out;
    for (const auto &issue : list)
        out << QString::number(issue.line) + QStringLiteral(": ") + text(issue.message);
    return out;
}

} // namespace

class TestMountInfo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fullLine()
    {
        const auto result = parseMountInfo(
            "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 shared:7 - ext3 /dev/root "
            "rw,errors=continue\n");
        QCOMPARE(result.issues.size(), std::size_t(0));
        QCOMPARE(result.entries.size(), std::size_t(1));
        const auto &entry = result.entries.front();
        QCOMPARE(entry.mountId, 36);
        QCOMPARE(entry.parentId, 35);
        QCOMPARE(entry.major, 98u);
        QCOMPARE(entry.minor, 0u);
        QCOMPARE(entry.root, std::string("/mnt1"));
        QCOMPARE(entry.mountPoint, std::string("/mnt/parent"));
        QCOMPARE(entry.options, std::string("rw,noatime"));
        QCOMPARE(entry.optionalFields, (std::vector<std::string>{"master:1", "shared:7"}));
        QCOMPARE(entry.fsType, std::string("ext3"));
        QCOMPARE(entry.source, std::string("/dev/root"));
        QCOMPARE(entry.superOptions, std::string("rw,errors=continue"));
    }

    void noOptionalFieldsAndExtraTrailingFields()
    {
        const auto result = parseMountInfo("22 1 0:35 /root / rw,relatime - btrfs "
                                           "/dev/mapper/luks-x rw,subvol=/root future-field");
        QCOMPARE(result.issues.size(), std::size_t(0));
        QCOMPARE(result.entries.size(), std::size_t(1));
        QVERIFY(result.entries[0].optionalFields.empty());
        QCOMPARE(result.entries[0].major, 0u);
        QCOMPARE(result.entries[0].minor, 35u);
        QCOMPARE(result.entries[0].root, std::string("/root"));
        QCOMPARE(result.entries[0].superOptions, std::string("rw,subvol=/root"));
    }

    void octalEscapes_data()
    {
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("space") << QByteArray("/media/alice/My\\040Stick")
                               << QByteArray("/media/alice/My Stick");
        QTest::newRow("tab newline backslash")
            << QByteArray("/a\\011b\\012c\\134d") << QByteArray("/a\tb\nc\\d");
        QTest::newRow("escape at the end") << QByteArray("/x\\040") << QByteArray("/x ");
        QTest::newRow("incomplete") << QByteArray("/x\\04") << QByteArray("/x\\04");
        QTest::newRow("not octal") << QByteArray("/x\\089") << QByteArray("/x\\089");
        QTest::newRow("over 255") << QByteArray("/x\\777") << QByteArray("/x\\777");
        QTest::newRow("lone backslash") << QByteArray("\\") << QByteArray("\\");
        QTest::newRow("utf-8 bytes")
            << QByteArray("/m\\303\\251moire") << QByteArray("/m\xc3\xa9moire");
        QTest::newRow("nul byte") << QByteArray("/a\\000b") << QByteArray("/a\0b", 4);
    }

    void octalEscapes()
    {
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, expected);
        const auto out = unescapeMountField(std::string_view(field.constData(), field.size()));
        QCOMPARE(QByteArray(out.data(), qsizetype(out.size())), expected);
    }

    void escapedFieldsInALine()
    {
        const auto result = parseMountInfo(
            "90 26 8:33 /my\\040dir /media/alice/USB\\040Stick rw - vfat /dev/sdc1 rw\n");
        QCOMPARE(result.entries.size(), std::size_t(1));
        QCOMPARE(result.entries[0].root, std::string("/my dir"));
        QCOMPARE(result.entries[0].mountPoint, std::string("/media/alice/USB Stick"));
    }

    void badLines_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("issue");
        QTest::newRow("too few fields") << "36 35 98:0 /mnt1 /mnt rw - ext3"
                                        << "too few fields";
        QTest::newRow("no separator") << "36 35 98:0 / /mnt rw shared:1 ext3 /dev/root rw x"
                                      << "no \"-\" separator";
        QTest::newRow("few after separator") << "36 35 98:0 / /mnt rw a b c - ext3 /dev/root"
                                             << "too few fields after \"-\"";
        QTest::newRow("mount id") << "x 35 98:0 / /mnt rw - ext3 /dev/root rw"
                                  << "bad mount id";
        QTest::newRow("negative id") << "-1 35 98:0 / /mnt rw - ext3 /dev/root rw"
                                     << "bad mount id";
        QTest::newRow("huge id") << "99999999999 35 98:0 / /mnt rw - ext3 /dev/root rw"
                                 << "bad mount id";
        QTest::newRow("dash device") << "36 35 98-0 / /mnt rw - ext3 /dev/root rw"
                                     << "bad major:minor";
        QTest::newRow("no minor") << "36 35 98: / /mnt rw - ext3 /dev/root rw"
                                  << "bad major:minor";
        QTest::newRow("no major") << "36 35 :0 / /mnt rw - ext3 /dev/root rw"
                                  << "bad major:minor";
        QTest::newRow("signed minor") << "36 35 8:-1 / /mnt rw - ext3 /dev/root rw"
                                      << "bad major:minor";
        QTest::newRow("relative mount point") << "36 35 8:1 / mnt rw - ext3 /dev/root rw"
                                              << "mount point is not an absolute path";
    }

    void badLines()
    {
        QFETCH(QString, line);
        const auto input = "1 0 8:2 / / rw - ext4 /dev/sda2 rw\n" + line.toStdString() +
                           "\n3 1 8:3 / /home rw - ext4 /dev/sda3 rw\n";
        const auto result = parseMountInfo(input);
        QCOMPARE(result.entries.size(), std::size_t(2));
        QCOMPARE(result.entries[1].mountPoint, std::string("/home"));
        QFETCH(QString, issue);
        QCOMPARE(issues(result.issues), QStringList{QStringLiteral("2: ") + issue});
    }

    void blankLinesAndEndings()
    {
        const auto result = parseMountInfo("\n1 0 8:2 / / rw - ext4 /dev/sda2 rw\n\n   \n"
                                           "2 1 8:3 / /home rw - ext4 /dev/sda3 rw");
        QCOMPARE(result.entries.size(), std::size_t(2));
        QVERIFY(result.issues.empty());
        QVERIFY(parseMountInfo("").entries.empty());
        QVERIFY(parseMountInfo("").issues.empty());
    }

    void garbage()
    {
        const std::string binary("\x7f"
                                 "ELF\x02\x01\x01\0\0\0\n\xff\xfe garbage - - -\n",
                                 26);
        const auto result = parseMountInfo(binary);
        QVERIFY(result.entries.empty());
        QCOMPARE(issues(result.issues), (QStringList{QStringLiteral("1: too few fields"),
                                                     QStringLiteral("2: too few fields")}));
    }

    void swaps()
    {
        const auto result =
            parseSwaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                       "/dev/dm-1                               partition\t999420\t\t0\t\t-2\n"
                       "/swap\\040file                           file\t\t4194300\t\t1024\t\t10\n");
        QVERIFY(result.headerSeen);
        QVERIFY(result.issues.empty());
        QCOMPARE(result.entries.size(), std::size_t(2));
        QCOMPARE(result.entries[0].filename, std::string("/dev/dm-1"));
        QCOMPARE(result.entries[0].type, std::string("partition"));
        QCOMPARE(result.entries[0].sizeKiB, std::uint64_t(999420));
        QCOMPARE(result.entries[0].usedKiB, std::uint64_t(0));
        QCOMPARE(result.entries[0].priority, -2);
        QCOMPARE(result.entries[1].filename, std::string("/swap file"));
        QCOMPARE(result.entries[1].type, std::string("file"));
        QCOMPARE(result.entries[1].usedKiB, std::uint64_t(1024));
        QCOMPARE(result.entries[1].priority, 10);
    }

    void swapsEmptyAndBad()
    {
        const auto empty = parseSwaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        QVERIFY(empty.headerSeen);
        QVERIFY(empty.entries.empty());
        QVERIFY(empty.issues.empty());

        const auto bad = parseSwaps("/dev/sda4 partition 100 0\n"
                                    "/dev/sda5 partition 100 x -2\n"
                                    "dev/sda6 partition 100 0 -2\n"
                                    "/dev/sda7 partition 100 0 -2 extra\n"
                                    "/dev/sda8 partition 100 0 -2\n");
        QVERIFY(!bad.headerSeen);
        QCOMPARE(bad.entries.size(), std::size_t(1));
        QCOMPARE(bad.entries[0].filename, std::string("/dev/sda8"));
        QCOMPARE(issues(bad.issues),
                 (QStringList{QStringLiteral("1: expected 5 fields"),
                              QStringLiteral("2: bad size, used or priority"),
                              QStringLiteral("3: swap name is not an absolute path"),
                              QStringLiteral("4: expected 5 fields")}));
    }

    void randomBytesNeverCrash()
    {
        std::mt19937 random(7);
        const std::string seed = "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/mapper/x rw\n"
                                 "/dev/dm-1 partition 999420 0 -2\n";
        for (int round = 0; round < 5000; ++round) {
            std::string data = seed;
            for (int i = 0; i < 6; ++i)
                data[random() % data.size()] = static_cast<char>(random());
            if (round % 3 == 0) {
                data.resize(random() % 200);
                for (auto &c : data)
                    c = static_cast<char>(random());
            }
            const auto mounts = parseMountInfo(data);
            for (const auto &entry : mounts.entries)
                QVERIFY(!entry.mountPoint.empty() && entry.mountPoint.front() == '/');
            const auto swaps = parseSwaps(data);
            for (const auto &entry : swaps.entries)
                QVERIFY(!entry.filename.empty() && entry.filename.front() == '/');
        }
    }
};

QTEST_APPLESS_MAIN(TestMountInfo)
#include "tst_mountinfo.moc"
