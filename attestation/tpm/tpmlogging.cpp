#include "attestation/tpm/tpmlogging.h"

namespace vigil::attestation {

Q_LOGGING_CATEGORY(lcTpm, "vigil.tpm", QtInfoMsg)

} // namespace vigil::attestation
