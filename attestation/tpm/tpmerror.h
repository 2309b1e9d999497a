#pragma once

#include "protocol/jose/devicekey.h"

#include <string>
#include <string_view>
#include <tss2/tss2_common.h>

namespace vigil::attestation {

// A TPM operation that failed, with the cause in words a person can act on. Derives from
// KeyError so that code holding a DeviceKey handles TPM and software failures alike.
class TpmError : public KeyError
{
public:
    enum class Kind
    {
        NoTpm,            // no TPM device, or the configured simulator is unreachable
        PermissionDenied, // /dev/tpmrm0 exists but this user may not open it
        Lockout,          // dictionary-attack lockout: authorization refused for a while
        AuthFailed,       // a wrong authorization value (a user key's PIN); counts toward lockout
        Failure,          // the TPM is in failure mode
        OutOfMemory,      // no free object or session slots
        BadState,         // state files missing, unreadable, or not loadable into this TPM
        Other,
    };

    TpmError(Kind kind, std::string message, TSS2_RC rc = 0);

    // Classifies a tss2 return code and says what `operation` was doing, decoded by tss2-rc.
    static TpmError fromRc(std::string_view operation, TSS2_RC rc);

    Kind kind() const { return m_kind; }
    TSS2_RC rc() const { return m_rc; }

private:
    Kind m_kind;
    TSS2_RC m_rc;
};

std::string_view tpmErrorKindName(TpmError::Kind kind);

// Throws TpmError::fromRc(operation, rc) unless rc is TSS2_RC_SUCCESS.
void checkRc(std::string_view operation, TSS2_RC rc);

// The TPM response code with the handle/session/parameter number masked off, so it can be
// compared with TPM2_RC_* constants; 0 for errors from the software stack's own layers.
TSS2_RC tpmResponseCode(TSS2_RC rc);

} // namespace vigil::attestation
