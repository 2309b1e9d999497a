#include "attestation/eventlog.h"
#include "attestation/eventlogfile.h"
#include "attestation/eventlogjson.h"
#include "attestation/eventlogreplay.h"
#include "fixturehost.h"
#include "testprinters.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using namespace vigil::attestation;
using vigil::protocol::PcrValues;
using nlohmann::json;

Q_DECLARE_METATYPE(EventLogError)

namespace {

const char *const fixtureNames[] = {"uefi-sha1-sha256", "small-sha256", "three-banks",
                                    "legacy-sha1"};

std::filesystem::path fixturePath(const std::string &name)
{
    return vigil::test::fixturesDir() / "eventlog" / name;
}

Bytes readFixture(const std::string &name)
{
    std::ifstream in(fixturePath(name + ".bin"), std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

json readExpected(const std::string &name)
{
    std::ifstream in(fixturePath(name + ".expected.json"));
    return json::parse(in);
}

QByteArray toQByteArray(const Bytes &bytes)
{
    return QByteArray(reinterpret_cast<const char *>(bytes.data()), qsizetype(bytes.size()));
}

Bytes toBytes(const QByteArray &bytes)
{
    return Bytes(bytes.begin(), bytes.end());
}

// Writes logs field by field, so the bad-input rows say exactly which bytes are wrong and the
// expected error offsets can be taken from where a field was written.
class LogBuilder
{
public:
    std::size_t size() const { return m_bytes.size(); }
    const Bytes &bytes() const { return m_bytes; }

    LogBuilder &u8(std::uint8_t v)
    {
        m_bytes.push_back(v);
        return *this;
    }
    LogBuilder &u16(std::uint16_t v) { return u8(std::uint8_t(v & 0xFF)).u8(std::uint8_t(v >> 8)); }
    LogBuilder &u32(std::uint32_t v)
    {
        return u16(std::uint16_t(v & 0xFFFF)).u16(std::uint16_t(v >> 16));
    }
    LogBuilder &raw(const Bytes &bytes)
    {
        m_bytes.insert(m_bytes.end(), bytes.begin(), bytes.end());
        return *this;
    }
    LogBuilder &fill(std::size_t count, std::uint8_t value)
    {
        m_bytes.insert(m_bytes.end(), count, value);
        return *this;
    }

    // TCG_EfiSpecIdEvent data.
    static Bytes specIdData(const std::vector<std::pair<std::uint16_t, std::uint16_t>> &algorithms,
                            std::uint8_t uintnSize = 2, const Bytes &vendor = {})
    {
        LogBuilder data;
        data.raw(vigil::toBytes(std::string_view("Spec ID Event03\0", 16)));
        data.u32(0).u8(0).u8(2).u8(0).u8(uintnSize).u32(std::uint32_t(algorithms.size()));
        for (const auto &[id, size] : algorithms)
            data.u16(id).u16(size);
        data.u8(std::uint8_t(vendor.size())).raw(vendor);
        return data.m_bytes;
    }

    // TCG_PCR_EVENT.
    LogBuilder &legacyEvent(std::uint32_t pcr, std::uint32_t type, const Bytes &data)
    {
        return u32(pcr).u32(type).fill(20, 0x11).u32(std::uint32_t(data.size())).raw(data);
    }

    LogBuilder &specId(const std::vector<std::pair<std::uint16_t, std::uint16_t>> &algorithms)
    {
        return legacyEvent(0, evNoAction, specIdData(algorithms));
    }

    // TCG_PCR_EVENT2 with one digest per (algorithm, size), each byte `fill`.
    LogBuilder &event(std::uint32_t pcr, std::uint32_t type,
                      const std::vector<std::pair<std::uint16_t, std::size_t>> &digests,
                      const Bytes &data, std::uint8_t fillByte = 0xAB)
    {
        u32(pcr).u32(type).u32(std::uint32_t(digests.size()));
        for (const auto &[id, size] : digests)
            u16(id).fill(size, fillByte);
        return u32(std::uint32_t(data.size())).raw(data);
    }

private:
    Bytes m_bytes;
};

constexpr std::uint32_t evPostCode = 0x1;
constexpr std::uint32_t evSCrtmVersion = 0x8;
constexpr std::uint32_t evEfiAction = 0x80000007;
const Bytes separatorData{0, 0, 0, 0};
const std::vector<std::pair<std::uint16_t, std::uint16_t>> sha256Only{{tpmAlgSha256, 32}};
const std::vector<std::pair<std::uint16_t, std::uint16_t>> sha1AndSha256{{tpmAlgSha1, 20},
                                                                         {tpmAlgSha256, 32}};

// Size of the first (TCG_PCR_EVENT) event carrying a Spec ID with n algorithms and no vendor info.
std::size_t specIdEventSize(std::size_t algorithms)
{
    return 32 + 16 + 8 + 4 + 4 * algorithms + 1;
}

// What `tpm2_eventlog` (tpm2-tools, an independent parser) makes of a log: its YAML, read just
// far enough for the fields compared.
struct ToolEvent
{
    unsigned pcr = 0;
    QString type;
    std::map<std::string, std::string> digests;
};

struct ToolOutput
{
    std::vector<ToolEvent> events;
    std::map<std::string, std::map<unsigned, std::string>> pcrs;
};

ToolOutput parseToolYaml(const QByteArray &yaml)
{
    static const QRegularExpression pcrIndex(QStringLiteral("^\\s*PCRIndex: (\\d+)$"));
    static const QRegularExpression eventType(QStringLiteral("^\\s*EventType: (.+)$"));
    static const QRegularExpression algorithm(QStringLiteral("^\\s*- AlgorithmId: (\\w+)$"));
    static const QRegularExpression digest(QStringLiteral("^\\s*Digest: \"([0-9a-f]+)\"$"));
    static const QRegularExpression bank(QStringLiteral("^  (\\w+):$"));
    static const QRegularExpression pcrValue(QStringLiteral("^    (\\d+)\\s*: 0x([0-9a-f]+)$"));

    ToolOutput out;
    bool inPcrs = false;
    std::string currentAlgorithm;
    std::string currentBank;
    for (const QByteArray &rawLine : yaml.split('\n')) {
        const QString line = QString::fromUtf8(rawLine);
        if (line == QLatin1String("pcrs:")) {
            inPcrs = true;
            continue;
        }
        QRegularExpressionMatch m;
        if (inPcrs) {
            if ((m = bank.match(line)).hasMatch())
                currentBank = m.captured(1).toStdString();
            else if ((m = pcrValue.match(line)).hasMatch())
                out.pcrs[currentBank][m.captured(1).toUInt()] = m.captured(2).toStdString();
            continue;
        }
        if ((m = pcrIndex.match(line)).hasMatch()) {
            out.events.push_back({m.captured(1).toUInt(), {}, {}});
            currentAlgorithm.clear();
        } else if (out.events.empty()) {
            continue;
        } else if ((m = eventType.match(line)).hasMatch()) {
            out.events.back().type = m.captured(1);
        } else if ((m = algorithm.match(line)).hasMatch()) {
            currentAlgorithm = m.captured(1).toStdString();
        } else if ((m = digest.match(line)).hasMatch()) {
            // The TCG_PCR_EVENT form (first event, legacy logs) has one SHA-1 digest, unnamed.
            out.events.back().digests[currentAlgorithm.empty() ? "sha1" : currentAlgorithm] =
                m.captured(1).toStdString();
            currentAlgorithm.clear();
        }
    }
    return out;
}

// tpm2-tools before 5.5 extends EV_NO_ACTION events and ignores StartupLocality when it
// replays (tpm2-tools issues 3224 and 3146, fixed by pull requests 3230 and 3242), so its PCR
// values are wrong for exactly the PCRs such events name. Vigil's values for those PCRs are
// checked against the hashlib-computed expectations instead.
bool toolReplaysNoAction(const QByteArray &versionOutput)
{
    static const QRegularExpression version(QStringLiteral("version=\"(\\d+)\\.(\\d+)"));
    const auto m = version.match(QString::fromUtf8(versionOutput));
    if (!m.hasMatch())
        return false;
    const int major = m.captured(1).toInt();
    const int minor = m.captured(2).toInt();
    return major > 5 || (major == 5 && minor >= 5);
}

QByteArray runTool(const QStringList &args, int *exitCode = nullptr)
{
    QProcess process;
    process.start(QStringLiteral("tpm2_eventlog"), args);
    if (!process.waitForStarted(10000) || !process.waitForFinished(60000)) {
        qWarning("tpm2_eventlog did not run: %s", qPrintable(process.errorString()));
        if (exitCode)
            *exitCode = -1;
        return {};
    }
    if (exitCode)
        *exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    return process.readAllStandardOutput();
}

} // namespace

class TestEventLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesFixtures_data()
    {
        QTest::addColumn<QString>("name");
        for (const char *name : fixtureNames)
            QTest::newRow(name) << QString::fromLatin1(name);
    }

    // Every event, digest and replayed PCR against what generate.py computed with hashlib.
    void parsesFixtures()
    {
        QFETCH(QString, name);
        const Bytes bytes = readFixture(name.toStdString());
        const json expected = readExpected(name.toStdString());
        QCOMPARE(bytes.size(), expected["size"].get<std::size_t>());

        const EventLogParse parse = parseEventLog(bytes);
        QVERIFY2(parse.ok(), parse.message.c_str());
        QCOMPARE(parse.error, EventLogError::None);
        const EventLog &log = *parse.log;
        QCOMPARE(log.events.size(), expected["event_count"].get<std::size_t>());
        QCOMPARE(parse.eventsParsed, log.events.size());

        std::vector<EventLogAlgorithm> algorithms;
        for (const auto &[algorithm, size] : expected["algorithms"].items()) {
            const auto id = algorithm == "sha1"     ? tpmAlgSha1
                            : algorithm == "sha256" ? tpmAlgSha256
                                                    : tpmAlgSha384;
            algorithms.push_back({id, size.get<std::uint16_t>()});
        }
        auto sorted = log.algorithms;
        std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a.id < b.id; });
        QVERIFY(sorted == algorithms);
        QVERIFY(log.algorithms == algorithms); // generate.py lists banks in ascending id order

