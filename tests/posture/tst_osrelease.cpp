#include "posture/parsers/osrelease.h"

#include <QtTest>

using vigil::posture::parseOsRelease;

class TestOsRelease : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void quotingRules()
    {
        const auto f = parseOsRelease("A=plain\n"
                                      "B=\"double quoted\"\n"
                                      "C='single $quoted'\n"
                                      "D=\"esc \\\"q\\\" \\$x \\\\ \\`b\\`\"\n"
                                      "E=\n"
                                      "  F=\"indented\"  \n");
        QCOMPARE(f.at("A"), "plain");
        QCOMPARE(f.at("B"), "double quoted");
        QCOMPARE(f.at("C"), "single $quoted");
        QCOMPARE(f.at("D"), "esc \"q\" $x \\ `b`");
        QCOMPARE(f.at("E"), "");
        QCOMPARE(f.at("F"), "indented");
    }

    void malformedLinesAreSkipped()
    {
        const auto f = parseOsRelease("# comment\n"
                                      "no equals sign\n"
                                      "1BAD=x\n"
                                      "BAD-KEY=x\n"
                                      "UNQUOTED=has space\n"
                                      "OPEN=\"never closed\n"
                                      "STRAY=\"a\"b\"\n"
                                      "GOOD=yes\n");
        QCOMPARE(f.size(), std::size_t(1));
        QCOMPARE(f.at("GOOD"), "yes");
    }

    void lastAssignmentWins() { QCOMPARE(parseOsRelease("ID=a\nID=b").at("ID"), "b"); }

    void arbitraryBytesNeverCrash()
    {
        std::string bytes;
        for (int i = 0; i < 4096; ++i)
            bytes += static_cast<char>((i * 7919) % 256);
        parseOsRelease(bytes);
        parseOsRelease(std::string(10000, '"'));
        parseOsRelease("=\n=\"\n'\n");
    }
};

QTEST_APPLESS_MAIN(TestOsRelease)
#include "tst_osrelease.moc"
