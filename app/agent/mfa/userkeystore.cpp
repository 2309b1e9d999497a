#include "app/agent/mfa/userkeystore.h"

#include "app/agent/pathsafety.h"
#include "core/privatefile.h"
#include "core/text.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::agent {

namespace {

namespace fs = std::filesystem;

bool present(const fs::path &path)
{
    struct stat st
    {
    };
    return ::lstat(path.c_str(), &st) == 0;
}

[[noreturn]] void unsafe(const std::string &message)
{
    throw UserKeyError(UserKeyError::Kind::Corrupt, message);
}

// mkdir with exactly mode 0700 whatever the umask; an existing directory is left to the checks.
void makeDirectory(const fs::path &directory)
{
    if (::mkdir(directory.c_str(), 0700) == 0) {
        if (::chmod(directory.c_str(), 0700) != 0)
            unsafe("cannot set mode 0700 on " + quoted(directory) + ": " + std::strerror(errno));
        return;
    }
    if (errno != EEXIST)
        unsafe("cannot create the user key directory " + quoted(directory) + ": " +
               std::strerror(errno));
}

void removeFile(const fs::path &path)
{
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        unsafe("cannot remove " + quoted(path) + ": " + std::strerror(errno));
}

} // namespace

UserKeyStore::UserKeyStore(fs::path root, std::shared_ptr<attestation::Tpm> tpm, const Clock &clock,
                           SoftwareUserKey::Options softwareOptions)
    : m_root(std::move(root)), m_tpm(std::move(tpm)), m_clock(clock),
      m_softwareOptions(std::move(softwareOptions))
{
}

fs::path UserKeyStore::directoryOf(uid_t uid) const
{
    return m_root / std::to_string(uid);
}

void UserKeyStore::checkDirectory(const fs::path &directory) const
{
    struct stat st
    {
    };
    if (::lstat(directory.c_str(), &st) != 0)
        unsafe("cannot check the user key directory " + quoted(directory) + ": " +
               std::strerror(errno));
    if (!S_ISDIR(st.st_mode))
        unsafe("the user key directory " + quoted(directory) +
               " is not a directory (a symbolic link is refused too); remove it");
    if (st.st_uid != ::geteuid())
        unsafe("the user key directory " + quoted(directory) + " is owned by uid " +
               std::to_string(st.st_uid) + ", not by vigild's user (uid " +
               std::to_string(::geteuid()) + "); fix: chown " + std::to_string(::geteuid()) + " " +
               quoted(directory));
    if (st.st_mode & 077)
        unsafe("the user key directory " + quoted(directory) + " has mode " +
               octalMode(st.st_mode) + ", which lets group or others into it; fix: chmod 700 " +
               quoted(directory));
    // And nobody else may rename anything on the way to it.
    if (const std::string problem = writeAccessProblem(directory, "user key directory");
        !problem.empty())
        unsafe(problem);
}

fs::path UserKeyStore::prepareDirectory(uid_t uid) const
{
    if (!present(m_root)) {
        std::error_code error;
        fs::create_directories(m_root.parent_path(), error);
        makeDirectory(m_root);
    }
    const fs::path directory = directoryOf(uid);
    makeDirectory(directory);
    checkDirectory(directory);
    return directory;
}

bool UserKeyStore::hasKey(uid_t uid) const
{
    const fs::path directory = directoryOf(uid);
    return present(directory / TpmUserKey::publicFileName) ||
           present(directory / TpmUserKey::privateFileName) ||
           present(directory / SoftwareUserKey::fileName);
}

std::unique_ptr<UserKey> UserKeyStore::open(uid_t uid) const
{
    const fs::path directory = directoryOf(uid);
    if (!present(directory))
        return nullptr;
    checkDirectory(directory);
    const bool tpmKey = present(directory / TpmUserKey::publicFileName) ||
                        present(directory / TpmUserKey::privateFileName);
    const bool softwareKey = present(directory / SoftwareUserKey::fileName);
    if (tpmKey && softwareKey)
        unsafe("the user key directory " + quoted(directory) +
               " holds both a TPM key (key.pub, key.priv) and a software key (key.sealed); "
               "enroll again with a recovery code");
    if (softwareKey)
        return SoftwareUserKey::open(directory, m_clock, m_softwareOptions);
    if (!tpmKey)
        return nullptr;
    if (!m_tpm)
        unsafe("the user key in " + quoted(directory) +
               " is a TPM key, and vigild has no TPM to use it with");
    return TpmUserKey::open(m_tpm, directory);
}

std::unique_ptr<UserKey> UserKeyStore::create(uid_t uid, const SecretBytes &pin)
{
    checkPinFormat(pin);
    const fs::path directory = prepareDirectory(uid);
    std::unique_ptr<UserKey> key;
    if (m_tpm) {
        key = TpmUserKey::create(m_tpm, directory, pin);
        removeFile(directory / SoftwareUserKey::fileName);
    } else {
        key = SoftwareUserKey::create(directory, pin, m_clock, m_softwareOptions);
        removeFile(directory / TpmUserKey::publicFileName);
        removeFile(directory / TpmUserKey::privateFileName);
    }
    return key;
}

UserKeyStore::Snapshot UserKeyStore::snapshot(uid_t uid) const
{
    Snapshot snapshot;
    const fs::path directory = directoryOf(uid);
    for (const char *name :
         {TpmUserKey::privateFileName, TpmUserKey::publicFileName, SoftwareUserKey::fileName})
        if (present(directory / name))
            snapshot.files.emplace_back(
                name, readPrivateFile(directory / name, 64 * 1024, "user key file"));
    return snapshot;
}

void UserKeyStore::restore(uid_t uid, const Snapshot &snapshot)
{
    remove(uid);
    const fs::path directory = directoryOf(uid);
    for (const auto &[name, contents] : snapshot.files)
        writePrivateFile(directory / name, contents, Replace::Allowed, "user key file");
}

void UserKeyStore::remove(uid_t uid)
{
    const fs::path directory = directoryOf(uid);
    for (const char *name :
         {TpmUserKey::privateFileName, TpmUserKey::publicFileName, SoftwareUserKey::fileName})
        removeFile(directory / name);
}

} // namespace vigil::agent
