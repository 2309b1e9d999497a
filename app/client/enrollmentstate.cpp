#include "app/client/enrollmentstate.h"

#include "app/applogging.h"
#include "core/bytes.h"
#include "core/certificatefingerprint.h"
#include "core/filedescriptor.h"
#include "core/opensslptr.h"
#include "core/privatefile.h"
#include "core/text.h"
#include "protocol/messages.h"
#include "protocol/rfc3339.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vigil::app {

namespace {

namespace fs = std::filesystem;

// Reads a small regular file without following a symlink or blocking on a FIFO. With trusted,
// also refuses a file that someone other than this user (or root) could have written.
std::string readSmallFile(const fs::path &path, std::string_view what, bool trusted)
{
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (fd.get() < 0) {
        const int error = errno;
        if (error == ELOOP)
            throw EnrollmentStateError(std::string(what) + " " + quoted(path) +
                                       " is a symbolic link; give the file itself");
        throw EnrollmentStateError("cannot read " + std::string(what) + " " + quoted(path) + ": " +
                                   std::strerror(error));
    }
    struct stat status
    {
    };
    if (::fstat(fd.get(), &status) != 0)
        throw EnrollmentStateError("cannot read " + std::string(what) + " " + quoted(path) + ": " +
                                   std::strerror(errno));
    if (!S_ISREG(status.st_mode))
        throw EnrollmentStateError(std::string(what) + " " + quoted(path) +
                                   " is not a regular file");
    if (trusted) {
        if (status.st_uid != ::geteuid() && status.st_uid != 0)
            throw EnrollmentStateError(std::string(what) + " " + quoted(path) +
                                       " belongs to user " + std::to_string(status.st_uid) +
                                       ", not to this user (" + std::to_string(::geteuid()) +
                                       ") or root; it decides whom Vigil trusts, so " +
                                       "re-enroll (vigilctl enroll) to write it again");
        if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", unsigned(status.st_mode & 07777));
            throw EnrollmentStateError(std::string(what) + " " + quoted(path) + " has mode " +
                                       mode + ": others could replace it; fix: chmod 644 " +
                                       quoted(path));
        }
    }
    if (status.st_size > static_cast<off_t>(maxCaFileSize))
        throw EnrollmentStateError(std::string(what) + " " + quoted(path) + " is larger than " +
                                   std::to_string(maxCaFileSize) + " bytes");
    std::string contents;
    try {
        contents = readUpTo(fd.get(), maxCaFileSize);
    } catch (const std::system_error &e) {
        throw EnrollmentStateError("cannot read " + std::string(what) + " " + quoted(path) + ": " +
                                   e.code().message());
    }
    if (contents.size() > maxCaFileSize) // it grew after fstat
        throw EnrollmentStateError(std::string(what) + " " + quoted(path) + " is larger than " +
                                   std::to_string(maxCaFileSize) + " bytes");
    return contents;
}

void syncDirectory(const fs::path &directory)
{
    const FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0)
        throw EnrollmentStateError("cannot sync directory " + quoted(directory) + ": " +
                                   std::strerror(errno));
}

std::string stateError(const fs::path &file, const std::string &what)
{
    return "enrollment state " + quoted(file) + ": " + what +
           "; fix: enroll again (vigilctl enroll)";
}

} // namespace

std::string certificateFingerprint(std::string_view pem)
{
    const BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        throw EnrollmentStateError("out of memory reading a certificate");
    const X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!certificate) {
        ERR_clear_error();
        throw EnrollmentStateError("no PEM certificate in it");
    }
    try {
        return vigil::certificateFingerprint(certificate.get());
    } catch (const std::runtime_error &e) {
        throw EnrollmentStateError(e.what());
    }
}

