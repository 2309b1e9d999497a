#include "attestation/eventlogjson.h"

#include "attestation/eventlogdetail.h"

#include <algorithm>
#include <iterator>

namespace vigil::attestation {

namespace {

using eventlogdetail::readLe16;

// Types whose data is a string for a person (possibly UCS-2, possibly NUL-terminated).
constexpr std::uint32_t textEventTypes[] = {
    0x00000001, // EV_POST_CODE
    0x00000005, // EV_ACTION
    0x00000008, // EV_S_CRTM_VERSION
    0x0000000D, // EV_IPL
    0x00000012, // EV_OMIT_BOOT_DEVICE_EVENTS
    0x80000007, // EV_EFI_ACTION
};

bool printable(std::uint32_t c)
{
    return (c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r';
}

// ASCII text, NUL-terminated or not, as one byte per character or as UCS-2. Anything else
// (including non-ASCII) stays hex, which also keeps the JSON valid UTF-8 whatever the log holds.
std::optional<std::string> decodeText(const Bytes &data)
{
    std::size_t end = data.size();
    while (end > 0 && data[end - 1] == 0)
        --end;
    if (std::all_of(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(end), printable))
        return std::string(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(end));

    if (data.size() % 2 != 0)
        return std::nullopt;
    std::size_t units = data.size() / 2;
    while (units > 0 && readLe16(data.data() + 2 * (units - 1)) == 0)
        --units;
    std::string text;
    for (std::size_t i = 0; i < units; ++i) {
        const std::uint16_t unit = readLe16(data.data() + 2 * i);
        if (!printable(unit))
            return std::nullopt;
        text.push_back(static_cast<char>(unit));
    }
    return text;
}

} // namespace

nlohmann::json eventLogToJson(const EventLog &log)
{
    nlohmann::json json;
    json["format"] = log.format == EventLogFormat::CryptoAgile ? "crypto_agile" : "sha1_legacy";
    if (log.specId) {
        const auto &spec = *log.specId;
        nlohmann::json algorithms = nlohmann::json::array();
        for (const auto &algorithm : spec.algorithms) {
            algorithms.push_back({{"algorithm", eventLogAlgorithmName(algorithm.id)},
                                  {"digest_size", algorithm.digestSize}});
        }
        json["spec_id"] = {{"platform_class", spec.platformClass},
                           {"spec_version_major", spec.specVersionMajor},
                           {"spec_version_minor", spec.specVersionMinor},
                           {"spec_errata", spec.specErrata},
                           {"uintn_size", spec.uintnSize},
                           {"algorithms", algorithms},
                           {"vendor_info", toHex(spec.vendorInfo)}};
    }
    nlohmann::json events = nlohmann::json::array();
    for (const auto &event : log.events) {
        nlohmann::json entry{{"pcr", event.pcrIndex}, {"type", eventTypeName(event.type)}};
        nlohmann::json digests = nlohmann::json::object();
        for (const auto &digest : event.digests)
            digests[eventLogAlgorithmName(digest.algorithm)] = toHex(digest.digest);
        entry["digests"] = std::move(digests);
        std::optional<std::string> text;
        if (std::find(std::begin(textEventTypes), std::end(textEventTypes), event.type) !=
            std::end(textEventTypes))
            text = decodeText(event.data);
        if (text)
            entry["text"] = std::move(*text);
        else
            entry["data"] = toHex(event.data);
        events.push_back(std::move(entry));
    }
    json["events"] = std::move(events);
    return json;
}

} // namespace vigil::attestation
