#include "tlscredentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdexcept>

namespace vigil::server {

namespace {

using attestation::BioPtr;
using attestation::EvpPkeyPtr;
using attestation::openSslError;
using attestation::X509Ptr;

// A key file must never make a server wait for a passphrase on a terminal.
int noPassword(char *, int, int, void *)
{
    return -1;
}

bool endOfPemFile()
{
    const unsigned long error = ERR_peek_last_error();
    if (ERR_GET_LIB(error) != ERR_LIB_PEM || ERR_GET_REASON(error) != PEM_R_NO_START_LINE)
        return false;
    ERR_clear_error();
    return true;
}

} // namespace

void TlsCredentials::ChainFree::operator()(STACK_OF(X509) * chain) const
{
    sk_X509_pop_free(chain, X509_free);
}

TlsCredentials::TlsCredentials(X509Ptr certificate, ChainPtr chain, EvpPkeyPtr key)
    : m_certificate(std::move(certificate)), m_chain(std::move(chain)), m_key(std::move(key))
{
}

std::shared_ptr<const TlsCredentials> TlsCredentials::load(const std::filesystem::path &certificate,
                                                           const std::filesystem::path &privateKey)
{
    ERR_clear_error(); // what the messages below quote must be this load's error
    const auto certificateError = [&certificate] {
        return std::runtime_error("cannot load the TLS certificate " + certificate.string() +
                                  ": " + openSslError());
    };
    BioPtr file(BIO_new_file(certificate.c_str(), "r"));
    if (!file)
        throw certificateError();
    X509Ptr leaf(PEM_read_bio_X509(file.get(), nullptr, noPassword, nullptr));
    if (!leaf)
        throw certificateError();
    ChainPtr chain;
    while (X509Ptr next{PEM_read_bio_X509(file.get(), nullptr, noPassword, nullptr)}) {
        if (!chain)
            chain.reset(sk_X509_new_null());
        if (!chain || sk_X509_push(chain.get(), next.get()) == 0)
            throw certificateError();
        next.release(); // the chain owns it now
    }
    if (!endOfPemFile())
        throw certificateError();

    BioPtr keyFile(BIO_new_file(privateKey.c_str(), "r"));
    EvpPkeyPtr key(keyFile ? PEM_read_bio_PrivateKey(keyFile.get(), nullptr, noPassword, nullptr)
                           : nullptr);
    if (!key)
        throw std::runtime_error("cannot load the TLS key " + privateKey.string() + ": " +
                                 openSslError());
    if (X509_check_private_key(leaf.get(), key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("the TLS key " + privateKey.string() + " does not belong to " +
                                 certificate.string());
    }
    // Handshakes apply these with OpenSSL's security checks (Debian's level 2 refuses, say, an
    // RSA key under 2048 bits); made here, a refusal names the file instead of failing every
    // connection later.
    const std::unique_ptr<SSL_CTX, void (*)(SSL_CTX *)> trial(SSL_CTX_new(TLS_server_method()),
                                                              SSL_CTX_free);
    if (!trial || SSL_CTX_use_cert_and_key(trial.get(), leaf.get(), key.get(), chain.get(), 1) != 1)
        throw std::runtime_error("OpenSSL refuses to present the TLS certificate " +
                                 certificate.string() + " with its key: " + openSslError());
    return std::shared_ptr<const TlsCredentials>(
        new TlsCredentials(std::move(leaf), std::move(chain), std::move(key)));
}

bool TlsCredentials::applyTo(SSL *connection) const
{
    // OpenSSL takes its own references to all three (and copies the chain's stack).
    return SSL_use_cert_and_key(connection, m_certificate.get(), m_key.get(), m_chain.get(), 1) ==
           1;
}

} // namespace vigil::server
