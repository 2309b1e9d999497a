#pragma once

// The verifier's state behind one small interface, so that a PostgreSQL backend can follow the
// SQLite one. Every method is one transaction and is safe to call from any thread. Times are
// stored with second precision. Failures of the database itself (corrupt file, disk full,
// schema newer than this build) throw StorageError; expected outcomes are return values.

#include "core/bytes.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::server {
using TimePoint = std::chrono::system_clock::time_point;

class StorageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct EnrollmentToken
{
    std::string id;   // public handle for list and revoke ("et_" + 16 hex digits)
    Bytes secretHash; // SHA-256 of the token text; the text itself is never stored
    std::string label;
    int maxUses = 1;
    int uses = 0;
    TimePoint createdAt;
    TimePoint expiresAt;
    std::optional<TimePoint> revokedAt;
};

enum class TokenUse
{
    Consumed,  // one use taken
    Unknown,   // no token has this hash
    Expired,   // past expiresAt
    Exhausted, // every use taken
    Revoked,
};

// TPM clock state from the last accepted quote, for the no-rollback check.
struct TpmCounters
{
    std::uint64_t clock = 0;
    std::uint32_t resetCount = 0;
    std::uint32_t restartCount = 0;
};

struct Device
{
    std::string id;
    std::string jkt;          // RFC 7638 thumbprint of the device key; unique
    std::string deviceKeyJwk; // the public JWK as JSON text
    std::string assurance;    // "tpm" or "software"
    std::string hostname;
    Bytes ekPublic; // marshalled TPM2B_PUBLIC; empty for software devices
    Bytes akPublic; // marshalled TPM2B_PUBLIC; empty for software devices
    std::string enrollmentTokenId;
    TimePoint enrolledAt;
    std::optional<TimePoint> revokedAt;
    std::string revokeReason;
    std::optional<TpmCounters> counters;
    // The latest appraisal, kept on the device so that token issuance reads one row.
    std::string lastAppraisalId;
    std::string lastVerdict; // "", "compliant", "non_compliant" or "rejected"
    std::optional<TimePoint> lastAppraisedAt;
};

// Between the MakeCredential challenge and its answer. The device row it becomes is stored
// whole, so activation needs nothing from the request but the secret.
struct PendingEnrollment
{
    std::string id;
    Bytes secretHash; // SHA-256 of the MakeCredential secret
    TimePoint expiresAt;
    Device device;
};

// What admitDevice and admitPendingEnrollment did.
struct Admission
{
    // A device holds the key already (a device key enrolls once): nothing was written and the
    // token keeps its uses.
    bool alreadyEnrolled = false;
    TokenUse token = TokenUse::Unknown; // otherwise what became of the token
};

enum class Activation
{
    Activated,       // the pending enrollment's device is enrolled
    Unknown,         // no pending enrollment has this id, or it has expired
    WrongKey,        // it is another key's: left as it was, so no other key can cancel it
    Refused,         // the check refused it; it is gone (one attempt each)
    AlreadyEnrolled, // its key was enrolled meanwhile (two enrollments raced); it is gone
};

// Decides, inside activateEnrollment's transaction, whether the device's answer is right.
using ActivationCheck = std::function<bool(const PendingEnrollment &pending)>;

enum class NonceUse
{
    Consumed,
    Unknown, // never issued to this device, or already used
    Expired,
};

struct Appraisal
{
    std::string id;
    std::string deviceId;
    TimePoint appraisedAt;
    std::string verdict;    // "compliant", "non_compliant" or "rejected"
    std::string checksJson; // the checks as the response carried them (JSON array text)
    std::string error;      // problem code when rejected, else empty
    std::string reportJti;
};

// What one posture report leaves behind.
struct ReportRecord
{
    // Verdict "rejected": the audit row and the nonce's use, and, when evidenceFailed and the
    // nonce was live, the device's latest appraisal.
    Appraisal appraisal;
    // The device's own signed report answered its nonce with TPM evidence that failed its
    // checks: what the device proved of itself is that it cannot be trusted, so no token is
    // issued until a report passes again. (Other refusals are protocol errors, not appraisals;
    // a replayed report cannot count, its nonce is spent.)
    bool evidenceFailed = false;
    // The report's eat_nonce, used up whatever the verdict; empty when the report was refused
    // before its nonce could be read. Its expiry is judged at appraisal.appraisedAt.
    std::string nonce;
    // Stored with an accepted appraisal: the quote's counters (none from a software device) and
    // the nonce the device answers next.
    std::optional<TpmCounters> counters;
    std::string nextNonce;
    TimePoint nextNonceExpiresAt;
};

// Decides, inside recordReport's transaction, whether an accepted report stands, from the
// device as stored and how its nonce fared. Throws to refuse it: nothing is written then.
using ReportCheck = std::function<void(const Device &device, NonceUse nonce)>;