        for (std::size_t i = 0; i < log.events.size(); ++i) {
            const auto &event = log.events[i];
            const auto &want = expected["events"][i];
            const QByteArray where = "event " + QByteArray::number(qulonglong(i));
            QVERIFY2(event.pcrIndex == want["pcr"].get<std::uint32_t>(), where);
            QCOMPARE(eventTypeName(event.type), want["type"].get<std::string>());
            QVERIFY2(event.data.size() == want["data_size"].get<std::size_t>(), where);
            QVERIFY2(event.digests.size() == want["digests"].size(), where);
            for (const auto &digest : event.digests) {
                const auto bank = eventLogAlgorithmName(digest.algorithm);
                QVERIFY2(want["digests"].contains(bank), where);
                QCOMPARE(toHex(digest.digest), want["digests"][bank].get<std::string>());
            }
            if (i > 0)
                QVERIFY(event.offset > log.events[i - 1].offset);
        }

        const EventLogPcrBanks banks = replayEventLog(log);
        QCOMPARE(banks.size(), expected["pcrs"].size());
        for (const auto &item : expected["pcrs"].items()) {
            // Named copies: clang 14 cannot capture structured bindings in a lambda.
            const std::string bankName = item.key();
            const auto &values = item.value();
            const auto bank = std::find_if(banks.begin(), banks.end(), [&](const auto &entry) {
                return eventLogAlgorithmName(entry.first) == bankName;
            });
            QVERIFY2(bank != banks.end(), bankName.c_str());
            std::map<unsigned, std::string> got;
            for (const auto &[pcr, value] : bank->second)
                got[pcr] = toHex(value);
            std::map<unsigned, std::string> want;
            for (const auto &[pcr, value] : values.items())
                want[unsigned(std::stoul(pcr))] = value.get<std::string>();
            QVERIFY2(got == want, bankName.c_str());
        }

