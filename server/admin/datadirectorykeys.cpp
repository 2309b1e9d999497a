#include "server/admin/datadirectorykeys.h"

#include "core/privatefile.h"
#include "core/text.h"
#include "protocol/jose/devicekey.h"
#include "server/admin/datadirectory.h"
#include "server/admin/datadirectoryfiles.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <sys/stat.h>

namespace vigil::server::datadir {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t maxKeyFileSize = 64 * 1024;
constexpr std::size_t maxCertificateFileSize = 1024 * 1024;

// Never prompts: an encrypted key file is an error, not a reason to block a service on a tty.
int noPassword(char *, int, int, void *)
{
    return -1;
}

void requirePresent(const fs::path &path, std::string_view what, std::string_view fix)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) == 0)
        return;
    if (errno == ENOENT)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) + " is missing",
                                 std::string(fix));
    throw DataDirectoryError("cannot stat " + std::string(what) + " file " + quoted(path) + ": " +
                             std::strerror(errno));
}

} // namespace

EvpPkeyPtr loadKey(const fs::path &path, std::string_view what, std::string_view fix)
{
    requirePresent(path, what, fix);
    Bytes text;
    try {
        text = readPrivateFile(path, maxKeyFileSize, what);
    } catch (const KeyError &e) {
        throw DataDirectoryError(e.what());
    }
    BioPtr bio(BIO_new_mem_buf(text.data(), int(text.size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr)
                       : nullptr);
    OPENSSL_cleanse(text.data(), text.size());
    if (!key)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " does not hold an unencrypted PEM private key (" +
                                     openSslError() + ")",
                                 std::string(fix));
    return key;
}

Bytes readCertificateFile(const fs::path &path, std::string_view what, std::string_view fix)
{
    requirePresent(path, what, fix);
    struct stat st
    {
    };
    // A FIFO or device here would block or feed garbage; only a regular file is read.
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " is not a regular file",
                                 std::string(fix));
    std::ifstream in(path, std::ios::binary);
    Bytes text(maxCertificateFileSize + 1);
    in.read(reinterpret_cast<char *>(text.data()), std::streamsize(text.size()));
    if (in.bad() || (!in && !in.eof()))
        throw DataDirectoryError("cannot read " + std::string(what) + " file " + quoted(path) +
                                 ": " + std::strerror(errno));
    text.resize(std::size_t(in.gcount()));
    if (text.size() > maxCertificateFileSize)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) + " is over " +
                                     std::to_string(maxCertificateFileSize / 1024) + " KiB",
                                 std::string(fix));
    return text;
}

X509Ptr parseCertificate(const Bytes &text, const fs::path &path, std::string_view what,
                         std::string_view fix)
{
    BioPtr bio(BIO_new_mem_buf(text.data(), int(text.size())));
    X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr) : nullptr);
    if (!certificate)
        throw DataDirectoryError(std::string(what) + " file " + quoted(path) +
                                     " does not hold a PEM certificate (" + openSslError() + ")",
                                 std::string(fix));
    return certificate;
}

X509Ptr loadCertificate(const fs::path &path, std::string_view what, std::string_view fix)
{
    return parseCertificate(readCertificateFile(path, what, fix), path, what, fix);
}

void requireKeyMatches(X509 *certificate, EVP_PKEY *key, const fs::path &certificatePath,
                       const fs::path &keyPath, std::string_view fix)
{
    if (X509_check_private_key(certificate, key) != 1) {
        openSslError(); // clear the queue
        throw DataDirectoryError("the key in " + quoted(keyPath) +
                                     " does not belong to the certificate in " +
                                     quoted(certificatePath),
                                 std::string(fix));
    }
}

BioPtr privateKeyPem(EVP_PKEY *key, std::string_view what)
{
    BioPtr pem(BIO_new(BIO_s_secmem()));
    if (!pem ||
        PEM_write_bio_PrivateKey(pem.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw DataDirectoryError("cannot encode the " + std::string(what) +
                                 " as PKCS#8: " + openSslError());
    return pem;
}

std::span<const std::uint8_t> contentsOf(BIO *memory)
{
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(memory, &text);
    return {reinterpret_cast<const std::uint8_t *>(text->data), text->length};
}

} // namespace vigil::server::datadir
