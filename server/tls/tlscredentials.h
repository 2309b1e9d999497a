#pragma once

// The certificate chain and private key the HTTPS server presents. A TlsCredentials is loaded
// and checked as a pair and never changes afterwards: a renewed certificate is a new one that
// the server swaps in whole, so no handshake can pair one load's certificate with another's key.

#include "core/opensslptr.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace vigil::server {

class TlsCredentials
{
public:
    // certificate: PEM, the server certificate and then any intermediates, nothing else;
    // privateKey: an unencrypted PEM key (an encrypted one is refused, never prompted for).
    // Also refuses what OpenSSL would refuse to present at this security level (a key too
    // small, a weak signature), which would otherwise fail every handshake. Throws
    // std::runtime_error naming the file and the reason.
    static std::shared_ptr<const TlsCredentials> load(const std::filesystem::path &certificate,
                                                      const std::filesystem::path &privateKey);
    // The same checks for a certificate file's text and a key already read; chainName and keyName
    // stand for the files in messages.
    static std::shared_ptr<const TlsCredentials> fromPem(std::span<const std::uint8_t> chain,
                                                         const std::string &chainName,
                                                         EvpPkeyPtr key,
                                                         const std::string &keyName);

    X509 *certificate() const { return m_certificate.get(); }
    // Sets this chain and key on one connection whose handshake is starting. False, with
    // OpenSSL's error queue set, if OpenSSL refuses them.
    bool applyTo(SSL *connection) const;

private:
    struct ChainFree
    {
        void operator()(STACK_OF(X509) * chain) const;
    };
    using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

    TlsCredentials(X509Ptr certificate, ChainPtr chain, EvpPkeyPtr key);

    X509Ptr m_certificate;
    ChainPtr m_chain; // the intermediates; may be null
    EvpPkeyPtr m_key;
};

} // namespace vigil::server
