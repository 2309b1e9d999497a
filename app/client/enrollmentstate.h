#pragma once

// What a device remembers about its enrollment, in its state directory:
//
//   <state>/enrollment.json   0600  {"version":1,"server_url":…,"device_id":…,"assurance":…,
//                                    "device_key_thumbprint":…,"ca_fingerprint":"sha256:…",
//                                    "hostname":…,"enrolled_at":"…Z","machine":{…}}
//   <state>/verifier-ca.pem   0644  the verifier CA pinned at enrollment: the only TLS trust
//                                    anchor for talking to the verifier
//
// "machine" (machinebinding.h) is optional: enrollments made before it existed have none, and
// vigild records this machine's values in them on its first start (the format stays version
// 1, whose readers ignore members they do not know). Both are written atomically. The CA file
// configures trust, so loading refuses one that another user could have replaced, and one whose
// fingerprint is not the one recorded. Every failure throws EnrollmentStateError naming the file,
// what is wrong and the fix.

#include "app/client/machinebinding.h"
#include "protocol/jose/devicekey.h"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::app {

class EnrollmentStateError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Largest CA file read (a handful of PEM certificates is a few KiB).
inline constexpr std::size_t maxCaFileSize = 64 * 1024;

// "sha256:" + lower-case hex SHA-256 over the DER of the first certificate in pem — the form
// `vigil-verifier init` prints. Throws EnrollmentStateError when pem holds no certificate.
std::string certificateFingerprint(std::string_view pem);

// "sha256:HEX" with 64 hex digits in either case, optionally in colon-separated pairs (as
// `openssl x509 -fingerprint -sha256` prints them), as "sha256:" + lower-case hex; nullopt for
// anything else.
std::optional<std::string> normaliseFingerprint(std::string_view text);

struct PinnedCa
{
    std::string pem;         // the file's contents, as read
    std::string fingerprint; // of its first certificate
};

// Reads a CA file given by an administrator (at most maxCaFileSize bytes, PEM with at least one
// certificate) and, when expectedFingerprint is given ("sha256:HEX", see normaliseFingerprint),
// refuses it unless its first certificate has that fingerprint.
PinnedCa readCaFile(const std::filesystem::path &file,
                    const std::optional<std::string> &expectedFingerprint = {});

struct EnrollmentState
{
    static constexpr int formatVersion = 1;

    std::string serverUrl;
    std::string deviceId;
    protocol::Assurance assurance = protocol::Assurance::Tpm;
    std::string deviceKeyThumbprint; // RFC 7638 thumbprint of the enrolled device key
    std::string caFingerprint;       // of verifier-ca.pem
    std::string hostname;
    std::chrono::system_clock::time_point enrolledAt;
    std::optional<MachineBinding> machine; // where the identity was made; none in old files

    nlohmann::json toJson() const;
    // Strict: every member above with its type and form; errors name it as a JSON pointer.
    static EnrollmentState fromJson(const nlohmann::json &json);
};

class EnrollmentStore
{
public:
    static constexpr const char *stateFileName = "enrollment.json";
    static constexpr const char *caFileName = "verifier-ca.pem";

    explicit EnrollmentStore(std::filesystem::path stateDirectory);

    std::filesystem::path stateFile() const { return m_directory / stateFileName; }
    std::filesystem::path caFile() const { return m_directory / caFileName; }

    // nullopt when this device has not been enrolled (no enrollment.json). Otherwise the state,
    // after checking verifier-ca.pem: a regular file owned by this user (or root), writable by
    // nobody else, with the recorded fingerprint.
    std::optional<EnrollmentState> load() const;

    // Enrollment in two steps, so that a failed enrollment leaves a previous one intact:
    // stageCa writes the CA for the enrollment to use (verifier-ca.pem.new, 0644; the state
    // directory is created 0700 if missing) and returns its path; commit moves it into place
    // and writes enrollment.json. discardStaged removes a staged CA (never throws).
    std::filesystem::path stageCa(const PinnedCa &ca) const;
    void commit(const EnrollmentState &state) const;
    void discardStaged() const noexcept;
    // Rewrites enrollment.json alone, for a change that leaves the CA as it is (the machine
    // binding recorded in an old enrollment).
    void save(const EnrollmentState &state) const;

private:
    std::filesystem::path stagedCaFile() const;

    std::filesystem::path m_directory;
};

} // namespace vigil::app
