#pragma once

// PCR values a boot event log claims: what a quote of those PCRs must match.

#include "attestation/eventlog.h"
#include "protocol/evidence.h"

#include <cstdint>
#include <map>

namespace vigil::attestation {

// Algorithm id -> PCR index -> value, for every bank of the log whose hash OpenSSL provides. Each
// PCR starts at zero and is extended with every digest of that bank in log order; EV_NO_ACTION
// events are not extended, except that a StartupLocality event before any PCR 0 measurement
// puts the locality into the last byte of PCR 0's starting value. PCRs no event touches are
// absent: their value is not the log's to say.
using EventLogPcrBanks = std::map<std::uint16_t, std::map<unsigned, Bytes>>;
EventLogPcrBanks replayEventLog(const EventLog &log);
// The SHA-256 bank of replayEventLog(); empty when the log has no SHA-256 bank.
protocol::PcrValues replaySha256(const EventLog &log);

} // namespace vigil::attestation
