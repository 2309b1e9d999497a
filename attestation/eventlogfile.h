#pragma once

// Reading the boot event log the kernel exposes, with errors that say why it is not there.

#include "attestation/eventlog.h"
#include "core/bytes.h"

#include <cstddef>
#include <filesystem>
#include <string>

namespace vigil::attestation {

inline constexpr char defaultEventLogPath[] = "/sys/kernel/security/tpm0/binary_bios_measurements";

enum class EventLogFileStatus
{
    Ok,
    NotPresent,       // no TPM, firmware exposes no log, or securityfs not mounted
    PermissionDenied, // securityfs files are readable by root only
    Empty,
    TooLarge,
    ReadError,
};

struct EventLogFile
{
    EventLogFileStatus status = EventLogFileStatus::ReadError;
    Bytes bytes;
    std::string error; // for a person, with the cause and what to do; empty when Ok
};

// Reads the whole log (securityfs reports size 0, so it reads until end of file) up to maxSize.
EventLogFile readEventLogFile(const std::filesystem::path &path = defaultEventLogPath,
                              std::size_t maxSize = eventLogMaxFileSize);

} // namespace vigil::attestation
