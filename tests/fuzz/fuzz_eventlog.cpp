#include "attestation/eventlog.h"
#include "attestation/eventlogjson.h"
#include "attestation/eventlogreplay.h"

#include <cstdint>
#include <cstdlib>

namespace {

using namespace vigil;
using namespace vigil::attestation;
using namespace vigil::protocol;
using vigil::Bytes;

void put32(Bytes &out, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// The log's wire form rebuilt from the parse: whatever parses must be exactly the bytes given,
// so no field is skipped, guessed or read twice.
Bytes serialize(const EventLog &log)
{
    Bytes out;
    for (std::size_t i = 0; i < log.events.size(); ++i) {
        const auto &event = log.events[i];
        put32(out, event.pcrIndex);
        put32(out, event.type);
        if (i == 0 || log.format == EventLogFormat::Sha1Legacy) {
            if (event.digests.size() != 1)
                std::abort();
            out.insert(out.end(), event.digests[0].digest.begin(), event.digests[0].digest.end());
        } else {
            put32(out, static_cast<std::uint32_t>(event.digests.size()));
            for (const auto &digest : event.digests) {
                out.push_back(static_cast<std::uint8_t>(digest.algorithm));
                out.push_back(static_cast<std::uint8_t>(digest.algorithm >> 8));
                out.insert(out.end(), digest.digest.begin(), digest.digest.end());
            }
        }
        put32(out, static_cast<std::uint32_t>(event.data.size()));
        out.insert(out.end(), event.data.begin(), event.data.end());
    }
    return out;
}

} // namespace

// Boot event logs reach the verifier inside device reports: every byte is the device's choice.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const auto parse = parseEventLog(std::span<const std::uint8_t>(data, size));
    if (!parse.ok()) {
        if (parse.log || parse.message.empty() || parse.errorOffset > size ||
            parse.errorEvent != parse.eventsParsed)
            std::abort();
        return 0;
    }
    const EventLog &log = *parse.log;
    if (parse.eventsParsed != log.events.size() || serialize(log) != Bytes(data, data + size))
        std::abort();
    for (const auto &[algorithm, bank] : replayEventLog(log)) {
        for (const auto &[pcr, value] : bank) {
            if (pcr > eventLogMaxPcrIndex || value.empty())
                std::abort();
        }
    }
    replaySha256(log);
    eventLogToJson(log).dump();
    return 0;
}
