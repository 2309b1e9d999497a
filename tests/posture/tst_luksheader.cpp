#include "fixturehost.h"
#include "posture/parsers/luksheader.h"

#include <QCryptographicHash>
#include <QtTest>
#include <fstream>
#include <iterator>
#include <random>

using namespace vigil;
using posture::LuksHeader;
using posture::parseLuksHeader;

namespace {

// Real headers written by `cryptsetup luksFormat` (2.6.1), kept as the fixture hosts' devices.
std::string fixtureDevice(const std::string &host, const std::string &device)
{
    std::ifstream in(test::fixturesDir() / "hosts" / host / "root" / "dev" / device,
                     std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string debianHeader()
{
    return fixtureDevice("debian12", "nvme0n1p3");
}

void putBigEndian(std::string &data, std::size_t offset, std::uint64_t value, std::size_t width)
{
    for (std::size_t i = 0; i < width; ++i)
        data[offset + width - 1 - i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

// Re-seals a LUKS2 primary header after a test changed it, as cryptsetup would: sha256 over
// hdr_size bytes with the checksum field zeroed.
void reseal(std::string &header, std::size_t headerSize = 16384)
{
    std::fill(header.begin() + 448, header.begin() + 512, '\0');
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(QByteArrayView(header.data(), static_cast<qsizetype>(headerSize)));
    const auto digest = hash.result();
    std::copy(digest.begin(), digest.end(), header.begin() + 448);
}

// The primary header with its JSON area replaced (NUL padded) and the checksum redone.
std::string withJson(const std::string &json)
{
    auto header = debianHeader().substr(0, 16384);
    std::fill(header.begin() + 4096, header.end(), '\0');
    std::copy(json.begin(), json.begin() + std::min<std::size_t>(json.size(), 12288),
              header.begin() + 4096);
    reseal(header);
    return header;
}

std::string jsonArea()
{
    const auto header = debianHeader();
    const auto area = header.substr(4096, 12288);
    return area.substr(0, area.find('\0'));
}

std::string replaced(std::string text, const std::string &from, const std::string &to)
{
    const auto pos = text.find(from);
    if (pos != std::string::npos)
        text.replace(pos, from.size(), to);
    return text;
}

QStringList kdfs(const LuksHeader &header)
{
    QStringList out;
    for (const auto &slot : header.keyslots)
        out << QString::number(slot.id) + QStringLiteral(":") + QString::fromStdString(slot.kdf);
    return out;
}

} // namespace

class TestLuksHeader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void realHeaders_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("device");
        QTest::addColumn<int>("version");
        QTest::addColumn<QString>("uuid");
        QTest::addColumn<QString>("label");
        QTest::addColumn<QString>("cipher");
        QTest::addColumn<int>("keyBits");
        QTest::addColumn<QString>("hash");
        QTest::addColumn<int>("sectorSize");
        QTest::addColumn<QStringList>("keyslots");
        QTest::addColumn<int>("headerSize");

        QTest::newRow("debian12 luks2 argon2id")
            << "debian12"
            << "nvme0n1p3" << 2 << "0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
            << ""
            << "aes-xts-plain64" << 512 << "sha256" << 4096
            << QStringList{QStringLiteral("0:argon2id")} << 16384;
        QTest::newRow("ubuntu2404 luks2 argon2id")
            << "ubuntu2404"
            << "sda3" << 2 << "7b3f2a10-5c4e-4d2b-9a81-6f0e3d2c1b4a"
            << ""
            << "aes-xts-plain64" << 512 << "sha256" << 4096
            << QStringList{QStringLiteral("0:argon2id")} << 16384;
        QTest::newRow("fedora41 luks2 argon2id + pbkdf2")
            << "fedora41"
            << "nvme0n1p3" << 2 << "3e1d5c7a-9b2f-4e6d-8a0c-1f2e3d4c5b6a"
            << "fedora-root"
            << "aes-xts-plain64" << 512 << "sha256" << 4096
            << QStringList{QStringLiteral("0:argon2id"), QStringLiteral("1:pbkdf2")} << 16384;
        QTest::newRow("arch luks1") << "arch"
                                    << "sdb1" << 1 << "a1b2c3d4-e5f6-4789-9abc-def012345678"
                                    << ""
                                    << "aes-xts-plain64" << 512 << "sha256" << 0
                                    << QStringList{QStringLiteral("0:pbkdf2")} << 592;
    }

    void realHeaders()
    {
        QFETCH(QString, host);
        QFETCH(QString, device);
        const auto data = fixtureDevice(host.toStdString(), device.toStdString());
        QVERIFY(!data.empty());
        const auto result = parseLuksHeader(data);
        QVERIFY2(result.header, result.error.c_str());
        QCOMPARE(result.error, std::string());
        const auto &header = *result.header;
        QTEST(header.version, "version");
        QCOMPARE(header.secondary, false);
        QTEST(QString::fromStdString(header.uuid), "uuid");
        QTEST(QString::fromStdString(header.label), "label");
        QTEST(QString::fromStdString(header.cipher), "cipher");
        QVERIFY(header.keyBits);
        QTEST(static_cast<int>(*header.keyBits), "keyBits");
        QTEST(QString::fromStdString(header.hash), "hash");
        QTEST(static_cast<int>(header.sectorSize.value_or(0)), "sectorSize");
        QTEST(kdfs(header), "keyslots");
        QTEST(static_cast<int>(header.headerSize), "headerSize");
    }

    void secondaryHeader()
    {
        const auto data = debianHeader();
        QCOMPARE(data.size(), std::size_t(32768));
        const auto result = parseLuksHeader(std::string_view(data).substr(16384));
        QVERIFY2(result.header, result.error.c_str());
        QCOMPARE(result.header->secondary, true);
        QCOMPARE(result.header->cipher, std::string("aes-xts-plain64"));
        QCOMPARE(result.header->uuid, std::string("0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));
    }

    void truncatedAtEveryLength_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("device");
        QTest::newRow("luks2") << "debian12"
                               << "nvme0n1p3";
        QTest::newRow("luks2 two keyslots") << "fedora41"
                                            << "nvme0n1p3";
        QTest::newRow("luks1") << "arch"
                               << "sdb1";
    }

    void truncatedAtEveryLength()
    {
        QFETCH(QString, host);
        QFETCH(QString, device);
        const auto data = fixtureDevice(host.toStdString(), device.toStdString());
        const bool luks1 = host == QStringLiteral("arch");
        const std::size_t full = luks1 ? 592 : 16384;
        for (std::size_t length = 0; length < full; ++length) {
            const auto result = parseLuksHeader(std::string_view(data).substr(0, length));
            QVERIFY2(!result.header, std::to_string(length).c_str());
            QVERIFY(!result.error.empty());
            std::size_t needed = 8;
            if (length >= 8)
                needed = luks1 ? 592 : (length < 4096 ? 4096 : 16384);
            QCOMPARE(result.bytesNeeded, needed);
        }
        QVERIFY(parseLuksHeader(std::string_view(data).substr(0, full)).header);
    }

    void notLuks_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QString>("error");
        QTest::newRow("empty") << QByteArray() << "truncated LUKS header";
        QTest::newRow("zeros") << QByteArray(4096, '\0') << "no LUKS magic";
        QTest::newRow("ext4-ish") << QByteArray(4096, 'S') << "no LUKS magic";
        QTest::newRow("short other") << QByteArray("LUKX") << "no LUKS magic";
        QByteArray version3(4096, '\0');
        version3.replace(0, 8, QByteArray("LUKS\xba\xbe\x00\x03", 8));
        QTest::newRow("version 3") << version3 << "unsupported LUKS version 3";
        QByteArray secondaryLuks1(4096, '\0');
        secondaryLuks1.replace(0, 8, QByteArray("SKUL\xba\xbe\x00\x01", 8));
        QTest::newRow("secondary magic on LUKS1") << secondaryLuks1 << "unsupported LUKS version 1";
    }

    void notLuks()
    {
        QFETCH(QByteArray, data);
        const auto result = parseLuksHeader(std::string_view(data.constData(), data.size()));
        QVERIFY(!result.header);
        QTEST(QString::fromStdString(result.error), "error");
    }

    void wrongMagic()
    {
        for (std::size_t i = 0; i < 6; ++i) {
            auto data = debianHeader();
            data[i] = static_cast<char>(data[i] ^ 0x20);
            const auto result = parseLuksHeader(data);
            QVERIFY(!result.header);
            QCOMPARE(result.error, std::string("no LUKS magic"));
            QCOMPARE(result.bytesNeeded, std::size_t(0));
        }
    }

    void luks2Corruption_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QString>("error");
        QTest::addColumn<int>("bytesNeeded");

        const auto good = debianHeader();
        auto bytes = [](const std::string &s) { return QByteArray(s.data(), qsizetype(s.size())); };

        auto flipped = good;
        flipped[4096 + 20] ^= 1;
        QTest::newRow("json byte flipped")
            << bytes(flipped) << "LUKS2 header checksum mismatch" << 0;
        auto labelChanged = good;
        labelChanged[24] = 'x';
        QTest::newRow("label changed")
            << bytes(labelChanged) << "LUKS2 header checksum mismatch" << 0;

        for (const std::uint64_t size :
             {0ull, 4096ull, 20000ull, 8ull * 1024 * 1024, 0x8000000000000000ull}) {
            auto lying = good;
            putBigEndian(lying, 8, size, 8);
            QTest::newRow(("hdr_size " + std::to_string(size)).c_str())
                << bytes(lying)
                << QString::fromStdString("LUKS2 hdr_size " + std::to_string(size) +
                                          " is not allowed")
                << 0;
        }
        auto bigger = good.substr(0, 16384);
        putBigEndian(bigger, 8, 65536, 8);
        QTest::newRow("hdr_size beyond the data")
            << bytes(bigger) << "truncated LUKS2 header: hdr_size is 65536" << 65536;
        auto doubled = good;
        putBigEndian(doubled, 8, 32768, 8);
        QTest::newRow("hdr_size covers the secondary")
            << bytes(doubled) << "LUKS2 header checksum mismatch" << 0;
        auto resealedDouble = good;
        putBigEndian(resealedDouble, 8, 32768, 8);
        reseal(resealedDouble, 32768);
        QTest::newRow("hdr_size lies, checksum redone")
            << bytes(resealedDouble) << "LUKS2 config json_size disagrees with hdr_size" << 0;
        auto moved = good;
        putBigEndian(moved, 256, 16384, 8);
        QTest::newRow("hdr_offset of a secondary on the primary")
            << bytes(moved) << "LUKS2 hdr_offset 16384 does not match the header's position" << 0;
        auto badAlgorithm = good;
        std::string whirlpool = "whirlpool";
        std::copy(whirlpool.begin(), whirlpool.end(), badAlgorithm.begin() + 72);
        QTest::newRow("checksum algorithm")
            << bytes(badAlgorithm) << "unsupported LUKS2 checksum algorithm \"whirlpool\"" << 0;

        const auto json = jsonArea();
        QTest::newRow("json garbage")
            << bytes(withJson("{not json")) << "LUKS2 JSON area is not valid JSON" << 0;
        QTest::newRow("json truncated") << bytes(withJson(json.substr(0, json.size() / 2)))
                                        << "LUKS2 JSON area is not valid JSON" << 0;
        QTest::newRow("json empty")
            << bytes(withJson("")) << "LUKS2 JSON area is not valid JSON" << 0;
        QTest::newRow("json array")
            << bytes(withJson("[1,2]")) << "LUKS2 metadata is not a JSON object" << 0;
        QTest::newRow("json fills the area")
            << bytes(withJson(json + std::string(12288 - json.size(), ' ')))
            << "LUKS2 JSON area is not NUL-terminated" << 0;
        QTest::newRow("json nests deeply")
            << bytes(withJson(std::string(1000, '[') + std::string(1000, ']')))
            << "LUKS2 JSON nests too deeply" << 0;
        QTest::newRow("json invalid utf-8") << bytes(withJson(replaced(json, "aes-xts", "a\xff")))
                                            << "LUKS2 JSON area is not valid JSON" << 0;
        QTest::newRow("no segments") << bytes(withJson(R"({"keyslots":{},"digests":{}})"))
                                     << "LUKS2 metadata lacks segments, keyslots or digests" << 0;
        QTest::newRow("segments not an object")
            << bytes(withJson(R"({"segments":[],"keyslots":{},"digests":{}})"))
            << "LUKS2 metadata lacks segments, keyslots or digests" << 0;
        QTest::newRow("no crypt segment")
            << bytes(withJson(replaced(json, R"("type":"crypt")", R"("type":"linear")")))
            << "LUKS2 metadata has no crypt segment" << 0;
        QTest::newRow("segment id not a number")
            << bytes(withJson(replaced(json, R"("segments":{"0")", R"("segments":{"x")")))
            << "LUKS2 segment id \"x\" is not a number" << 0;
        QTest::newRow("segment without encryption")
            << bytes(withJson(replaced(json, R"("encryption":"aes-xts-plain64","sector_size")",
                                       R"("encryption":7,"sector_size")")))
            << "LUKS2 crypt segment has no encryption" << 0;
        QTest::newRow("keyslot not an object")
            << bytes(
                   withJson(R"({"segments":{"0":{"type":"crypt","encryption":"aes-xts-plain64"}},)"
                            R"("keyslots":{"0":5},"digests":{}})"))
            << "LUKS2 keyslot \"0\" is malformed" << 0;
        QTest::newRow("json_size lies")
            << bytes(withJson(replaced(json, R"("json_size":"12288")", R"("json_size":"4096")")))
            << "LUKS2 config json_size disagrees with hdr_size" << 0;
    }

    void luks2Corruption()
    {
        QFETCH(QByteArray, data);
        QFETCH(int, bytesNeeded);
        const auto result = parseLuksHeader(std::string_view(data.constData(), data.size()));
        QVERIFY(!result.header);
        QTEST(QString::fromStdString(result.error), "error");
        QCOMPARE(result.bytesNeeded, std::size_t(bytesNeeded));
    }

    void luks2OddButValidMetadata()
    {
        // Strange types inside otherwise valid metadata leave fields empty instead of failing.
        const auto result = parseLuksHeader(withJson(
            R"({"segments":{"1":{"type":"crypt","encryption":"serpent-xts-plain64"},)"
            R"("0":{"type":"linear"}},"keyslots":{"3":{"kdf":"x"},"2":{"kdf":{"type":"pbkdf2"},)"
            R"("key_size":-1}},"digests":{"0":{"segments":["1"],"keyslots":["2",4],"hash":9}}})"));
        QVERIFY2(result.header, result.error.c_str());
        QCOMPARE(result.header->cipher, std::string("serpent-xts-plain64"));
        QCOMPARE(result.header->keyBits, std::nullopt);
        QCOMPARE(result.header->hash, std::string());
        QCOMPARE(kdfs(*result.header),
                 (QStringList{QStringLiteral("2:pbkdf2"), QStringLiteral("3:")}));
    }

    void cipherNull()
    {
        const auto result = parseLuksHeader(
            withJson(replaced(jsonArea(), R"("encryption":"aes-xts-plain64","sector_size")",
                              R"("encryption":"cipher_null-ecb","sector_size")")));
        QVERIFY2(result.header, result.error.c_str());
        QCOMPARE(result.header->cipher, std::string("cipher_null-ecb"));
    }

    void luks1Corruption_data()
    {
        QTest::addColumn<int>("offset");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("error");
        QTest::newRow("no cipher name")
            << 8 << QByteArray(1, '\0') << "LUKS1 header has no cipher name";
        QTest::newRow("key bytes 0")
            << 108 << QByteArray(4, '\0') << "LUKS1 header has an implausible key size";
        QTest::newRow("key bytes huge") << 108 << QByteArray("\x7f\xff\xff\xff", 4)
                                        << "LUKS1 header has an implausible key size";
        QTest::newRow("keyslot state") << 208 + 48 * 3 << QByteArray("\x12\x34\x56\x78", 4)
                                       << "LUKS1 keyslot 3 has an invalid state";
    }

    void luks1Corruption()
    {
        QFETCH(int, offset);
        QFETCH(QByteArray, bytes);
        auto data = fixtureDevice("arch", "sdb1");
        std::copy(bytes.begin(), bytes.end(), data.begin() + offset);
        const auto result = parseLuksHeader(data);
        QVERIFY(!result.header);
        QTEST(QString::fromStdString(result.error), "error");
    }

    void luks1NonPrintableFields()
    {
        auto data = fixtureDevice("arch", "sdb1");
        data[40] = '\x01';  // first byte of the cipher mode
        data[168] = '\xff'; // first byte of the uuid
        const auto result = parseLuksHeader(data);
        QVERIFY2(result.header, result.error.c_str());
        QCOMPARE(result.header->cipher, std::string("aes-?ts-plain64"));
        QCOMPARE(result.header->uuid, std::string("?1b2c3d4-e5f6-4789-9abc-def012345678"));
    }

    void randomMutationsNeverCrash()
    {
        std::mt19937 random(20261124);
        const std::string inputs[] = {debianHeader(), fixtureDevice("fedora41", "nvme0n1p3"),
                                      fixtureDevice("arch", "sdb1")};
        for (int round = 0; round < 3000; ++round) {
            auto data = inputs[round % 3];
            const int flips = 1 + static_cast<int>(random() % 8);
            for (int i = 0; i < flips; ++i)
                data[random() % data.size()] = static_cast<char>(random());
            if (round % 5 == 0)
                data.resize(random() % data.size());
            const auto result = parseLuksHeader(data);
            QVERIFY(result.header.has_value() != !result.error.empty());
        }
    }
};

QTEST_APPLESS_MAIN(TestLuksHeader)
#include "tst_luksheader.moc"
