#include "app/agent/triggers/rtnetlinkparser.h"

#include <QtTest>
#include <cerrno>
#include <cstring>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

using namespace vigil::agent;
using Kind = RtnetlinkEvent::Kind;
using Buffer = std::vector<std::uint8_t>;

namespace {

void append(Buffer &out, const void *data, std::size_t size)
{
    const auto *bytes = static_cast<const std::uint8_t *>(data);
    out.insert(out.end(), bytes, bytes + size);
    out.resize((out.size() + 3) / 4 * 4, 0);
}

Buffer attribute(unsigned short type, const void *data, std::size_t size)
{
    Buffer out;
    const rtattr header{static_cast<unsigned short>(sizeof(rtattr) + size), type};
    append(out, &header, sizeof header);
    if (size > 0)
        append(out, data, size);
    return out;
}

Buffer u32Attribute(unsigned short type, std::uint32_t value)
{
    return attribute(type, &value, sizeof value);
}

// One netlink message as the kernel lays it out: header, fixed part, attributes.
template <typename Fixed>
Buffer message(std::uint16_t type, const Fixed &fixed, const Buffer &attributes = {})
{
    Buffer body;
    append(body, &fixed, sizeof fixed);
    body.insert(body.end(), attributes.begin(), attributes.end());
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(sizeof header + body.size());
    header.nlmsg_type = type;
    Buffer out;
    append(out, &header, sizeof header);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

Buffer link(std::uint16_t type, int index, unsigned flags, const Buffer &attributes = {})
{
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    info.ifi_flags = flags;
    return message(type, info, attributes);
}

Buffer address(std::uint16_t type, unsigned index, unsigned char scope, unsigned char flags = 0,
               const Buffer &attributes = {})
{
    ifaddrmsg info{};
    info.ifa_family = AF_INET;
    info.ifa_prefixlen = 24;
    info.ifa_flags = flags;
    info.ifa_scope = scope;
    info.ifa_index = index;
    return message(type, info, attributes);
}

Buffer route(std::uint16_t type, unsigned char table, const Buffer &attributes = {},
             unsigned flags = 0)
{
    rtmsg info{};
    info.rtm_family = AF_INET;
    info.rtm_table = table;
    info.rtm_type = RTN_UNICAST;
    info.rtm_flags = flags;
    return message(type, info, attributes);
}

Buffer error(int code)
{
    nlmsgerr body{};
    body.error = code;
    return message(NLMSG_ERROR, body);
}

Buffer concat(std::initializer_list<Buffer> parts)
{
    Buffer out;
    for (const auto &part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

void setLength(Buffer &bytes, std::size_t offset, std::uint32_t length)
{
    std::memcpy(bytes.data() + offset, &length, sizeof length);
}

RtnetlinkBatch parse(const Buffer &bytes)
{
    return parseRtnetlink(bytes);
}

RtnetlinkEvent expected(Kind kind, int index, bool up)
{
    return RtnetlinkEvent{kind, index, up};
}

} // namespace

class TestRtnetlinkParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void linkStates()
    {
        const auto batch =
            parse(concat({link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING), link(RTM_NEWLINK, 4, IFF_UP),
                          link(RTM_NEWLINK, 5, IFF_RUNNING), link(RTM_DELLINK, 6, 0)}));
        QCOMPARE(batch.rejected, 0);
        QVERIFY(!batch.overrun);
        const std::vector<RtnetlinkEvent> events{
            expected(Kind::LinkChanged, 3, true), expected(Kind::LinkChanged, 4, false),
            expected(Kind::LinkChanged, 5, false), expected(Kind::LinkRemoved, 6, false)};
        QVERIFY(batch.events == events);
    }

    void loopbackAndWirelessChatterAreIgnored()
    {
        const char name[] = "lo";
        const auto batch = parse(concat(
            {link(RTM_NEWLINK, 1, IFF_UP | IFF_RUNNING | IFF_LOOPBACK,
                  attribute(IFLA_IFNAME, name, sizeof name)),
             link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING, attribute(IFLA_WIRELESS, "\0\0\0\0", 4)),
             address(RTM_NEWADDR, 1, RT_SCOPE_HOST)}));
        QCOMPARE(batch.rejected, 0);
        QVERIFY(batch.events.empty());
    }

