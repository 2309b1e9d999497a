#include "attestation/eventlog.h"

#include "attestation/eventlogdetail.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace vigil::attestation {

namespace eventlogdetail {

namespace {

constexpr KnownAlgorithm knownAlgorithms[] = {
    {tpmAlgSha1, "sha1", 20, "SHA1"},
    {tpmAlgSha256, "sha256", 32, "SHA256"},
    {tpmAlgSha384, "sha384", 48, "SHA384"},
    {tpmAlgSha512, "sha512", 64, "SHA512"},
    {tpmAlgSm3_256, "sm3_256", 32, "SM3"},
    {tpmAlgSha3_256, "sha3_256", 32, "SHA3-256"},
    {tpmAlgSha3_384, "sha3_384", 48, "SHA3-384"},
    {tpmAlgSha3_512, "sha3_512", 64, "SHA3-512"},
};

} // namespace

const KnownAlgorithm *knownAlgorithm(std::uint16_t id)
{
    for (const auto &algorithm : knownAlgorithms) {
        if (algorithm.id == id)
            return &algorithm;
    }
    return nullptr;
}

} // namespace eventlogdetail

namespace {

using eventlogdetail::knownAlgorithm;
using eventlogdetail::readLe16;
using eventlogdetail::readLe32;

// The signature is 16 bytes including its terminating NUL.
constexpr std::array<std::uint8_t, 16> specIdSignature{'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ',
                                                       'E', 'v', 'e', 'n', 't', '0', '3', 0};

constexpr std::size_t sha1Size = 20;
// TPMU_HA's largest member; an algorithm the Spec ID declares with a larger digest is not a hash
// any TPM implements, and bounding it keeps digest parsing cheap.
constexpr std::size_t maxDigestSize = 64;

struct EventTypeName
{
    std::uint32_t type;
    const char *name;
};

// TCG PC Client Platform Firmware Profile 1.06, section 10.4.1.
constexpr EventTypeName eventTypeNames[] = {
    {0x00000000, "EV_PREBOOT_CERT"},
    {0x00000001, "EV_POST_CODE"},
    {0x00000002, "EV_UNUSED"},
    {0x00000003, "EV_NO_ACTION"},
    {0x00000004, "EV_SEPARATOR"},
    {0x00000005, "EV_ACTION"},
    {0x00000006, "EV_EVENT_TAG"},
    {0x00000007, "EV_S_CRTM_CONTENTS"},
    {0x00000008, "EV_S_CRTM_VERSION"},
    {0x00000009, "EV_CPU_MICROCODE"},
    {0x0000000A, "EV_PLATFORM_CONFIG_FLAGS"},
    {0x0000000B, "EV_TABLE_OF_DEVICES"},
    {0x0000000C, "EV_COMPACT_HASH"},
    {0x0000000D, "EV_IPL"},
    {0x0000000E, "EV_IPL_PARTITION_DATA"},
    {0x0000000F, "EV_NONHOST_CODE"},
    {0x00000010, "EV_NONHOST_CONFIG"},
    {0x00000011, "EV_NONHOST_INFO"},
    {0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {0x80000000, "EV_EFI_EVENT_BASE"},
    {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {0x80000002, "EV_EFI_VARIABLE_BOOT"},
    {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {0x80000006, "EV_EFI_GPT_EVENT"},
    {0x80000007, "EV_EFI_ACTION"},
    {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {0x80000009, "EV_EFI_HANDOFF_TABLES"},
    {0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {0x8000000B, "EV_EFI_HANDOFF_TABLES2"},
    {0x8000000C, "EV_EFI_VARIABLE_BOOT2"},
    {0x80000010, "EV_EFI_HCRTM_EVENT"},
    {0x800000E0, "EV_EFI_VARIABLE_AUTHORITY"},
    {0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
    {0x800000E3, "EV_EFI_SPDM_DEVICE_POLICY"},
    {0x800000E4, "EV_EFI_SPDM_DEVICE_AUTHORITY"},
};

class Parser
{
public:
    explicit Parser(std::span<const std::uint8_t> bytes) : m_bytes(bytes) {}

    EventLogParse run()
    {
        if (m_bytes.empty())
            return failure(EventLogError::Empty, 0, "the event log is empty");

        EventLogEvent first;
        if (!legacyEvent(first))
            return std::move(m_result);
        if (isSpecIdEvent(first)) {
            m_log.format = EventLogFormat::CryptoAgile;
            if (!specId(first))
                return std::move(m_result);
        } else {
            m_log.format = EventLogFormat::Sha1Legacy;
            m_log.algorithms = {{tpmAlgSha1, sha1Size}};
        }
        m_log.events.push_back(std::move(first));

        while (m_pos < m_bytes.size()) {
            m_eventStart = m_pos;
            if (isPadding())
                return failure(EventLogError::TrailingData, m_pos,
                               std::to_string(m_bytes.size() - m_pos) +
                                   " bytes of padding after the last event");
            EventLogEvent event;
            const bool parsed = m_log.format == EventLogFormat::CryptoAgile ? agileEvent(event)
                                                                            : legacyEvent(event);
            if (!parsed)
                return std::move(m_result);
            m_log.events.push_back(std::move(event));
        }

        m_result.eventsParsed = m_log.events.size();
        m_result.log = std::move(m_log);
        return std::move(m_result);
    }

private:
    std::size_t remaining() const { return m_bytes.size() - m_pos; }

    EventLogParse failure(EventLogError error, std::size_t offset, const std::string &detail)
    {
        m_result.error = error;
        m_result.errorOffset = offset;
        m_result.errorEvent = m_log.events.size();
        m_result.eventsParsed = m_log.events.size();
        m_result.message = "event " + std::to_string(m_result.errorEvent) + " (at offset " +
                           std::to_string(m_eventStart) + "): " + detail;
        m_result.log.reset();
        return std::move(m_result);
    }

    bool fail(EventLogError error, std::size_t offset, const std::string &detail)
    {
        m_result = failure(error, offset, detail);
        return false;
    }

    // Checks that `size` more bytes exist before any read of them.
    bool need(std::size_t size, const char *what)
    {
        if (size <= remaining())
            return true;
        return fail(EventLogError::Truncated, m_pos,
                    std::string("truncated ") + what + ": needs " + std::to_string(size) +
                        " bytes at offset " + std::to_string(m_pos) + ", only " +
                        std::to_string(remaining()) + " remain");
    }

    std::uint32_t takeU32()
    {
        const auto value = readLe32(m_bytes.data() + m_pos);
        m_pos += 4;
        return value;
    }

    std::uint16_t takeU16()
    {
        const auto value = readLe16(m_bytes.data() + m_pos);
        m_pos += 2;
        return value;
    }

    Bytes take(std::size_t size)
    {
        Bytes out(m_bytes.begin() + static_cast<std::ptrdiff_t>(m_pos),
                  m_bytes.begin() + static_cast<std::ptrdiff_t>(m_pos + size));
        m_pos += size;
        return out;
    }

    bool isPadding() const
    {
        const auto rest = m_bytes.subspan(m_pos);
        return std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0x00; }) ||
               std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0xFF; });
    }

    bool pcrIndexAllowed(std::size_t offset, std::uint32_t pcrIndex, std::uint32_t type)
    {
        // EV_NO_ACTION events extend nothing, so their PCR index is informational.
        if (pcrIndex <= eventLogMaxPcrIndex || type == evNoAction)
            return true;
        return fail(EventLogError::BadPcrIndex, offset,
                    "PCR index " + std::to_string(pcrIndex) + " of a " + eventTypeName(type) +
                        " event is above " + std::to_string(eventLogMaxPcrIndex));
    }

    bool eventData(EventLogEvent &event)
    {
        if (!need(4, "event data size"))
            return false;
        const std::size_t sizeOffset = m_pos;
        const std::uint32_t size = takeU32();
        if (size > eventLogMaxEventDataSize)
            return fail(EventLogError::SizeLimit, sizeOffset,
                        "event data size " + std::to_string(size) + " exceeds the limit of " +
                            std::to_string(eventLogMaxEventDataSize) + " bytes");
        if (!need(size, "event data"))
            return false;
        event.data = take(size);
        return true;
    }

    // TCG_PCR_EVENT: the first event of every log, and every event of a legacy log.
    bool legacyEvent(EventLogEvent &event)
    {
        m_eventStart = m_pos;
        event.offset = m_pos;
        if (!need(4 + 4 + sha1Size, "event header"))
            return false;
        const std::size_t pcrOffset = m_pos;
        event.pcrIndex = takeU32();
        event.type = takeU32();
        if (!pcrIndexAllowed(pcrOffset, event.pcrIndex, event.type))
            return false;
        event.digests.push_back({tpmAlgSha1, take(sha1Size)});
        return eventData(event);
    }

    static bool isSpecIdEvent(const EventLogEvent &event)
    {
        return event.type == evNoAction && event.data.size() >= specIdSignature.size() &&
               std::equal(specIdSignature.begin(), specIdSignature.end(), event.data.begin());
    }

    // TCG_EfiSpecIdEvent. Offsets in messages are those of the log, not of the event data.
    bool specId(const EventLogEvent &event)
    {
        const std::size_t base = event.offset + 4 + 4 + sha1Size + 4;
        const Bytes &data = event.data;
        std::size_t at = specIdSignature.size();
        auto bad = [&](const std::string &detail) {
            return fail(EventLogError::BadSpecId, base + std::min(at, data.size()),
                        "Spec ID event: " + detail);
        };
        auto have = [&](std::size_t size, const char *what) {
            if (size <= data.size() - at)
                return true;
            return bad(std::string(what) + " needs " + std::to_string(size) + " bytes, " +
                       std::to_string(data.size() - at) + " remain in the event data");
        };

        if (event.pcrIndex != 0)
            return bad("on PCR " + std::to_string(event.pcrIndex) + " instead of 0");
        EventLogSpecId spec;
        if (!have(4 + 4 + 4, "the header"))
            return false;
        spec.platformClass = readLe32(data.data() + at);
        spec.specVersionMinor = data[at + 4];
        spec.specVersionMajor = data[at + 5];
        spec.specErrata = data[at + 6];
        spec.uintnSize = data[at + 7];
        at += 8;
        if (spec.uintnSize != 1 && spec.uintnSize != 2) {
            at -= 1;
            return bad("uintnSize " + std::to_string(spec.uintnSize) + " is neither 1 nor 2");
        }
        const std::uint32_t count = readLe32(data.data() + at);
        if (count == 0)
            return bad("lists no algorithms");
        if (count > eventLogMaxAlgorithms)
            return bad("lists " + std::to_string(count) + " algorithms, more than " +
                       std::to_string(eventLogMaxAlgorithms));
        at += 4;
        if (!have(std::size_t(count) * 4, "the algorithm list"))
            return false;
        for (std::uint32_t i = 0; i < count; ++i, at += 4) {
            const EventLogAlgorithm algorithm{readLe16(data.data() + at),
                                              readLe16(data.data() + at + 2)};
            const std::string name = eventLogAlgorithmName(algorithm.id);
            const auto *known = knownAlgorithm(algorithm.id);
            if (known && known->digestSize != algorithm.digestSize)
                return bad(name + " listed with digest size " +
                           std::to_string(algorithm.digestSize) + " instead of " +
                           std::to_string(known->digestSize));
            if (algorithm.digestSize == 0 || algorithm.digestSize > maxDigestSize)
                return bad(name + " listed with digest size " +
                           std::to_string(algorithm.digestSize));
            for (const auto &earlier : spec.algorithms) {
                if (earlier.id == algorithm.id)
                    return bad(name + " listed twice");
            }
            spec.algorithms.push_back(algorithm);
        }
        if (!have(1, "the vendor info size"))
            return false;
        const std::size_t vendorSize = data[at];
        at += 1;
        if (!have(vendorSize, "the vendor info"))
            return false;
        spec.vendorInfo.assign(data.begin() + static_cast<std::ptrdiff_t>(at),
                               data.begin() + static_cast<std::ptrdiff_t>(at + vendorSize));
        at += vendorSize;
        if (at != data.size())
            return bad(std::to_string(data.size() - at) + " bytes after the vendor info");

        m_log.algorithms = spec.algorithms;
        m_log.specId = std::move(spec);
        return true;
    }

    // TCG_PCR_EVENT2.
    bool agileEvent(EventLogEvent &event)
    {
        m_eventStart = m_pos;
        event.offset = m_pos;
        if (!need(4 + 4 + 4, "event header"))
            return false;
        const std::size_t pcrOffset = m_pos;
        event.pcrIndex = takeU32();
        event.type = takeU32();
        if (!pcrIndexAllowed(pcrOffset, event.pcrIndex, event.type))
            return false;
        const std::size_t countOffset = m_pos;
        const std::uint32_t count = takeU32();
        if (count == 0 || count > m_log.algorithms.size())
            return fail(EventLogError::BadDigestList, countOffset,
                        "digest count " + std::to_string(count) + " where the Spec ID lists " +
                            std::to_string(m_log.algorithms.size()) + " algorithms");
        for (std::uint32_t i = 0; i < count; ++i) {
            if (!need(2, "digest algorithm"))
                return false;
            const std::size_t algorithmOffset = m_pos;
            const std::uint16_t id = takeU16();
            const auto algorithm =
                std::find_if(m_log.algorithms.begin(), m_log.algorithms.end(),
                             [id](const EventLogAlgorithm &a) { return a.id == id; });
            if (algorithm == m_log.algorithms.end())
                return fail(EventLogError::UnknownAlgorithm, algorithmOffset,
                            "digest of algorithm " + eventLogAlgorithmName(id) +
                                ", which the Spec ID event does not list");
            for (const auto &earlier : event.digests) {
                if (earlier.algorithm == id)
                    return fail(EventLogError::BadDigestList, algorithmOffset,
                                "two " + eventLogAlgorithmName(id) + " digests");
            }
            if (!need(algorithm->digestSize, "digest"))
                return false;
            event.digests.push_back({id, take(algorithm->digestSize)});
        }
        return eventData(event);
    }

    std::span<const std::uint8_t> m_bytes;
    std::size_t m_pos = 0;
    std::size_t m_eventStart = 0;
    EventLog m_log;
    EventLogParse m_result;
};

} // namespace

std::string_view eventLogErrorName(EventLogError error)
{
    switch (error) {
    case EventLogError::None:
        return "none";
    case EventLogError::Empty:
        return "empty";
    case EventLogError::Truncated:
        return "truncated";
    case EventLogError::SizeLimit:
        return "size_limit";
    case EventLogError::BadSpecId:
        return "bad_spec_id";
    case EventLogError::UnknownAlgorithm:
        return "unknown_algorithm";
    case EventLogError::BadDigestList:
        return "bad_digest_list";
    case EventLogError::BadPcrIndex:
        return "bad_pcr_index";
    case EventLogError::TrailingData:
        return "trailing_data";
    }
    return "unknown";
}

EventLogParse parseEventLog(std::span<const std::uint8_t> bytes)
{
    return Parser(bytes).run();
}

std::string eventTypeName(std::uint32_t type)
{
    for (const auto &entry : eventTypeNames) {
        if (entry.type == type)
            return entry.name;
    }
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", type);
    return text;
}

std::string eventLogAlgorithmName(std::uint16_t algorithm)
{
    if (const auto *known = knownAlgorithm(algorithm))
        return known->name;
    char text[8];
    std::snprintf(text, sizeof text, "0x%04x", algorithm);
    return text;
}

} // namespace vigil::attestation
