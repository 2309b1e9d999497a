// Tpm::leaseSlotOf and TpmSlotLease: an object taken out of the TPM for a while and put back.

#include "attestation/tpm/esyshandle.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmlogging.h"

namespace vigil::attestation {

TpmSlotLease Tpm::leaseSlotOf(TpmObject &object)
{
    std::lock_guard lock(m_mutex);
    EsysPtr<TPMS_CONTEXT> context;
    checkRc("save an object's context", Esys_ContextSave(m_context, object.m_handle, out(context)));
    checkRc("flush a saved object", Esys_FlushContext(m_context, object.m_handle));
    object.m_handle = ESYS_TR_NONE;
    TpmSlotLease lease;
    lease.m_tpm = this;
    lease.m_object = &object;
    lease.m_context = *context;
    return lease;
}

TpmSlotLease::~TpmSlotLease()
{
    restore();
}

TpmSlotLease::TpmSlotLease(TpmSlotLease &&other) noexcept
{
    *this = std::move(other);
}

TpmSlotLease &TpmSlotLease::operator=(TpmSlotLease &&other) noexcept
{
    if (this != &other) {
        restore();
        m_tpm = std::exchange(other.m_tpm, nullptr);
        m_object = std::exchange(other.m_object, nullptr);
        m_context = other.m_context;
    }
    return *this;
}

void TpmSlotLease::restore() noexcept
{
    if (!m_tpm || !m_object)
        return;
    std::lock_guard lock(m_tpm->m_mutex);
    ESYS_TR handle = ESYS_TR_NONE;
    if (const TSS2_RC rc = Esys_ContextLoad(m_tpm->m_context, &m_context, &handle);
        rc != TSS2_RC_SUCCESS)
        qCWarning(lcTpm, "%s", TpmError::fromRc("load a saved object back", rc).what());
    else
        m_object->m_handle = handle;
    m_tpm = nullptr;
    m_object = nullptr;
}

} // namespace vigil::attestation
