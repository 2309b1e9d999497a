// EK certificates as clients send them (DER from the TPM's NV index, or PEM): parsing and every
// field the verifier reads from one. Only EkCertificateException is an expected outcome.
#include "attestation/ekcertificate.h"

#include <cstdint>
#include <span>

using namespace vigil::attestation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        const EkCertificate certificate =
            EkCertificate::parse(std::span<const std::uint8_t>(data, size));
        certificate.info();
        certificate.der();
    } catch (const EkCertificateException &) {
    }
    return 0;
}