    void addressesAreUsableOnceNotTentative()
    {
        const auto batch = parse(concat({address(RTM_NEWADDR, 3, RT_SCOPE_UNIVERSE),
                                         address(RTM_NEWADDR, 3, RT_SCOPE_LINK, IFA_F_TENTATIVE),
                                         address(RTM_NEWADDR, 3, RT_SCOPE_UNIVERSE, 0,
                                                 u32Attribute(IFA_FLAGS, IFA_F_DADFAILED)),
                                         address(RTM_NEWADDR, 3, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE,
                                                 u32Attribute(IFA_FLAGS, IFA_F_PERMANENT)),
                                         address(RTM_DELADDR, 3, RT_SCOPE_UNIVERSE)}));
        QCOMPARE(batch.rejected, 0);
        // IFA_FLAGS, when present, is the whole set and wins over the 8-bit ifa_flags.
        const std::vector<RtnetlinkEvent> events{
            expected(Kind::AddressAdded, 3, true), expected(Kind::AddressAdded, 3, false),
            expected(Kind::AddressAdded, 3, false), expected(Kind::AddressAdded, 3, true),
            expected(Kind::AddressRemoved, 3, true)};
        QVERIFY(batch.events == events);
    }

    void routesOutsideTheLocalTable()
    {
        const auto batch = parse(
            concat({route(RTM_NEWROUTE, RT_TABLE_MAIN, u32Attribute(RTA_OIF, 4)),
                    route(RTM_DELROUTE, RT_TABLE_MAIN, u32Attribute(RTA_OIF, 4)),
                    route(RTM_NEWROUTE, RT_TABLE_LOCAL, u32Attribute(RTA_OIF, 4)),
                    // Tables above 255 are named by RTA_TABLE; it wins over rtm_table.
                    route(RTM_NEWROUTE, RT_TABLE_UNSPEC, u32Attribute(RTA_TABLE, RT_TABLE_LOCAL)),
                    route(RTM_NEWROUTE, RT_TABLE_MAIN, u32Attribute(RTA_OIF, 4), RTM_F_CLONED)}));
        QCOMPARE(batch.rejected, 0);
        const std::vector<RtnetlinkEvent> events{expected(Kind::RouteAdded, 4, false),
                                                 expected(Kind::RouteRemoved, 4, false)};
        QVERIFY(batch.events == events);
    }

    void controlMessages()
    {
        QVERIFY(parse(error(-ENOBUFS)).overrun);
        const auto others = parse(
            concat({error(0), error(-EINVAL), message(NLMSG_DONE, 0), message(NLMSG_NOOP, 0)}));
        QVERIFY(!others.overrun);
        QVERIFY(others.events.empty());
        QCOMPARE(others.rejected, 0);
        QCOMPARE(parse(Buffer{}).rejected, 0);
    }

