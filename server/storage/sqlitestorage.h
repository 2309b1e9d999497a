#pragma once

#include "server/storage/storage.h"

#include <filesystem>
#include <memory>

namespace vigil::server {

// Storage in one SQLite file (WAL). The file holds device keys' bindings and token hashes, so it
// must be private to the user the verifier runs as.
class SqliteStorage final : public Storage
{
public:
    // Opens the database, creating it with mode 0600 when it does not exist, and brings its
    // schema up to date. Throws StorageError naming the file when it is accessible to group or
    // others, owned by another user, not a vigil-verifier database, damaged, or written by a
    // newer vigil-verifier.
    static std::unique_ptr<SqliteStorage> open(const std::filesystem::path &file);

    // The newest schema version this build knows.
    static int schemaVersion();

    ~SqliteStorage() override;
    SqliteStorage(const SqliteStorage &) = delete;
    SqliteStorage &operator=(const SqliteStorage &) = delete;

    void addEnrollmentToken(const EnrollmentToken &token) override;
    std::vector<EnrollmentToken> enrollmentTokens() override;
    bool revokeEnrollmentToken(const std::string &id, TimePoint now) override;

    Admission admitDevice(const Bytes &tokenHash, TimePoint now, const Device &device) override;
    Admission admitPendingEnrollment(const Bytes &tokenHash, TimePoint now,
                                     const PendingEnrollment &pending) override;
    Activation activateEnrollment(const std::string &id, const std::string &jkt, TimePoint now,
                                  const ActivationCheck &check, Device *activated) override;
    bool addDevice(const Device &device) override;

    std::optional<Device> device(const std::string &id) override;
    std::optional<Device> deviceByJkt(const std::string &jkt) override;
    std::vector<Device> devices() override;
    bool revokeDevice(const std::string &id, const std::string &reason, TimePoint now) override;

    void addNonce(const std::string &deviceId, const std::string &nonce,
                  TimePoint expiresAt) override;

    void recordReport(const ReportRecord &record, const ReportCheck &check) override;
    std::vector<Appraisal> appraisals(const std::string &deviceId, int limit) override;

    void purgeExpired(TimePoint now) override;
    void checkWritable() override;

private:
    class Private;
    explicit SqliteStorage(std::unique_ptr<Private> impl);

    std::unique_ptr<Private> m_impl;
};

} // namespace vigil::server
