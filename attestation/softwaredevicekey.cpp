#include "softwaredevicekey.h"

#include "ecdsasignature.h"
#include "jwk.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::attestation {

namespace {

namespace fs = std::filesystem;

std::string quoted(const fs::path &path)
{
    return "'" + path.string() + "'";
}

std::string errnoText(int error)
{
    return std::strerror(error);
}

std::string octalMode(mode_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", unsigned(mode & 07777));
    return text;
}

class FileDescriptor
{
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;
    int get() const { return m_fd; }
    // close(2) reports deferred write errors, so callers that wrote check it.
    int close()
    {
        const int result = ::close(m_fd);
        m_fd = -1;
        return result;
    }

private:
    int m_fd;
};

// PEM text of a private key: wiped before its memory goes back to the allocator.
class SecretText
{
public:
    explicit SecretText(std::size_t capacity) : m_data(capacity) {}
    ~SecretText() { OPENSSL_cleanse(m_data.data(), m_data.size()); }
    SecretText(const SecretText &) = delete;
    SecretText &operator=(const SecretText &) = delete;
    char *data() { return m_data.data(); }
    std::size_t capacity() const { return m_data.size(); }

private:
    std::vector<char> m_data;
};

// The temporary file of an atomic write, removed unless it was renamed into place.
class TemporaryFile
{
public:
    explicit TemporaryFile(fs::path path) : m_path(std::move(path)) {}
    ~TemporaryFile()
    {
        if (!m_path.empty())
            ::unlink(m_path.c_str());
    }
    TemporaryFile(const TemporaryFile &) = delete;
    TemporaryFile &operator=(const TemporaryFile &) = delete;
    const fs::path &path() const { return m_path; }
    void release() { m_path.clear(); }

private:
    fs::path m_path;
};

// Never prompts: an encrypted key file is an error, not a reason to block a service on a tty.
int noPassword(char *, int, int, void *)
{
    return -1;
}

// Creates dir and any missing ancestors with mode 0700; directories that exist are left as they
// are (they may be shared system directories).
void makeDirectory(const fs::path &dir)
{
    struct stat st
    {
    };
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            throw KeyError("cannot create the device key in " + quoted(dir) +
                           ": it is not a directory");
        return;
    }
    if (errno != ENOENT)
        throw KeyError("cannot create the device key in " + quoted(dir) + ": " + errnoText(errno));
    const fs::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir)
        makeDirectory(parent);
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (errno == EEXIST)
            return makeDirectory(dir); // created concurrently: check it is a directory
        throw KeyError("cannot create directory " + quoted(dir) +
                       " for the device key: " + errnoText(errno));
    }
    // mkdir's mode is filtered by the umask; the key's directory is exactly 0700 regardless.
    if (::chmod(dir.c_str(), 0700) != 0)
        throw KeyError("cannot set mode 0700 on " + quoted(dir) + ": " + errnoText(errno));
}

void writeAll(int fd, const char *data, std::size_t size, const fs::path &path)
{
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            throw KeyError("cannot write " + quoted(path) + ": " + errnoText(errno));
        }
        data += written;
        size -= std::size_t(written);
    }
}

std::string randomSuffix()
{
    std::uint8_t bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw KeyError("cannot draw random bytes: " + openSslError());
    return toHex(bytes);
}

// Moves from to to unless to exists. false if it does.
bool renameNoReplace(const fs::path &from, const fs::path &to)
{
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
        return true;
    if (errno == EEXIST)
        return false;
    if (errno != EINVAL && errno != ENOSYS)
        throw KeyError("cannot move the new device key into place at " + quoted(to) + ": " +
                       errnoText(errno));
    // Filesystems without RENAME_NOREPLACE: link(2) is just as atomic about existing names.
    if (::link(from.c_str(), to.c_str()) != 0) {
        if (errno == EEXIST)
            return false;
        throw KeyError("cannot move the new device key into place at " + quoted(to) + ": " +
                       errnoText(errno));
    }
    ::unlink(from.c_str());
    return true;
}

