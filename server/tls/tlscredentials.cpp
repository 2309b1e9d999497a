#include "server/tls/tlscredentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdexcept>

namespace vigil::server {

namespace {

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
    ERR_clear_error(); // what the messages quote must be this load's error
    std::ifstream in(certificate, std::ios::binary);
    const std::string chain{std::istreambuf_iterator<char>(in), {}};
    if (!in.good() && !in.eof())
        throw std::runtime_error("cannot load the TLS certificate " + certificate.string() + ": " +
                                 std::strerror(errno));
    BioPtr keyFile(BIO_new_file(privateKey.c_str(), "r"));
    EvpPkeyPtr key(keyFile ? PEM_read_bio_PrivateKey(keyFile.get(), nullptr, noPassword, nullptr)
                           : nullptr);
    if (!key)
        throw std::runtime_error("cannot load the TLS key " + privateKey.string() + ": " +
                                 openSslError());
    return fromPem(std::span(reinterpret_cast<const std::uint8_t *>(chain.data()), chain.size()),
                   certificate.string(), std::move(key), privateKey.string());
}

std::shared_ptr<const TlsCredentials> TlsCredentials::fromPem(std::span<const std::uint8_t> chain,
                                                              const std::string &chainName,
                                                              EvpPkeyPtr key,
                                                              const std::string &keyName)
{
    ERR_clear_error();
    const auto certificateError = [&chainName] {
        return std::runtime_error("cannot load the TLS certificate " + chainName + ": " +
                                  openSslError());
    };
    BioPtr text(BIO_new_mem_buf(chain.data(), int(chain.size())));
    if (!text)
        throw certificateError();
    X509Ptr leaf(PEM_read_bio_X509(text.get(), nullptr, noPassword, nullptr));
    if (!leaf)
        throw certificateError();
    ChainPtr intermediates;
    while (X509Ptr next{PEM_read_bio_X509(text.get(), nullptr, noPassword, nullptr)}) {
        if (!intermediates)
            intermediates.reset(sk_X509_new_null());
        if (!intermediates || sk_X509_push(intermediates.get(), next.get()) == 0)
            throw certificateError();
        next.release(); // the stack owns it now
    }
    if (!endOfPemFile())
        throw certificateError();

    if (!key || X509_check_private_key(leaf.get(), key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("the TLS key " + keyName + " does not belong to " + chainName);
    }
    // Handshakes apply these with OpenSSL's security checks (Debian's level 2 refuses, say, an
    // RSA key under 2048 bits); made here, a refusal names the file instead of failing every
    // connection later.
    const std::unique_ptr<SSL_CTX, void (*)(SSL_CTX *)> trial(SSL_CTX_new(TLS_server_method()),
                                                              SSL_CTX_free);
    if (!trial ||
        SSL_CTX_use_cert_and_key(trial.get(), leaf.get(), key.get(), intermediates.get(), 1) != 1)
        throw std::runtime_error("OpenSSL refuses to present the TLS certificate " + chainName +
                                 " with its key: " + openSslError());
    return std::shared_ptr<const TlsCredentials>(
        new TlsCredentials(std::move(leaf), std::move(intermediates), std::move(key)));
}

bool TlsCredentials::applyTo(SSL *connection) const
{
    // OpenSSL takes its own references to all three (and copies the chain's stack).
    return SSL_use_cert_and_key(connection, m_certificate.get(), m_key.get(), m_chain.get(), 1) ==
           1;
}

} // namespace vigil::server
