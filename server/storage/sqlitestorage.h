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

    // Users, in sqliteuserstorage.cpp.
    bool addUser(const User &user) override;
    std::optional<User> user(const std::string &id) override;
    std::optional<User> userByName(const std::string &name) override;
    std::vector<User> users() override;
    bool setUserDisabled(const std::string &id, TimePoint now) override;

    void addUserInvite(const UserInvite &invite) override;
    std::vector<UserInvite> userInvites(const std::string &userId) override;
    std::optional<UserInvite> redeemUserInvite(const Bytes &codeHash, TimePoint now,
                                               const std::string &deviceId) override;

    void putUserDevice(const UserDevice &device) override;
    std::optional<UserDevice> userDevice(const std::string &userId,
                                         const std::string &deviceId) override;
    std::vector<UserDevice> userDevices(const std::string &userId) override;

    bool putPendingTotp(const std::string &userId, const Bytes &sealedSecret,
                        TimePoint pendingExpiresAt) override;
    std::optional<UserTotp> userTotp(const std::string &userId) override;
    bool activateTotp(const std::string &userId, std::uint64_t step, TimePoint now) override;
    bool acceptTotpStep(const std::string &userId, std::uint64_t step, TimePoint now) override;
    std::optional<UserTotp> recordTotpFailure(const std::string &userId, TimePoint now,
                                              int lockAt) override;
    bool unlockTotp(const std::string &userId) override;
    bool resetTotp(const std::string &userId) override;

    void replaceRecoveryCodes(const std::string &userId, const std::vector<Bytes> &hashes,
                              TimePoint now) override;
    bool useRecoveryCode(const std::string &userId, const Bytes &hash, TimePoint now) override;
    int recoveryCodesLeft(const std::string &userId) override;

    void addUserSession(const UserSession &session) override;
    std::optional<UserSession> userSession(const Bytes &handleHash) override;
    std::vector<UserSession> activeUserSessions(const std::string &userId, TimePoint now) override;
    bool revokeUserSession(const Bytes &handleHash, TimePoint now) override;

    void purgeExpired(TimePoint now) override;
    void checkWritable() override;

private:
    class Private; // sqlitestorageprivate.h
    explicit SqliteStorage(std::unique_ptr<Private> impl);

    std::unique_ptr<Private> m_impl;
};

} // namespace vigil::server