        const PcrValues sha256 = replaySha256(log);
        if (expected["pcrs"].contains("sha256")) {
            QCOMPARE(sha256.size(), expected["pcrs"]["sha256"].size());
            for (const auto &[pcr, value] : sha256)
                QCOMPARE(toHex(value), expected["pcrs"]["sha256"][std::to_string(pcr)]);
        } else {
            QVERIFY(sha256.empty());
        }
    }

    void specIdFields()
    {
        const auto uefi = parseEventLog(readFixture("uefi-sha1-sha256"));
        QVERIFY(uefi.ok());
        QCOMPARE(uefi.log->format, EventLogFormat::CryptoAgile);
        QVERIFY(uefi.log->specId);
        const EventLogSpecId &spec = *uefi.log->specId;
        QCOMPARE(spec.platformClass, 0u);
        QCOMPARE(spec.specVersionMajor, std::uint8_t(2));
        QCOMPARE(spec.specVersionMinor, std::uint8_t(0));
        QCOMPARE(spec.specErrata, std::uint8_t(0));
        QCOMPARE(spec.uintnSize, std::uint8_t(2));
        QVERIFY((spec.algorithms == std::vector<EventLogAlgorithm>{{0x0004, 20}, {0x000B, 32}}));
        QVERIFY(spec.vendorInfo.empty());
        // The Spec ID event is event 0, in the legacy form with an all-zero SHA-1 digest.
        const auto &first = uefi.log->events.front();
        QCOMPARE(first.type, evNoAction);
        QCOMPARE(first.digests.size(), std::size_t(1));
        QCOMPARE(first.digests[0].algorithm, tpmAlgSha1);
        QVERIFY(first.digests[0].digest == Bytes(20, 0));

        const auto small = parseEventLog(readFixture("small-sha256"));
        QVERIFY(small.ok());
        QVERIFY(small.log->specId->vendorInfo == vigil::toBytes("vigil"));
        QVERIFY((small.log->algorithms == std::vector<EventLogAlgorithm>{{0x000B, 32}}));

        const auto legacy = parseEventLog(readFixture("legacy-sha1"));
        QVERIFY(legacy.ok());
        QCOMPARE(legacy.log->format, EventLogFormat::Sha1Legacy);
        QVERIFY(!legacy.log->specId);
        QVERIFY((legacy.log->algorithms == std::vector<EventLogAlgorithm>{{0x0004, 20}}));
        QVERIFY(replaySha256(*legacy.log).empty());
    }

    void eventTypeNames()
    {
        QCOMPARE(eventTypeName(0x1), std::string("EV_POST_CODE"));
        QCOMPARE(eventTypeName(0x3), std::string("EV_NO_ACTION"));
        QCOMPARE(eventTypeName(0x4), std::string("EV_SEPARATOR"));
        QCOMPARE(eventTypeName(0x6), std::string("EV_EVENT_TAG"));
        QCOMPARE(eventTypeName(0x8), std::string("EV_S_CRTM_VERSION"));
        QCOMPARE(eventTypeName(0xD), std::string("EV_IPL"));
        QCOMPARE(eventTypeName(0x80000001), std::string("EV_EFI_VARIABLE_DRIVER_CONFIG"));
        QCOMPARE(eventTypeName(0x80000002), std::string("EV_EFI_VARIABLE_BOOT"));
        QCOMPARE(eventTypeName(0x80000003), std::string("EV_EFI_BOOT_SERVICES_APPLICATION"));
        QCOMPARE(eventTypeName(0x80000006), std::string("EV_EFI_GPT_EVENT"));
        QCOMPARE(eventTypeName(0x80000007), std::string("EV_EFI_ACTION"));
        QCOMPARE(eventTypeName(0x80000008), std::string("EV_EFI_PLATFORM_FIRMWARE_BLOB"));
        QCOMPARE(eventTypeName(0x80000009), std::string("EV_EFI_HANDOFF_TABLES"));
        QCOMPARE(eventTypeName(0x800000E0), std::string("EV_EFI_VARIABLE_AUTHORITY"));
        QCOMPARE(eventTypeName(0x0000F00D), std::string("0x0000f00d"));
        QCOMPARE(eventTypeName(0xFFFFFFFF), std::string("0xffffffff"));
        QCOMPARE(eventLogAlgorithmName(tpmAlgSha256), std::string("sha256"));
        QCOMPARE(eventLogAlgorithmName(0x1234), std::string("0x1234"));
    }

    // The same bytes through tpm2_eventlog: event count, per-event PCR, type and every digest,
    // and the replayed PCRs of every bank.
    void crossCheckTpm2Eventlog_data() { parsesFixtures_data(); }

    void crossCheckTpm2Eventlog()
    {
        QFETCH(QString, name);
        const bool replaysNoAction = toolReplaysNoAction(runTool({QStringLiteral("--version")}));
        const QString path = QString::fromStdString(fixturePath(name.toStdString() + ".bin"));
        int exitCode = 0;
        const ToolOutput tool = parseToolYaml(runTool({path}, &exitCode));
        QCOMPARE(exitCode, 0);

        const auto parse = parseEventLog(readFixture(name.toStdString()));
        QVERIFY(parse.ok());
        const EventLog &log = *parse.log;
        QCOMPARE(tool.events.size(), log.events.size());
        std::set<unsigned> noActionPcrs;
        for (std::size_t i = 0; i < log.events.size(); ++i) {
            const auto &mine = log.events[i];
            const auto &theirs = tool.events[i];
            QCOMPARE(theirs.pcr, mine.pcrIndex);
            const QString type = QString::fromStdString(eventTypeName(mine.type));
            QCOMPARE(theirs.type, type.startsWith(QLatin1String("0x"))
                                      ? QStringLiteral("Unknown event type")
                                      : type);
            std::map<std::string, std::string> digests;
            for (const auto &digest : mine.digests)
                digests[eventLogAlgorithmName(digest.algorithm)] = toHex(digest.digest);
            QVERIFY2(theirs.digests == digests, qPrintable(QString::number(i)));
            if (i > 0 && mine.type == evNoAction)
                noActionPcrs.insert(mine.pcrIndex);
        }

        const auto banks = replayEventLog(log);
        QCOMPARE(tool.pcrs.size(), banks.size());
        std::size_t compared = 0;
        for (const auto &[id, values] : banks) {
            const auto theirs = tool.pcrs.find(eventLogAlgorithmName(id));
            QVERIFY(theirs != tool.pcrs.end());
            QCOMPARE(theirs->second.size(), values.size());
            for (const auto &[pcr, value] : values) {
                QVERIFY(theirs->second.count(pcr));
                if (!replaysNoAction && noActionPcrs.count(pcr))
                    continue;
                QCOMPARE(QString::fromStdString(toHex(value)),
                         QString::fromStdString(theirs->second.at(pcr)));
                ++compared;
            }
        }
        QVERIFY(compared >= 7);
    }

    void startupLocality()
    {
        LogBuilder builder;
        builder.specId(sha256Only);
        const Bytes locality =
            vigil::toBytes(std::string_view("StartupLocality\0\3", 17));
        builder.event(0, evNoAction, {{tpmAlgSha256, 32}}, locality, 0);
        auto parse = parseEventLog(builder.bytes());
        QVERIFY2(parse.ok(), parse.message.c_str());
        Bytes three(32, 0);
        three.back() = 3;
        QVERIFY(replaySha256(*parse.log) == (PcrValues{{0, three}}));

        // Once PCR 0 has been measured a StartupLocality event cannot be its starting value.
        LogBuilder late;
        late.specId(sha256Only);
        late.event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData, 0x5A);
        late.event(0, evNoAction, {{tpmAlgSha256, 32}}, locality, 0);
        parse = parseEventLog(late.bytes());
        QVERIFY(parse.ok());
        LogBuilder without;
        without.specId(sha256Only);
        without.event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData, 0x5A);
        QVERIFY(replaySha256(*parse.log) == replaySha256(*parseEventLog(without.bytes()).log));

        // A StartupLocality signature with a different length is another EV_NO_ACTION event.
        LogBuilder odd;
        odd.specId(sha256Only);
        odd.event(0, evNoAction, {{tpmAlgSha256, 32}},
                  vigil::toBytes(std::string_view("StartupLocality\0\3\0", 18)), 0);
        parse = parseEventLog(odd.bytes());
        QVERIFY(parse.ok());
        QVERIFY(replaySha256(*parse.log).empty());
    }

    void replayExtends()
    {
        // PCR 7 = SHA-256(zeros || d1), then SHA-256(that || d2); EV_NO_ACTION is skipped.
        LogBuilder builder;
        builder.specId(sha256Only);
        builder.event(7, evSeparator, {{tpmAlgSha256, 32}}, separatorData, 0x01);
        builder.event(7, evNoAction, {{tpmAlgSha256, 32}}, {}, 0x02);
        builder.event(7, evSeparator, {{tpmAlgSha256, 32}}, separatorData, 0x03);
        const auto parse = parseEventLog(builder.bytes());
        QVERIFY(parse.ok());
        // v = bytes(32); for b in (1, 3): v = hashlib.sha256(v + bytes([b]) * 32).digest()
        QCOMPARE(toHex(replaySha256(*parse.log).at(7)),
                 std::string("b783a4f7e5a40f0dd29cd2e9ef83bcd4b3225a48fcc694de40e2ca6d517b9862"));
    }

    // A bank the Spec ID lists but no one can compute is parsed and left out of the replay.
    void unknownBankIsParsedNotReplayed()
    {
        LogBuilder builder;
        builder.specId({{tpmAlgSha256, 32}, {0x1234, 16}});
        builder.event(1, evSeparator, {{tpmAlgSha256, 32}, {0x1234, 16}}, separatorData);
        const auto parse = parseEventLog(builder.bytes());
        QVERIFY2(parse.ok(), parse.message.c_str());
        QCOMPARE(parse.log->events[1].digests[1].digest.size(), std::size_t(16));
        const auto banks = replayEventLog(*parse.log);
        QCOMPARE(banks.size(), std::size_t(1));
        QVERIFY(banks.count(tpmAlgSha256));
        const auto text = eventLogToJson(*parse.log).dump();
        QVERIFY(text.find("\"0x1234\":\"abababababababababababababababab\"") != std::string::npos);
    }

    void limitsThatHold_data()
    {
        QTest::addColumn<QByteArray>("log");
        QTest::addColumn<int>("events");

        LogBuilder noAction;
        noAction.specId(sha256Only).event(0xFFFFFFFF, evNoAction, {{tpmAlgSha256, 32}}, {});
        QTest::newRow("EV_NO_ACTION on any PCR") << toQByteArray(noAction.bytes()) << 2;

        LogBuilder largest;
        largest.specId(sha256Only)
            .event(23, evPostCode, {{tpmAlgSha256, 32}}, Bytes(eventLogMaxEventDataSize, 'x'));
        QTest::newRow("1 MiB event data on PCR 23") << toQByteArray(largest.bytes()) << 2;

        LogBuilder subset;
        subset.specId(sha1AndSha256).event(4, evEfiAction, {{tpmAlgSha256, 32}}, {});
        QTest::newRow("fewer digests than banks") << toQByteArray(subset.bytes()) << 2;

        LogBuilder order;
        order.specId(sha1AndSha256)
            .event(4, evEfiAction, {{tpmAlgSha256, 32}, {tpmAlgSha1, 20}}, {});
        QTest::newRow("digests in another order") << toQByteArray(order.bytes()) << 2;

        LogBuilder specOnly;
        specOnly.specId(sha256Only);
        QTest::newRow("Spec ID alone") << toQByteArray(specOnly.bytes()) << 1;

        LogBuilder uintn32;
        uintn32.legacyEvent(0, evNoAction, LogBuilder::specIdData(sha256Only, 1));
        QTest::newRow("uintnSize 1") << toQByteArray(uintn32.bytes()) << 1;
    }

    void limitsThatHold()
    {
        QFETCH(QByteArray, log);
        QFETCH(int, events);
        const auto parse = parseEventLog(toBytes(log));
        QVERIFY2(parse.ok(), parse.message.c_str());
        QCOMPARE(parse.log->events.size(), std::size_t(events));
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("log");
        QTest::addColumn<EventLogError>("error");
        QTest::addColumn<qulonglong>("offset");
        QTest::addColumn<int>("parsed");

        auto row = [](const char *name, const LogBuilder &log, EventLogError error,
                      std::size_t offset, int parsed) {
            QTest::newRow(name) << toQByteArray(log.bytes()) << error << qulonglong(offset)
                                << parsed;
        };
        const std::size_t specEnd = specIdEventSize(1);     // sha256 only
        const std::size_t specEnd2 = specIdEventSize(2);    // sha1 + sha256
        const std::size_t countField = 32 + 16 + 8;         // numberOfAlgorithms in the log
        const std::size_t algorithmsField = countField + 4; // first algorithm entry

        row("empty", LogBuilder(), EventLogError::Empty, 0, 0);

        LogBuilder zeroAlgorithms;
        zeroAlgorithms.legacyEvent(0, evNoAction, LogBuilder::specIdData({}));
        row("Spec ID with zero algorithms", zeroAlgorithms, EventLogError::BadSpecId, countField,
            0);

        LogBuilder manyAlgorithms;
        std::vector<std::pair<std::uint16_t, std::uint16_t>> seventeen;
        for (std::uint16_t i = 0; i < 17; ++i)
            seventeen.push_back({std::uint16_t(0x100 + i), 32});
        manyAlgorithms.legacyEvent(0, evNoAction, LogBuilder::specIdData(seventeen));
        row("Spec ID with 17 algorithms", manyAlgorithms, EventLogError::BadSpecId, countField, 0);

        LogBuilder wrongSize;
        wrongSize.legacyEvent(0, evNoAction, LogBuilder::specIdData({{tpmAlgSha256, 20}}));
        row("Spec ID sha256 of 20 bytes", wrongSize, EventLogError::BadSpecId, algorithmsField, 0);

        LogBuilder hugeDigest;
        hugeDigest.legacyEvent(0, evNoAction,
                               LogBuilder::specIdData({{tpmAlgSha256, 32}, {0x1234, 65}}));
        row("Spec ID digest of 65 bytes", hugeDigest, EventLogError::BadSpecId, algorithmsField + 4,
            0);

        LogBuilder emptyDigest;
        emptyDigest.legacyEvent(0, evNoAction, LogBuilder::specIdData({{0x1234, 0}}));
        row("Spec ID digest of 0 bytes", emptyDigest, EventLogError::BadSpecId, algorithmsField, 0);

        LogBuilder twice;
        twice.legacyEvent(0, evNoAction,
                          LogBuilder::specIdData({{tpmAlgSha256, 32}, {tpmAlgSha256, 32}}));
        row("Spec ID lists sha256 twice", twice, EventLogError::BadSpecId, algorithmsField + 4, 0);

        LogBuilder uintn;
        uintn.legacyEvent(0, evNoAction, LogBuilder::specIdData(sha256Only, 3));
        row("Spec ID uintnSize 3", uintn, EventLogError::BadSpecId, countField - 1, 0);

        LogBuilder specTrailing;
        Bytes specData = LogBuilder::specIdData(sha256Only);
        specData.push_back(0);
        specTrailing.legacyEvent(0, evNoAction, specData);
        row("Spec ID with a trailing byte", specTrailing, EventLogError::BadSpecId, specEnd, 0);

        LogBuilder vendorPastEnd;
        Bytes vendorData = LogBuilder::specIdData(sha256Only);
        vendorData.back() = 4; // vendorInfoSize 4, no vendor bytes follow
        vendorPastEnd.legacyEvent(0, evNoAction, vendorData);
        row("Spec ID vendor info past its end", vendorPastEnd, EventLogError::BadSpecId, specEnd,
            0);

        LogBuilder shortList;
        Bytes shortData = LogBuilder::specIdData(sha256Only);
        shortData[24] = 2; // numberOfAlgorithms 2, one entry present
        shortList.legacyEvent(0, evNoAction, shortData);
        row("Spec ID algorithm list past its end", shortList, EventLogError::BadSpecId,
            algorithmsField, 0);

        LogBuilder specPcr;
        specPcr.legacyEvent(1, evNoAction, LogBuilder::specIdData(sha256Only));
        row("Spec ID on PCR 1", specPcr, EventLogError::BadSpecId, 48, 0);

        LogBuilder unknown;
        unknown.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha1, 20}}, separatorData);
        row("digest of an algorithm the Spec ID does not list", unknown,
            EventLogError::UnknownAlgorithm, specEnd + 12, 1);

        LogBuilder undefined;
        undefined.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        undefined.event(0, evSeparator, {{0x1234, 32}}, separatorData);
        row("undefined algorithm id", undefined, EventLogError::UnknownAlgorithm,
            specEnd + 12 + 2 + 32 + 4 + 4 + 12, 2);

        LogBuilder tooMany;
        tooMany.specId(sha256Only)
            .event(0, evSeparator, {{tpmAlgSha256, 32}, {tpmAlgSha256, 32}}, separatorData);
        row("more digests than banks", tooMany, EventLogError::BadDigestList, specEnd + 8, 1);

        LogBuilder noDigest;
        noDigest.specId(sha256Only).event(0, evSeparator, {}, separatorData);
        row("no digest", noDigest, EventLogError::BadDigestList, specEnd + 8, 1);

        LogBuilder sameBank;
        sameBank.specId(sha1AndSha256)
            .event(0, evSeparator, {{tpmAlgSha256, 32}, {tpmAlgSha256, 32}}, separatorData);
        row("one bank twice", sameBank, EventLogError::BadDigestList, specEnd2 + 12 + 34, 1);

        LogBuilder shortDigest;
        shortDigest.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 20}}, separatorData);
        row("sha256 digest of 20 bytes", shortDigest, EventLogError::Truncated, specEnd + 14, 1);

        LogBuilder longDigest;
        longDigest.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 48}}, separatorData);
        // The 16 extra digest bytes (0xab) are read as the data size: 0xabababab is absurd.
        row("sha256 digest of 48 bytes", longDigest, EventLogError::SizeLimit, specEnd + 14 + 32,
            1);

        LogBuilder absurd;
        absurd.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, {});
        absurd.u32(1).u32(evPostCode).u32(1).u16(tpmAlgSha256).fill(32, 0).u32(0xFFFFFFFF);
        row("event data size 4 GiB", absurd, EventLogError::SizeLimit, specEnd + 50 + 46, 2);

        LogBuilder overLimit;
        overLimit.specId(sha256Only);
        overLimit.u32(1).u32(evPostCode).u32(1).u16(tpmAlgSha256).fill(32, 0);
        overLimit.u32(std::uint32_t(eventLogMaxEventDataSize + 1))
            .fill(eventLogMaxEventDataSize + 1, 'x');
        row("event data 1 MiB + 1", overLimit, EventLogError::SizeLimit, specEnd + 46, 1);

        LogBuilder pastEnd;
        pastEnd.specId(sha256Only);
        pastEnd.u32(1).u32(evPostCode).u32(1).u16(tpmAlgSha256).fill(32, 0).u32(100).fill(99, 'x');
        row("event data past the end", pastEnd, EventLogError::Truncated, specEnd + 50, 1);

        LogBuilder pcr24;
        pcr24.specId(sha256Only).event(24, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        row("PCR 24", pcr24, EventLogError::BadPcrIndex, specEnd, 1);

        LogBuilder trailing;
        trailing.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        trailing.u8(1).u8(2).u8(3);
        row("3 bytes of trailing garbage", trailing, EventLogError::Truncated, specEnd + 54, 2);

        LogBuilder garbage;
        garbage.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        garbage.raw(vigil::toBytes("garbage after the log"));
        row("text after the log", garbage, EventLogError::BadPcrIndex, specEnd + 54, 2);

        LogBuilder zeros;
        zeros.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        zeros.fill(64, 0);
        row("zero padding", zeros, EventLogError::TrailingData, specEnd + 54, 2);

        LogBuilder ones;
        ones.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        ones.fill(5, 0xFF);
        row("0xff padding", ones, EventLogError::TrailingData, specEnd + 54, 2);

        LogBuilder legacyPcr;
        legacyPcr.legacyEvent(0, evSCrtmVersion, {}).legacyEvent(30, evSeparator, separatorData);
        row("legacy log, PCR 30", legacyPcr, EventLogError::BadPcrIndex, 32, 1);

        LogBuilder legacyShort;
        legacyShort.legacyEvent(0, evSCrtmVersion, {}).u32(1).u32(evSeparator).fill(19, 0x22);
        row("legacy log, short SHA-1 digest", legacyShort, EventLogError::Truncated, 32, 1);
    }

    void rejects()
    {
        QFETCH(QByteArray, log);
        QFETCH(EventLogError, error);
        QFETCH(qulonglong, offset);
        QFETCH(int, parsed);
        const auto parse = parseEventLog(toBytes(log));
        QVERIFY(!parse.log);
        QCOMPARE(eventLogErrorName(parse.error), eventLogErrorName(error));
        QCOMPARE(parse.errorOffset, std::size_t(offset));
        QCOMPARE(parse.eventsParsed, std::size_t(parsed));
        QCOMPARE(parse.errorEvent, std::size_t(parsed));
        // The message names the event and where it starts.
        const std::string prefix = "event " + std::to_string(parsed) + " (at offset ";
        QVERIFY2(parse.message.rfind(prefix, 0) == 0, parse.message.c_str());
    }

    void errorMessages()
    {
        LogBuilder log;
        log.specId(sha256Only).event(0, evSeparator, {{tpmAlgSha256, 32}}, separatorData);
        log.u32(1).u32(evPostCode).u32(1).u16(tpmAlgSha256).fill(10, 0);
        const auto parse = parseEventLog(log.bytes());
        QCOMPARE(parse.message, std::string("event 2 (at offset 119): truncated digest: needs 32 "
                                            "bytes at offset 133, only 10 remain"));

        LogBuilder zero;
        zero.legacyEvent(0, evNoAction, LogBuilder::specIdData({}));
        QCOMPARE(parseEventLog(zero.bytes()).message,
                 std::string("event 0 (at offset 0): Spec ID event: lists no algorithms"));
    }

    // Every proper prefix of a log either ends exactly after an event (a shorter valid log) or
    // is rejected as truncated (or, when the cut leaves only zero bytes of the next event's PCR
    // index, as padding) with the complete events counted — never a crash or an over-read
    // (the asan preset runs this too).
    void truncationAtEveryOffset_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("small-sha256") << QStringLiteral("small-sha256");
        QTest::newRow("uefi-sha1-sha256") << QStringLiteral("uefi-sha1-sha256");
        QTest::newRow("legacy-sha1") << QStringLiteral("legacy-sha1");
    }

    void truncationAtEveryOffset()
    {
        QFETCH(QString, name);
        const Bytes bytes = readFixture(name.toStdString());
        const auto full = parseEventLog(bytes);
        QVERIFY(full.ok());
        std::vector<std::size_t> ends;
        for (std::size_t i = 1; i < full.log->events.size(); ++i)
            ends.push_back(full.log->events[i].offset);
        ends.push_back(bytes.size());

        for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
            // A copy of exactly `cut` bytes, so ASan sees any read past it.
            const Bytes prefix(bytes.begin(), bytes.begin() + std::ptrdiff_t(cut));
            const auto parse = parseEventLog(prefix);
            const auto complete =
                std::size_t(std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
            const QByteArray where = "cut at " + QByteArray::number(qulonglong(cut)) + ": " +
                                     QByteArray::fromStdString(parse.message);
            if (cut == 0) {
                QCOMPARE(parse.error, EventLogError::Empty);
            } else if (std::binary_search(ends.begin(), ends.end(), cut)) {
                QVERIFY2(parse.ok(), where);
                QVERIFY2(parse.log->events.size() == complete, where);
            } else {
                QVERIFY2(parse.error == EventLogError::Truncated ||
                             parse.error == EventLogError::TrailingData,
                         where);
                QVERIFY2(parse.eventsParsed == complete, where);
                QVERIFY2(parse.errorOffset <= cut, where);
            }
        }
    }

    // Single-byte corruptions anywhere: parse, replay and JSON must hold up whatever the result.
    void corruptionAtEveryOffset()
    {
        const Bytes bytes = readFixture("small-sha256");
        for (std::size_t at = 0; at < bytes.size(); ++at) {
            for (std::uint8_t value :
                 {std::uint8_t(0x00), std::uint8_t(0xFF), std::uint8_t(bytes[at] ^ 0x80)}) {
                Bytes copy = bytes;
                copy[at] = value;
                const auto parse = parseEventLog(copy);
                if (parse.ok()) {
                    replayEventLog(*parse.log);
                    QVERIFY(!eventLogToJson(*parse.log).dump().empty());
                } else {
                    QVERIFY(parse.error != EventLogError::None);
                    QVERIFY(!parse.message.empty());
                    QVERIFY(parse.errorOffset <= copy.size());
                }
            }
        }
    }

    void jsonForm()
    {
        const auto parse = parseEventLog(readFixture("uefi-sha1-sha256"));
        QVERIFY(parse.ok());
        const json form = eventLogToJson(*parse.log);
        QCOMPARE(form["format"], "crypto_agile");
        QCOMPARE(form["spec_id"],
                 json::parse(R"({"platform_class":0,"spec_version_major":2,"spec_version_minor":0,
                    "spec_errata":0,"uintn_size":2,"vendor_info":"","algorithms":[
                    {"algorithm":"sha1","digest_size":20},{"algorithm":"sha256","digest_size":32}]})"));
        QCOMPARE(form["events"].size(), std::size_t(43));

        // EV_EFI_ACTION as text, digests by bank name.
        const json expected18 = json::parse(R"({"pcr":4,"type":"EV_EFI_ACTION",
            "text":"Calling EFI Application from Boot Option","digests":{
            "sha1":"cd0fdb4531a6ec41be2753ba042637d6e5f7f256",
            "sha256":"3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba"}})");
        QCOMPARE(form["events"][18], expected18);
        // UCS-2 S-CRTM version, NUL-terminated grub strings, printable POST code.
        QCOMPARE(form["events"][2]["text"], "edk2-stable202302");
        QCOMPARE(form["events"][5]["text"], "ACPI DATA");
        QCOMPARE(form["events"][33]["text"], "(hd0,gpt1)/EFI/debian/grub.cfg");
        QCOMPARE(form["events"][39]["pcr"], 8);
        QVERIFY(form["events"][39]["text"].get<std::string>().rfind("kernel_cmdline: ", 0) == 0);
        // Binary data stays hex: separators, StartupLocality, a firmware blob's address.
        QCOMPARE(form["events"][11]["data"], "00000000");
        QVERIFY(!form["events"][11].contains("text"));
        QCOMPARE(form["events"][1]["data"], "537461727475704c6f63616c6974790000");
        QCOMPARE(form["events"][3]["data"], "000082000000000000000e0000000000");
        QCOMPARE(form["events"][3]["type"], "EV_EFI_PLATFORM_FIRMWARE_BLOB");

        // Deterministic: the same bytes give the same text.
        const auto again = parseEventLog(readFixture("uefi-sha1-sha256"));
        QCOMPARE(eventLogToJson(*again.log).dump(), form.dump());

        QCOMPARE(eventLogToJson(*parseEventLog(readFixture("legacy-sha1")).log)["format"],
                 "sha1_legacy");
        QVERIFY(
            !eventLogToJson(*parseEventLog(readFixture("legacy-sha1")).log).contains("spec_id"));
        QCOMPARE(
            eventLogToJson(*parseEventLog(readFixture("three-banks")).log)["events"][2]["type"],
            "0x0000f00d");
    }

    // Text types whose data is not printable ASCII stay hex, so the JSON is always valid UTF-8.
    void jsonTextOnlyWhenPrintable()
    {
        LogBuilder builder;
        builder.specId(sha256Only);
        builder.event(0, evPostCode, {{tpmAlgSha256, 32}}, {0x00, 0x00, 0x82, 0x00});
        builder.event(4, evEfiAction, {{tpmAlgSha256, 32}}, {'c', 'a', 'f', 0xC3, 0xA9});
        builder.event(4, evEfiAction, {{tpmAlgSha256, 32}}, {0xFF, 0xFE, 0x80});
        builder.event(0, evSCrtmVersion, {{tpmAlgSha256, 32}}, {0, 0});
        builder.event(4, evSeparator, {{tpmAlgSha256, 32}},
                      vigil::toBytes("printable but not a text type"));
        const auto parse = parseEventLog(builder.bytes());
        QVERIFY(parse.ok());
        const json form = eventLogToJson(*parse.log);
        QCOMPARE(form["events"][1]["data"], "00008200");
        QCOMPARE(form["events"][2]["data"], "636166c3a9");
        QCOMPARE(form["events"][3]["data"], "fffe80");
        QCOMPARE(form["events"][4]["text"], "");
        QVERIFY(form["events"][5].contains("data"));
        QVERIFY(!form.dump().empty());
    }

    void readFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path base = dir.path().toStdString();

        const auto missing = readEventLogFile(base / "tpm0" / "binary_bios_measurements");
        QCOMPARE(missing.status, EventLogFileStatus::NotPresent);
        QVERIFY(missing.error.find("binary_bios_measurements does not exist") != std::string::npos);
        QVERIFY(missing.bytes.empty());

        const auto empty = base / "empty";
        std::ofstream(empty).close();
        const auto emptyRead = readEventLogFile(empty);
        QCOMPARE(emptyRead.status, EventLogFileStatus::Empty);
        QVERIFY(emptyRead.error.find("is empty") != std::string::npos);

        const auto copy = base / "log";
        std::filesystem::copy_file(fixturePath("uefi-sha1-sha256.bin"), copy);
        const auto ok = readEventLogFile(copy);
        QCOMPARE(ok.status, EventLogFileStatus::Ok);
        QVERIFY(ok.error.empty());
        QVERIFY(ok.bytes == readFixture("uefi-sha1-sha256"));

        const auto capped = readEventLogFile(copy, 12127);
        QCOMPARE(capped.status, EventLogFileStatus::TooLarge);
        QVERIFY(capped.bytes.empty());
        QCOMPARE(readEventLogFile(copy, 12128).status, EventLogFileStatus::Ok);

        QCOMPARE(readEventLogFile(base).status, EventLogFileStatus::ReadError);

        // securityfs makes the file root-only; an unreadable plain file stands in for it. Root
        // passes permission checks, so it looks through an unprivileged effective uid.
        QVERIFY(::chmod(copy.c_str(), 0000) == 0);
        const bool root = ::geteuid() == 0;
        if (root)
            QVERIFY(::seteuid(65534) == 0);
        const auto denied = readEventLogFile(copy);
        if (root)
            QVERIFY(::seteuid(0) == 0);
        QCOMPARE(denied.status, EventLogFileStatus::PermissionDenied);
        QVERIFY(denied.error.find("readable by root only") != std::string::npos);
        QVERIFY(denied.bytes.empty());
    }

    // The machine's own log when it has one (and the test may read it); otherwise the reason.
    void readsThisMachinesLog()
    {
        const auto file = readEventLogFile();
        if (!std::filesystem::exists("/sys/kernel/security/tpm0")) {
            QCOMPARE(file.status, EventLogFileStatus::NotPresent);
            QSKIP("this machine exposes no TPM event log");
        }
        if (file.status == EventLogFileStatus::PermissionDenied)
            QSKIP("the TPM event log needs root");
        QCOMPARE(file.status, EventLogFileStatus::Ok);
        const auto parse = parseEventLog(file.bytes);
        QVERIFY2(parse.ok(), parse.message.c_str());
        int exitCode = 0;
        const ToolOutput tool =
            parseToolYaml(runTool({QString::fromLatin1(defaultEventLogPath)}, &exitCode));
        QCOMPARE(exitCode, 0);
        QCOMPARE(tool.events.size(), parse.log->events.size());
    }
};

QTEST_APPLESS_MAIN(TestEventLog)
#include "tst_eventlog.moc"