// A person known to the verifier (docs/mfa.md).
struct User
{
    std::string id;   // lower-case UUID (randomUuid)
    std::string name; // unique; 1 to 64 of [a-z0-9._-], starting with a letter or digit
    TimePoint createdAt;
    std::optional<TimePoint> disabledAt;
};

// A one-time code that lets a user enroll a user key on one device.
struct UserInvite
{
    std::string id; // public handle ("ui_" + 16 hex digits)
    std::string userId;
    Bytes codeHash; // SHA-256 of the code text; the text itself is never stored
    TimePoint createdAt;
    TimePoint expiresAt;
    std::optional<TimePoint> usedAt;
    std::string usedByDevice; // the device id that redeemed it; empty until then
};

// A user's key on one device: one per user and device.
struct UserDevice
{
    std::string userId;
    std::string deviceId;
    std::string localAccount; // the account name on the device
    std::string keyAssurance; // "tpm" or "software"
    std::string keyJwk;       // the public JWK as JSON text
    std::string keyJkt;       // its RFC 7638 thumbprint
    TimePoint enrolledAt;
};

enum class TotpState
{
    Pending, // made, waiting for the first good code (until pendingExpiresAt)
    Active,
};

// A user's TOTP secret (sealed by SecretBox, the user id as associated data) and what limits
// guessing at it.
struct UserTotp
{
    std::string userId;
    Bytes sealedSecret;
    TotpState state = TotpState::Pending;
    TimePoint pendingExpiresAt; // meaningful while pending
    std::optional<std::uint64_t> lastAcceptedStep;
    int consecutiveFailures = 0;
    std::optional<TimePoint> lastFailureAt;
    bool locked = false; // until an administrator unlocks it
};

// What a successful sign-in creates.
struct UserSession
{
    Bytes handleHash; // SHA-256 of the 256-bit handle; the handle itself is never stored
    std::string userId;
    std::string deviceId;
    TimePoint authTime;
    TimePoint expiresAt;
    std::vector<std::string> amr;
    std::string acr;
    std::optional<TimePoint> revokedAt;
};

class Storage
{
public:
    virtual ~Storage() = default;

    // Enrollment tokens.
    virtual void addEnrollmentToken(const EnrollmentToken &token) = 0;
    virtual std::vector<EnrollmentToken> enrollmentTokens() = 0;
    // Whether a token with that id existed and was not already revoked.
    virtual bool revokeEnrollmentToken(const std::string &id, TimePoint now) = 0;

    // Enrollment. Each admit takes one use of the live enrollment token with this hash and, in
    // the same transaction, stores what the token admits: the device itself (a software device
    // has nothing to activate), or the pending enrollment that activateEnrollment turns into
    // one. The stored device's enrollmentTokenId is the token's id. A token use is never spent
    // without its device or pending enrollment being stored, nor the other way round.
    virtual Admission admitDevice(const Bytes &tokenHash, TimePoint now, const Device &device) = 0;
    virtual Admission admitPendingEnrollment(const Bytes &tokenHash, TimePoint now,
                                             const PendingEnrollment &pending) = 0;
    // In one transaction: finds the pending enrollment id, live at now and for the key jkt,
    // removes it (one attempt each) and, if check accepts it, enrolls its device with
    // enrolledAt = now, copied to *activated.
    virtual Activation activateEnrollment(const std::string &id, const std::string &jkt,
                                          TimePoint now, const ActivationCheck &check,
                                          Device *activated) = 0;
    // Enrolls a device outright, without a token (imports, tests and benchmarks); false when a
    // device with the same jkt is enrolled already.
    virtual bool addDevice(const Device &device) = 0;

    // Devices.
    virtual std::optional<Device> device(const std::string &id) = 0;
    virtual std::optional<Device> deviceByJkt(const std::string &jkt) = 0;
    virtual std::vector<Device> devices() = 0;
    // Whether a device with that id existed and was not already revoked.
    virtual bool revokeDevice(const std::string &id, const std::string &reason, TimePoint now) = 0;

    // Nonces: single use, bound to one device; used up by recordReport.
    virtual void addNonce(const std::string &deviceId, const std::string &nonce,
                          TimePoint expiresAt) = 0;

    // A posture report, in one transaction (the whole of a report's writing, so that the
    // verifier's busiest path commits once): uses up record.nonce, then, unless the appraisal
    // is rejected, calls check with the device as stored and the nonce's fate and, if check
    // returns, makes the appraisal the device's latest, stores the counters (when given) and
    // adds the next nonce; a rejected appraisal becomes the latest only when evidenceFailed and
    // the nonce was live. Last, the appraisal joins the audit table. Throws StorageError when
    // the device does not exist.
    virtual void recordReport(const ReportRecord &record, const ReportCheck &check) = 0;
    // Newest first.
    virtual std::vector<Appraisal> appraisals(const std::string &deviceId, int limit) = 0;

