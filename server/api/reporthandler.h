#pragma once

// Protocol step 2, posture reports: nonces, and the appraisal of a report — its signature by
// the enrolled device key, the nonce, the quote by the enrolled AK, the TPM counters, then the
// snapshot against the policy. Every report naming an enrolled device is audited, rejected ones
// included. Reports signed by the device count against its rate limit; unsigned or forged ones
// (and reports naming no enrolled device) against the sender's address.

#include "server/http/httpmessage.h"
#include "server/storage/storage.h"

namespace vigil::server {

struct ServiceContext;

class ReportHandler
{
public:
    explicit ReportHandler(ServiceContext &context);

    // POST /v1/nonces
    HttpResponse nonce(const HttpRequest &request);
    // POST /v1/reports
    HttpResponse report(const HttpRequest &request);

private:
    ServiceContext &m_context;
};

// Whether a quote's counters may follow the previous ones from the same AK: within one TPM
// reset and restart the clock never goes back; resetCount and restartCount never go back.
// A reset (reboot) may set the clock back to its last saved value. The counters carry a
// per-AK offset (wrapping mod 2^32), so only differences are meaningful. Returns "" when
// acceptable, else what went back.
std::string counterRollback(const TpmCounters &previous, const TpmCounters &current);

} // namespace vigil::server
