#pragma once

// A boot event log as JSON, for reports and for people.

#include "attestation/eventlog.h"

#include <nlohmann/json.hpp>

namespace vigil::attestation {

// {"format", "spec_id" (crypto-agile only), "events": [{"pcr", "type", "digests": {"sha256":
// hex,...}, then "text" for text-carrying types whose data is printable ASCII (EV_POST_CODE,
// EV_EFI_ACTION, EV_IPL, EV_S_CRTM_VERSION, ...; UTF-16 or NUL-terminated forms decoded) or
// "data" as hex otherwise}]}. Deterministic: same log, same JSON.
nlohmann::json eventLogToJson(const EventLog &log);

} // namespace vigil::attestation