    void badMessageLengthsEndTheDatagram()
    {
        const auto good = link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING);
        for (const std::uint32_t length : {0u, 15u, 34u, 1u << 20, 0xffffffffu}) {
            auto bytes = concat({good, good});
            setLength(bytes, good.size(), length);
            const auto batch = parse(bytes);
            QCOMPARE(batch.rejected, 1);
            QCOMPARE(batch.events.size(), 1u);
        }
        // A header cut short at the end of the datagram.
        auto cut = concat({good, good});
        cut.resize(good.size() + 10);
        QCOMPARE(parse(cut).rejected, 1);
        QCOMPARE(parse(cut).events.size(), 1u);
    }

    void badBodiesAreSkippedAlone()
    {
        const auto good = link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING);
        nlmsghdr shortHeader{sizeof(nlmsghdr) + 8, RTM_NEWLINK, 0, 0, 0};
        Buffer shortLink;
        append(shortLink, &shortHeader, sizeof shortHeader);
        shortLink.resize(shortLink.size() + 8, 0); // half an ifinfomsg

        auto longAttribute = link(RTM_NEWLINK, 3, 0, u32Attribute(IFLA_MTU, 1500));
        const std::uint16_t tooLong = 200;
        std::memcpy(longAttribute.data() + sizeof(nlmsghdr) + sizeof(ifinfomsg), &tooLong, 2);
        auto tinyAttribute = longAttribute;
        const std::uint16_t tiny = 2;
        std::memcpy(tinyAttribute.data() + sizeof(nlmsghdr) + sizeof(ifinfomsg), &tiny, 2);

        const std::uint16_t half = 0;
        const auto narrowFlags =
            address(RTM_NEWADDR, 3, RT_SCOPE_UNIVERSE, 0, attribute(IFA_FLAGS, &half, sizeof half));
        const auto narrowOif = route(RTM_NEWROUTE, RT_TABLE_MAIN, attribute(RTA_OIF, "\1", 1));
        nlmsgerr noError{};
        auto shortError = message(NLMSG_ERROR, noError);
        shortError.resize(sizeof(nlmsghdr));
        setLength(shortError, 0, sizeof(nlmsghdr));

        for (const auto &bad :
             {shortLink, longAttribute, tinyAttribute, narrowFlags, narrowOif, shortError}) {
            const auto batch = parse(concat({bad, good}));
            QCOMPARE(batch.rejected, 1);
            QCOMPARE(batch.events.size(), 1u);
            QCOMPARE(batch.events.front().interfaceIndex, 3);
        }
    }

    void trailingBytesAfterTheLastAttribute()
    {
        auto bytes = link(RTM_NEWLINK, 3, IFF_UP, u32Attribute(IFLA_MTU, 1500));
        bytes.insert(bytes.end(), {0, 0, 0, 0});
        setLength(bytes, 0, static_cast<std::uint32_t>(bytes.size()));
        // Four zero bytes are an attribute header with rta_len 0: malformed, not read past.
        QCOMPARE(parse(bytes).rejected, 1);
    }

    void anyAlignmentInMemory()
    {
        const auto bytes = concat({link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING),
                                   address(RTM_NEWADDR, 3, RT_SCOPE_UNIVERSE)});
        Buffer shifted(bytes.size() + 1);
        std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
        const auto batch = parseRtnetlink(std::span(shifted).subspan(1));
        QCOMPARE(batch.rejected, 0);
        QCOMPARE(batch.events.size(), 2u);
    }

    // Datagrams captured from the kernel (a veth pair in a network namespace), which also seed
    // the fuzz target.
    void capturedKernelMessages_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("up");
        QTest::newRow("created") << "newlink-veth-created" << int(Kind::LinkChanged) << false;
        QTest::newRow("running") << "newlink-veth-running" << int(Kind::LinkChanged) << true;
        QTest::newRow("ipv4") << "newaddr-ipv4" << int(Kind::AddressAdded) << true;
        QTest::newRow("tentative") << "newaddr-ipv6-tentative" << int(Kind::AddressAdded) << false;
        QTest::newRow("usable") << "newaddr-ipv6-usable" << int(Kind::AddressAdded) << true;
        QTest::newRow("removed") << "dellink-veth" << int(Kind::LinkRemoved) << false;
    }

    void capturedKernelMessages()
    {
        QFETCH(QString, file);
        QFETCH(int, kind);
        QFETCH(bool, up);
        QFile capture(QFINDTESTDATA(QStringLiteral("../fuzz/corpus/rtnetlink/") + file));
        QVERIFY(capture.open(QIODevice::ReadOnly));
        const auto bytes = capture.readAll();
        const auto batch = parseRtnetlink(std::span(
            reinterpret_cast<const std::uint8_t *>(bytes.constData()), std::size_t(bytes.size())));
        QCOMPARE(batch.rejected, 0);
        QCOMPARE(batch.events.size(), 1u);
        QCOMPARE(int(batch.events.front().kind), kind);
        QCOMPARE(batch.events.front().up, up);
        QVERIFY(batch.events.front().interfaceIndex > 1);
    }
};

QTEST_APPLESS_MAIN(TestRtnetlinkParser)
#include "tst_rtnetlinkparser.moc"