std::optional<std::string> normaliseFingerprint(std::string_view text)
{
    if (text.size() < 7)
        return std::nullopt;
    std::string prefix(text.substr(0, 7));
    for (char &c : prefix)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    if (prefix != "sha256:")
        return std::nullopt;
    std::string hex(text.substr(7));
    // Colon-separated pairs: every third character a colon, and none elsewhere.
    if (hex.find(':') != std::string::npos) {
        std::string packed;
        for (std::size_t i = 0; i < hex.size(); ++i) {
            if (i % 3 == 2) {
                if (hex[i] != ':')
                    return std::nullopt;
            } else {
                packed += hex[i];
            }
        }
        if (hex.size() % 3 != 2)
            return std::nullopt;
        hex = packed;
    }
    if (hex.size() != 64)
        return std::nullopt;
    for (char &c : hex) {
        if (c >= 'A' && c <= 'F')
            c = char(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return std::nullopt;
    }
    return "sha256:" + hex;
}

PinnedCa readCaFile(const fs::path &file, const std::optional<std::string> &expectedFingerprint)
{
    std::optional<std::string> expected;
    if (expectedFingerprint) {
        expected = normaliseFingerprint(*expectedFingerprint);
        if (!expected)
            throw EnrollmentStateError("the CA fingerprint '" + *expectedFingerprint +
                                       "' is not sha256: followed by 64 hex digits");
    }
    PinnedCa ca;
    ca.pem = readSmallFile(file, "CA file", false);
    try {
        ca.fingerprint = certificateFingerprint(ca.pem);
    } catch (const EnrollmentStateError &e) {
        throw EnrollmentStateError("CA file " + quoted(file) + ": " + e.what() +
                                   "; give the verifier's ca.pem");
    }
    if (expected && ca.fingerprint != *expected)
        throw EnrollmentStateError("CA file " + quoted(file) + " has fingerprint " +
                                   ca.fingerprint + ", not the expected " + *expected +
                                   "; refusing to trust it (is it the right verifier's ca.pem?)");
    return ca;
}

nlohmann::json EnrollmentState::toJson() const
{
    nlohmann::json json = {{"version", formatVersion},
                           {"server_url", serverUrl},
                           {"device_id", deviceId},
                           {"assurance", protocol::assuranceName(assurance)},
                           {"device_key_thumbprint", deviceKeyThumbprint},
                           {"ca_fingerprint", caFingerprint},
                           {"hostname", hostname},
                           {"enrolled_at", protocol::formatRfc3339(enrolledAt)}};
    if (machine)
        json["machine"] = machine->toJson();
    return json;
}

EnrollmentState EnrollmentState::fromJson(const nlohmann::json &json)
{
    const auto fail = [](const std::string &pointer, const std::string &what) {
        throw protocol::MessageError(pointer, what);
    };
    if (!json.is_object())
        fail("", "must be a JSON object");
    const auto string = [&](const char *name, std::size_t maxLength) {
        const std::string pointer = std::string("/") + name;
        const auto it = json.find(name);
        if (it == json.end())
            fail(pointer, "is missing");
        if (!it->is_string())
            fail(pointer, "must be a string");
        const auto &text = it->get_ref<const std::string &>();
        if (text.empty() || text.size() > maxLength)
            fail(pointer, "must have 1 to " + std::to_string(maxLength) + " characters");
        return text;
    };
    const auto version = json.find("version");
    if (version == json.end() || !version->is_number_integer() ||
        version->get<long long>() != formatVersion)
        fail("/version", "must be 1");

    EnrollmentState state;
    state.serverUrl = string("server_url", 2048);
    if (!state.serverUrl.starts_with("https://"))
        fail("/server_url", "must be an https:// URL");
    state.deviceId = string("device_id", 64);
    const auto assurance = protocol::assuranceFromName(string("assurance", 16));
    if (!assurance)
        fail("/assurance", "must be \"tpm\" or \"software\"");
    state.assurance = *assurance;
    state.deviceKeyThumbprint = string("device_key_thumbprint", 43);
    if (state.deviceKeyThumbprint.size() != 43 ||
        !base64UrlDecode(state.deviceKeyThumbprint))
        fail("/device_key_thumbprint", "must be a base64url SHA-256 thumbprint");
    const auto fingerprint = normaliseFingerprint(string("ca_fingerprint", 200));
    if (!fingerprint)
        fail("/ca_fingerprint", "must be sha256: followed by 64 hex digits");
    state.caFingerprint = *fingerprint;
    state.hostname = string("hostname", protocol::limits::maxHostname);
    const auto enrolledAt = protocol::parseRfc3339(string("enrolled_at", 20));
    if (!enrolledAt)
        fail("/enrolled_at", "must be an RFC 3339 UTC time like 2026-11-24T16:05:00Z");
    state.enrolledAt = *enrolledAt;
    if (const auto machine = json.find("machine"); machine != json.end())
        state.machine = MachineBinding::fromJson(*machine, "/machine");
    return state;
}

EnrollmentStore::EnrollmentStore(fs::path stateDirectory) : m_directory(std::move(stateDirectory))
{
}

fs::path EnrollmentStore::stagedCaFile() const
{
    return m_directory / (std::string(caFileName) + ".new");
}

std::optional<EnrollmentState> EnrollmentStore::load() const
{
    std::error_code error;
    if (fs::symlink_status(stateFile(), error).type() == fs::file_type::not_found)
        return std::nullopt;
    Bytes bytes;
    try {
        bytes = readPrivateFile(stateFile(), 64 * 1024, "enrollment state");
    } catch (const KeyError &e) {
        throw EnrollmentStateError(e.what());
    }
    EnrollmentState state;
    try {
        state = EnrollmentState::fromJson(protocol::parseJsonBody(
            std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size())));
    } catch (const protocol::MessageError &e) {
        throw EnrollmentStateError(stateError(stateFile(), e.what()));
    }

    const std::string pem = readSmallFile(caFile(), "pinned verifier CA", true);
    std::string fingerprint;
    try {
        fingerprint = certificateFingerprint(pem);
    } catch (const EnrollmentStateError &e) {
        throw EnrollmentStateError("pinned verifier CA " + quoted(caFile()) + ": " + e.what() +
                                   "; fix: enroll again (vigilctl enroll)");
    }
    if (fingerprint != state.caFingerprint)
        throw EnrollmentStateError("pinned verifier CA " + quoted(caFile()) + " has fingerprint " +
                                   fingerprint + ", not the " + state.caFingerprint +
                                   " recorded at enrollment; fix: enroll again (vigilctl enroll)");
    return state;
}

