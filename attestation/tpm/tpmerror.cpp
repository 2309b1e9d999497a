#include "attestation/tpm/tpmerror.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

namespace vigil::attestation {

TpmError::TpmError(Kind kind, std::string message, TSS2_RC rc)
    : KeyError(std::move(message)), m_kind(kind), m_rc(rc)
{
}

TSS2_RC tpmResponseCode(TSS2_RC rc)
{
    if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
        return 0;
    if (rc & TPM2_RC_FMT1)
        return rc & (TPM2_RC_FMT1 | 0x3f);
    return rc & (TPM2_RC_VER1 | TPM2_RC_WARN | 0x7f);
}

TpmError TpmError::fromRc(std::string_view operation, TSS2_RC rc)
{
    const std::string decoded = Tss2_RC_Decode(rc);
    std::string message = std::string(operation) + ": " + decoded;
    const TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
    const TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;

    if (layer == TSS2_TCTI_RC_LAYER) {
        if (base == TSS2_BASE_RC_IO_ERROR || base == TSS2_BASE_RC_NO_CONNECTION ||
            base == TSS2_BASE_RC_NOT_SUPPORTED)
            return TpmError(Kind::NoTpm, message + " (the TPM or simulator cannot be reached)", rc);
        return TpmError(Kind::Other, message, rc);
    }
    switch (tpmResponseCode(rc)) {
    case TPM2_RC_LOCKOUT:
        return TpmError(Kind::Lockout,
                        message + " (the TPM is in dictionary-attack lockout after too many wrong "
                                  "authorizations; it recovers on its own after the lockout "
                                  "interval, or an administrator can reset it with the lockout "
                                  "authorization: tpm2_dictionarylockout --clear-lockout)",
                        rc);
    case TPM2_RC_AUTH_FAIL: // an HMAC session's authorization did not verify
    case TPM2_RC_BAD_AUTH:  // the same for an object exempt from dictionary-attack counting
        return TpmError(Kind::AuthFailed, message + " (wrong authorization value)", rc);
    case TPM2_RC_FAILURE:
        return TpmError(Kind::Failure,
                        message + " (the TPM is in failure mode; a reboot usually clears it, "
                                  "otherwise the firmware or TPM needs service)",
                        rc);
    case TPM2_RC_OBJECT_MEMORY:
    case TPM2_RC_SESSION_MEMORY:
    case TPM2_RC_OBJECT_HANDLES:
    case TPM2_RC_SESSION_HANDLES:
        return TpmError(Kind::OutOfMemory,
                        message + " (no free TPM slots; without a resource manager another "
                                  "program may have left objects loaded — use /dev/tpmrm0)",
                        rc);
    default:
        return TpmError(Kind::Other, message, rc);
    }
}

std::string_view tpmErrorKindName(TpmError::Kind kind)
{
    switch (kind) {
    case TpmError::Kind::NoTpm:
        return "no_tpm";
    case TpmError::Kind::PermissionDenied:
        return "permission_denied";
    case TpmError::Kind::Lockout:
        return "lockout";
    case TpmError::Kind::AuthFailed:
        return "auth_failed";
    case TpmError::Kind::Failure:
        return "failure";
    case TpmError::Kind::OutOfMemory:
        return "out_of_memory";
    case TpmError::Kind::BadState:
        return "bad_state";
    case TpmError::Kind::Other:
        break;
    }
    return "other";
}

void checkRc(std::string_view operation, TSS2_RC rc)
{
    if (rc != TSS2_RC_SUCCESS)
        throw TpmError::fromRc(operation, rc);
}

} // namespace vigil::attestation