    // Users. Disabling is for good (there is no enable): it revokes the user's sessions in the
    // same transaction; handlers refuse invites, TOTP, recovery codes and tokens of a user whose
    // disabledAt is set.
    // False when the name (or the id) is taken.
    virtual bool addUser(const User &user) = 0;
    virtual std::optional<User> user(const std::string &id) = 0;
    virtual std::optional<User> userByName(const std::string &name) = 0;
    // By name.
    virtual std::vector<User> users() = 0;
    // Whether a user with that id existed and was not already disabled.
    virtual bool setUserDisabled(const std::string &id, TimePoint now) = 0;

    // User invites.
    virtual void addUserInvite(const UserInvite &invite) = 0;
    // Newest first.
    virtual std::vector<UserInvite> userInvites(const std::string &userId) = 0;
    // In one transaction: the invite with this hash, if it is unused and live at now, marked
    // used by deviceId and returned as it now is; nullopt when unknown, used or expired (one
    // answer for all). It does not look at the user: the caller refuses a disabled user's
    // invite (which is then spent).
    virtual std::optional<UserInvite> redeemUserInvite(const Bytes &codeHash, TimePoint now,
                                                       const std::string &deviceId) = 0;

    // User keys. putUserDevice adds the user's key on the device or replaces the one there.
    virtual void putUserDevice(const UserDevice &device) = 0;
    virtual std::optional<UserDevice> userDevice(const std::string &userId,
                                                 const std::string &deviceId) = 0;
    // Oldest first.
    virtual std::vector<UserDevice> userDevices(const std::string &userId) = 0;

    // TOTP. Each returns false, changing nothing, when its precondition (in its comment) fails.
    // A new pending secret replacing the user's pending one (or none); false when an active one
    // exists. The failure count and the lock carry over: a new secret is no way around them.
    virtual bool putPendingTotp(const std::string &userId, const Bytes &sealedSecret,
                                TimePoint pendingExpiresAt) = 0;
    virtual std::optional<UserTotp> userTotp(const std::string &userId) = 0;
    // Pending, live at now and not locked -> active, with step as its last accepted step and
    // the failures reset.
    virtual bool activateTotp(const std::string &userId, std::uint64_t step, TimePoint now) = 0;
    // Active, not locked and step after the last accepted one -> step is the last accepted one
    // and the failures are reset: each step is accepted at most once, even by racing requests.
    virtual bool acceptTotpStep(const std::string &userId, std::uint64_t step, TimePoint now) = 0;
    // One more consecutive failure at now, and the lock once they reach lockAt; the state as it
    // now is (nullopt when the user has no TOTP).
    virtual std::optional<UserTotp> recordTotpFailure(const std::string &userId, TimePoint now,
                                                      int lockAt) = 0;
    // Clears the lock and the failures; false when the user has no TOTP or it was neither
    // locked nor failing.
    virtual bool unlockTotp(const std::string &userId) = 0;
    // Forgets the user's TOTP (a lost authenticator), active or pending, so that it can be set up
    // again; false when the user had none.
    virtual bool resetTotp(const std::string &userId) = 0;

    // Recovery codes (their HMACs). Replacing invalidates every earlier code of the user.
    virtual void replaceRecoveryCodes(const std::string &userId, const std::vector<Bytes> &hashes,
                                      TimePoint now) = 0;
    // Whether an unused code of the user had this hash; it is used up.
    virtual bool useRecoveryCode(const std::string &userId, const Bytes &hash, TimePoint now) = 0;
    virtual int recoveryCodesLeft(const std::string &userId) = 0;

    // User sessions.
    virtual void addUserSession(const UserSession &session) = 0;
    // Whatever its expiry or revocation: the caller judges them.
    virtual std::optional<UserSession> userSession(const Bytes &handleHash) = 0;
    // The user's sessions neither revoked nor expired at now, oldest first.
    virtual std::vector<UserSession> activeUserSessions(const std::string &userId,
                                                        TimePoint now) = 0;
    // Whether a session with that hash existed and was not already revoked.
    virtual bool revokeUserSession(const Bytes &handleHash, TimePoint now) = 0;

    // Deletes expired nonces, pending enrollments and user sessions, and (past retention)
    // nothing else.
    virtual void purgeExpired(TimePoint now) = 0;

    // Throws StorageError when the store cannot take a write now (a read-only database, a full
    // disk): what GET /v1/health reports. Writes nothing that lasts.
    virtual void checkWritable() = 0;
};

} // namespace vigil::server
