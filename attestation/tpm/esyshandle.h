#pragma once

// Owners for what ESYS hands out, so that no TPM slot and no ESYS allocation outlives its use
// even when an exception unwinds through.

#include <memory>
#include <tss2/tss2_esys.h>
#include <utility>

namespace vigil::attestation {

struct EsysFree
{
    void operator()(void *p) const { Esys_Free(p); }
};

// Output parameters of Esys_* calls: `EsysPtr<TPM2B_PUBLIC> pub; Esys_X(..., out(pub))`.
template <typename T> using EsysPtr = std::unique_ptr<T, EsysFree>;

template <typename T> class EsysOut
{
public:
    explicit EsysOut(EsysPtr<T> &owner) : m_owner(owner) {}
    ~EsysOut() { m_owner.reset(m_raw); }
    operator T **() { return &m_raw; }

private:
    EsysPtr<T> &m_owner;
    T *m_raw = nullptr;
};

template <typename T> EsysOut<T> out(EsysPtr<T> &owner)
{
    return EsysOut<T>(owner);
}

// An ESYS_TR for a transient object or session (flushed from the TPM when released) or for an
// NV index / persistent object (only the ESYS metadata is closed; the TPM object stays).
class EsysHandle
{
public:
    enum class Release
    {
        Flush,
        Close
    };

    EsysHandle() = default;
    EsysHandle(ESYS_CONTEXT *context, ESYS_TR handle, Release release)
        : m_context(context), m_handle(handle), m_release(release)
    {
    }
    ~EsysHandle() { reset(); }
    EsysHandle(EsysHandle &&other) noexcept { *this = std::move(other); }
    EsysHandle &operator=(EsysHandle &&other) noexcept
    {
        if (this != &other) {
            reset();
            m_context = std::exchange(other.m_context, nullptr);
            m_handle = std::exchange(other.m_handle, ESYS_TR_NONE);
            m_release = other.m_release;
        }
        return *this;
    }
    EsysHandle(const EsysHandle &) = delete;
    EsysHandle &operator=(const EsysHandle &) = delete;

    ESYS_TR get() const { return m_handle; }
    // Gives up ownership, e.g. to a TpmObject once nothing can throw any more.
    ESYS_TR release() { return std::exchange(m_handle, ESYS_TR_NONE); }
    explicit operator bool() const { return m_handle != ESYS_TR_NONE; }

    void reset()
    {
        if (m_context && m_handle != ESYS_TR_NONE) {
            if (m_release == Release::Flush)
                Esys_FlushContext(m_context, m_handle);
            else
                Esys_TR_Close(m_context, &m_handle);
        }
        m_handle = ESYS_TR_NONE;
    }

private:
    ESYS_CONTEXT *m_context = nullptr;
    ESYS_TR m_handle = ESYS_TR_NONE;
    Release m_release = Release::Flush;
};

} // namespace vigil::attestation