fs::path parentOf(const fs::path &path)
{
    const fs::path parent = path.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

// nullptr if path already exists (the caller decides whether that is an error).
EvpPkeyPtr createKeyFile(const fs::path &path)
{
    if (!path.has_filename())
        throw KeyError("device key path " + quoted(path) + " does not name a file");
    const fs::path dir = parentOf(path);
    makeDirectory(dir);

    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        throw KeyError("cannot generate an EC P-256 key: " + openSslError());

    // secmem: the BIO's buffer is cleared when freed and when it grows.
    BioPtr pem(BIO_new(BIO_s_secmem()));
    if (!pem ||
        PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw KeyError("cannot encode the device key as PKCS#8: " + openSslError());
    BUF_MEM *text = nullptr;
    BIO_get_mem_ptr(pem.get(), &text);
    if (!text || text->length == 0)
        throw KeyError("cannot encode the device key as PKCS#8: empty output");

    // Same directory as the target so that rename is atomic; a crash leaves at worst a stray
    // dot-file, never a half-written key under the real name.
    TemporaryFile temporary(dir / ("." + path.filename().string() + ".tmp-" + randomSuffix()));
    FileDescriptor fd(::open(temporary.path().c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        const int error = errno;
        temporary.release(); // not ours to remove
        throw KeyError("cannot create " + quoted(temporary.path()) + ": " + errnoText(error));
    }
    if (::fchmod(fd.get(), 0600) != 0)
        throw KeyError("cannot set mode 0600 on " + quoted(temporary.path()) + ": " +
                       errnoText(errno));
    writeAll(fd.get(), text->data, text->length, temporary.path());
    if (::fsync(fd.get()) != 0)
        throw KeyError("cannot flush " + quoted(temporary.path()) + ": " + errnoText(errno));
    if (fd.close() != 0)
        throw KeyError("cannot write " + quoted(temporary.path()) + ": " + errnoText(errno));

    if (!renameNoReplace(temporary.path(), path))
        return nullptr;
    temporary.release();

    // The rename itself is durable only once the directory is.
    FileDescriptor dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirFd.get() < 0 || ::fsync(dirFd.get()) != 0)
        throw KeyError("cannot flush directory " + quoted(dir) + ": " + errnoText(errno));
    return key;
}

} // namespace

SoftwareDeviceKey::SoftwareDeviceKey(EvpPkeyPtr key, std::filesystem::path path)
    : m_key(std::move(key)), m_publicKey(fromEvpPkey(m_key.get())), m_path(std::move(path))
{
}

std::unique_ptr<SoftwareDeviceKey> SoftwareDeviceKey::create(const std::filesystem::path &path)
{
    EvpPkeyPtr key = createKeyFile(path);
    if (!key)
        throw KeyError("device key file " + quoted(path) +
                       " already exists; refusing to replace it (that would change the "
                       "device's identity). Load it, or remove it to enroll afresh.");
    return std::unique_ptr<SoftwareDeviceKey>(new SoftwareDeviceKey(std::move(key), path));
}

std::unique_ptr<SoftwareDeviceKey> SoftwareDeviceKey::load(const std::filesystem::path &path)
{
    // O_NONBLOCK: opening a FIFO planted at the path must not hang; fstat then refuses it.
    FileDescriptor fd(
        ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        const int error = errno;
        struct stat st
        {
        };
        if (error == ELOOP && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
            throw KeyError("device key file " + quoted(path) +
                           " is a symbolic link; refusing to follow it. Replace the link with "
                           "the key file itself.");
        throw KeyError("cannot open device key file " + quoted(path) + ": " + errnoText(error));
    }
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
        throw KeyError("cannot stat device key file " + quoted(path) + ": " + errnoText(errno));
    if (!S_ISREG(st.st_mode))
        throw KeyError("device key file " + quoted(path) + " is not a regular file");
    if (st.st_uid != ::geteuid())
        throw KeyError("device key file " + quoted(path) + " is owned by uid " +
                       std::to_string(st.st_uid) + ", not by this process's user (uid " +
                       std::to_string(::geteuid()) + "); fix: chown " +
                       std::to_string(::geteuid()) + " " + quoted(path) + " (or remove it)");
    if (st.st_mode & 077)
        throw KeyError("device key file " + quoted(path) + " has mode " + octalMode(st.st_mode) +
                       ", which lets group or others access it; fix: chmod 600 " + quoted(path));
    if (st.st_size > off_t(maxFileSize))
        throw KeyError("device key file " + quoted(path) + " is " + std::to_string(st.st_size) +
                       " bytes, more than the " + std::to_string(maxFileSize) +
                       " a key file can be");

    // One byte of headroom tells a file that grew past the cap after fstat.
    SecretText text(maxFileSize + 1);
    std::size_t size = 0;
    while (size < text.capacity()) {
        const ssize_t got = ::read(fd.get(), text.data() + size, text.capacity() - size);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw KeyError("cannot read device key file " + quoted(path) + ": " + errnoText(errno));
        }
        if (got == 0)
            break;
        size += std::size_t(got);
    }
    if (size > maxFileSize)
        throw KeyError("device key file " + quoted(path) + " is more than " +
                       std::to_string(maxFileSize) + " bytes");

    BioPtr bio(BIO_new_mem_buf(text.data(), int(size)));
    if (!bio)
        throw KeyError("cannot read device key file " + quoted(path) + ": " + openSslError());
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
    if (!key)
        throw KeyError("device key file " + quoted(path) +
                       " does not hold an unencrypted PEM private key: " + openSslError());
    try {
        fromEvpPkey(key.get());
    } catch (const KeyError &e) {
        throw KeyError("device key file " + quoted(path) +
                       " does not hold an EC P-256 private key: " + e.what());
    }
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_check(check.get()) != 1)
        throw KeyError("device key file " + quoted(path) +
                       " holds an inconsistent EC key pair: " + openSslError());
    return std::unique_ptr<SoftwareDeviceKey>(new SoftwareDeviceKey(std::move(key), path));
}

std::unique_ptr<SoftwareDeviceKey>
SoftwareDeviceKey::loadOrCreate(const std::filesystem::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) == 0)
        return load(path);
    if (errno != ENOENT)
        throw KeyError("cannot stat device key file " + quoted(path) + ": " + errnoText(errno));
    if (EvpPkeyPtr key = createKeyFile(path))
        return std::unique_ptr<SoftwareDeviceKey>(new SoftwareDeviceKey(std::move(key), path));
    return load(path); // another process created it between lstat and rename
}

Bytes SoftwareDeviceKey::sign(std::span<const std::uint8_t> digest)
{
    if (digest.size() != 32)
        throw KeyError("digest to sign is " + std::to_string(digest.size()) +
                       " bytes; ES256 signs a 32-byte SHA-256 digest");
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, m_key.get(), nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0)
        throw KeyError("cannot set up ECDSA signing: " + openSslError());
    std::size_t size = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &size, digest.data(), digest.size()) <= 0)
        throw KeyError("ECDSA signing failed: " + openSslError());
    Bytes der(size);
    if (EVP_PKEY_sign(ctx.get(), der.data(), &size, digest.data(), digest.size()) <= 0)
        throw KeyError("ECDSA signing failed: " + openSslError());
    der.resize(size);
    try {
        return ecdsaDerToRaw(der);
    } catch (const SignatureError &e) {
        throw KeyError(std::string("OpenSSL produced an unusable signature: ") + e.what());
    }
}

} // namespace vigil::attestation
