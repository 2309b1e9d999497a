#include "core/certificatefingerprint.h"

#include "core/bytes.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdexcept>

namespace vigil {

std::string certificateFingerprint(X509 *certificate)
{
    unsigned char *der = nullptr;
    const int length = i2d_X509(certificate, &der);
    if (length <= 0) {
        openSslError();
        throw std::runtime_error("cannot encode a certificate as DER");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    const int ok =
        EVP_Digest(der, static_cast<std::size_t>(length), digest, &size, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (ok != 1)
        throw std::runtime_error("cannot hash a certificate: " + openSslError());
    return "sha256:" + toHex(std::span<const std::uint8_t>(digest, size));
}

} // namespace vigil