fs::path EnrollmentStore::stageCa(const PinnedCa &ca) const
{
    const fs::path staged = stagedCaFile();
    try {
        writePrivateFile(staged, toBytes(ca.pem),
                                      Replace::Allowed, "verifier CA");
    } catch (const KeyError &e) {
        throw EnrollmentStateError(e.what());
    }
    // A certificate is public; 0644 lets unprivileged tools read what the service trusts.
    if (::chmod(staged.c_str(), 0644) != 0)
        throw EnrollmentStateError("cannot make " + quoted(staged) +
                                   " readable: " + std::strerror(errno));
    return staged;
}

void EnrollmentStore::commit(const EnrollmentState &state) const
{
    if (::rename(stagedCaFile().c_str(), caFile().c_str()) != 0)
        throw EnrollmentStateError("cannot move " + quoted(stagedCaFile()) + " to " +
                                   quoted(caFile()) + ": " + std::strerror(errno));
    syncDirectory(m_directory);
    save(state);
}

void EnrollmentStore::save(const EnrollmentState &state) const
{
    const std::string text = state.toJson().dump(2) + "\n";
    try {
        writePrivateFile(stateFile(), toBytes(text),
                                      Replace::Allowed, "enrollment state");
    } catch (const KeyError &e) {
        throw EnrollmentStateError(e.what());
    }
    qCDebug(lcApp, "enrollment state written to %s", stateFile().c_str());
}

void EnrollmentStore::discardStaged() const noexcept
{
    // No caller to tell (it cannot throw), yet a CA file left behind is worth a trace.
    std::error_code error;
    if (!fs::remove(stagedCaFile(), error) && error)
        qCWarning(lcApp, "cannot remove %s: %s", stagedCaFile().c_str(), error.message().c_str());
}

} // namespace vigil::app
