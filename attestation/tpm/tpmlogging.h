#pragma once

#include <QLoggingCategory>

namespace vigil::attestation {

// vigil.tpm: talking to the TPM (attestation/tpm). Debug is off unless QT_LOGGING_RULES turns
// it on; nothing logged here carries key material or authorisation values.
Q_DECLARE_LOGGING_CATEGORY(lcTpm)

} // namespace vigil::attestation
