#include "app/commands/posturetable.h"
#include "fixturehost.h"

#include <QtTest>

using namespace vigil;
using posture::CheckResult;

class TestPostureTable : public QObject
{
    Q_OBJECT

private:
    static posture::PostureSnapshot sample()
    {
        posture::PostureSnapshot s;
        s.collectedAt = test::fixtureNow();
        s.duration = std::chrono::milliseconds(12);
        s.checks.push_back(CheckResult::pass("os", "Debian GNU/Linux 12 (bookworm)"));
        s.checks.push_back(CheckResult::fail("firewall", "Inbound traffic is not filtered",
                                             "Run `sudo ufw enable`."));
        s.checks.push_back(CheckResult::unknown("screen_lock", "no desktop session"));
        return s;
    }

private Q_SLOTS:
    void plainTable()
    {
        const auto text = app::formatPostureTable(sample());
        const std::string expected =
            "Device posture at 2026-11-24T12:00:00Z (collected in 12 ms): 1 pass, 1 fail, 1 "
            "unknown\n"
            "\n"
            "CHECK        STATUS  SUMMARY\n"
            "os           pass    Debian GNU/Linux 12 (bookworm)\n"
            "firewall     fail    Inbound traffic is not filtered\n"
            "screen_lock  unknown Could not be determined: no desktop session\n"
            "\n"
            "To fix:\n"
            "  firewall: Run `sudo ufw enable`.\n"
            "\n"
            "Not determined:\n"
            "  screen_lock: no desktop session\n";
        QCOMPARE(text, expected);
    }

    void colourOnlyWhenAsked()
    {
        QVERIFY(app::formatPostureTable(sample()).find('\033') == std::string::npos);
        app::TableOptions options;
        options.color = true;
        const auto text = app::formatPostureTable(sample(), options);
        QVERIFY(text.find("\033[32mpass\033[0m") != std::string::npos);
        QVERIFY(text.find("\033[31mfail\033[0m") != std::string::npos);
    }

    void longSummariesAreCutAtCharacterBoundaries()
    {
        auto s = sample();
        std::string longText;
        for (int i = 0; i < 60; ++i)
            longText += "é";
        s.checks[0].summary = longText;
        app::TableOptions options;
        options.width = 40;
        const auto text = app::formatPostureTable(s, options);
        const auto line =
            text.substr(text.find("os "), text.find('\n', text.find("os ")) - text.find("os "));
        QVERIFY(line.ends_with("…"));
        QVERIFY(QString::fromStdString(line).isValidUtf16());
        QVERIFY(!QString::fromUtf8(line.c_str()).contains(QChar::ReplacementCharacter));
    }

    void controlCharactersFromTheMachineAreEscaped()
    {
        auto s = sample();
        s.checks[0].summary = "Not encrypted: /media/usb\n\033[2Kos pass fine";
        s.checks[1].remediation = "tab\there\xc2\x9b";
        s.checks[2].reason = "bell\a";
        const auto text = app::formatPostureTable(s);
        QVERIFY(text.find('\033') == std::string::npos);
        QVERIFY(text.find('\a') == std::string::npos);
        QVERIFY(text.find(
                    "os           pass    Not encrypted: /media/usb\\x0a\\x1b[2Kos pass fine\n") !=
                std::string::npos);
        QVERIFY(text.find("  firewall: tab\\x09here\\x9b\n") != std::string::npos);
        QVERIFY(text.find("  screen_lock: bell\\x07\n") != std::string::npos);
        QVERIFY(text.find("caf\xc3\xa9") == std::string::npos); // sanity: no stray UTF-8 change
        s.checks[0].summary = "caf\xc3\xa9";
        QVERIFY(app::formatPostureTable(s).find("caf\xc3\xa9") != std::string::npos);
    }

    void allPassingHasNoSections()
    {
        auto s = sample();
        s.checks.resize(1);
        const auto text = app::formatPostureTable(s);
        QVERIFY(text.find("To fix") == std::string::npos);
        QVERIFY(text.find("Not determined") == std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestPostureTable)
#include "tst_posturetable.moc"
