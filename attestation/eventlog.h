#pragma once

// The TPM boot event log as firmware hands it to the kernel (TCG PC Client Platform Firmware
// Profile): its types and the parser. Pure functions over bytes, so the verifier can appraise a
// log it received without any TPM. PCR replay: eventlogreplay.h; JSON form for reports:
// eventlogjson.h; reading it from securityfs: eventlogfile.h.

#include "core/bytes.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::attestation {

// TPM_ALG_ID values of the hash algorithms a log may carry.
inline constexpr std::uint16_t tpmAlgSha1 = 0x0004;
inline constexpr std::uint16_t tpmAlgSha256 = 0x000B;
inline constexpr std::uint16_t tpmAlgSha384 = 0x000C;
inline constexpr std::uint16_t tpmAlgSha512 = 0x000D;
inline constexpr std::uint16_t tpmAlgSm3_256 = 0x0012;
inline constexpr std::uint16_t tpmAlgSha3_256 = 0x0027;
inline constexpr std::uint16_t tpmAlgSha3_384 = 0x0028;
inline constexpr std::uint16_t tpmAlgSha3_512 = 0x0029;

// Event types the replay and the JSON form treat specially.
inline constexpr std::uint32_t evNoAction = 0x00000003;
inline constexpr std::uint32_t evSeparator = 0x00000004;

// Limits no real firmware log comes near; beyond them a log is treated as malformed rather than
// trusted with allocations an attacker chooses.
inline constexpr std::size_t eventLogMaxEventDataSize = 1024 * 1024;
inline constexpr std::size_t eventLogMaxAlgorithms = 16;
inline constexpr std::size_t eventLogMaxFileSize = 16 * 1024 * 1024;
inline constexpr unsigned eventLogMaxPcrIndex = 23;

struct EventLogAlgorithm
{
    std::uint16_t id = 0;
    std::uint16_t digestSize = 0;
    friend bool operator==(const EventLogAlgorithm &, const EventLogAlgorithm &) = default;
};

// TCG_EfiSpecIdEvent, the data of the first event of a crypto-agile log.
struct EventLogSpecId
{
    std::uint32_t platformClass = 0; // 0 client, 1 server
    std::uint8_t specVersionMinor = 0;
    std::uint8_t specVersionMajor = 0;
    std::uint8_t specErrata = 0;
    std::uint8_t uintnSize = 0; // 1: UINTN is 32 bits, 2: 64 bits
    std::vector<EventLogAlgorithm> algorithms;
    Bytes vendorInfo;
};

struct EventLogDigest
{
    std::uint16_t algorithm = 0;
    Bytes digest;
};

struct EventLogEvent
{
    std::size_t offset = 0; // where the event starts in the log
    std::uint32_t pcrIndex = 0;
    std::uint32_t type = 0;
    std::vector<EventLogDigest> digests; // in log order; one SHA-1 digest in the legacy form
    Bytes data;
};

enum class EventLogFormat
{
    CryptoAgile, // Spec ID Event03 then TCG_PCR_EVENT2 events (TPM 2.0)
    Sha1Legacy,  // TCG_PCR_EVENT events only, SHA-1 (TPM 1.2 BIOS, or a log without Spec ID)
};

struct EventLog
{
    EventLogFormat format = EventLogFormat::CryptoAgile;
    std::optional<EventLogSpecId> specId; // crypto-agile logs only
    // The banks events carry: the Spec ID list, or SHA-1 alone for a legacy log.
    std::vector<EventLogAlgorithm> algorithms;
    // Every event in log order; in a crypto-agile log events[0] is the Spec ID event itself (its
    // legacy-form SHA-1 digest is all zero), so indices match tpm2_eventlog's EventNum.
    std::vector<EventLogEvent> events;
};

enum class EventLogError
{
    None,
    Empty,            // no bytes at all
    Truncated,        // a field or the event data runs past the end of the log
    SizeLimit,        // event data larger than eventLogMaxEventDataSize
    BadSpecId,        // Spec ID event invalid: no or too many algorithms, wrong digest size of a
                      // known algorithm, repeated algorithm, bad uintnSize, trailing bytes
    UnknownAlgorithm, // an event carries a digest of an algorithm the Spec ID does not list
    BadDigestList,    // no digest, more digests than banks, or one bank twice
    BadPcrIndex,      // a measured event names a PCR above 23
    TrailingData,     // bytes after the last event that are all 0x00 or all 0xFF (padding)
};

// Stable snake_case name, e.g. "unknown_algorithm".
std::string_view eventLogErrorName(EventLogError error);

struct EventLogParse
{
    std::optional<EventLog> log; // set exactly when error == None
    EventLogError error = EventLogError::None;
    std::string message;          // names the event number and byte offsets
    std::size_t errorOffset = 0;  // offset of the offending field (or of the end, when truncated)
    std::size_t errorEvent = 0;   // index of the event that failed to parse
    std::size_t eventsParsed = 0; // complete, valid events before the error (or all of them)

    bool ok() const { return error == EventLogError::None; }
};

// Never throws and never reads outside `bytes`.
EventLogParse parseEventLog(std::span<const std::uint8_t> bytes);

// "EV_EFI_ACTION"; an undefined type as its hex number, "0x0000f00d".
std::string eventTypeName(std::uint32_t type);
// "sha256"; an undefined algorithm as "0x1234".
std::string eventLogAlgorithmName(std::uint16_t algorithm);

} // namespace vigil::attestation
