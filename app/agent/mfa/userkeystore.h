#pragma once

#include "app/agent/mfa/softwareuserkey.h"
#include "app/agent/mfa/tpmuserkey.h"
#include "app/agent/mfa/userkey.h"
#include "core/clock.h"

#include <filesystem>
#include <memory>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace vigil::agent {

// The user keys of this device, one directory per local user under a root vigild owns
// (/var/lib/vigil/users/<uid>/, docs/mfa.md "Where the state lives"): key.pub + key.priv for a
// TPM key or key.sealed for a software key, beside the caller's user.json. Directories are
// created 0700 and files 0600; a directory another user could change, or that group or others
// can read, is refused (UserKeyError(Corrupt) with the fix), as are key files with a wrong
// owner or mode.
//
// A store with a TPM makes TPM keys, one without makes software keys: never a silent fallback
// from one to the other, which would lower the key's assurance behind the user's back.
class UserKeyStore
{
public:
    // tpm: nullptr on a device without a usable TPM.
    UserKeyStore(std::filesystem::path root, std::shared_ptr<attestation::Tpm> tpm,
                 const Clock &clock, SoftwareUserKey::Options softwareOptions = {});

    // root/<uid>; not created.
    std::filesystem::path directoryOf(uid_t uid) const;
    // Whether uid has a key of either kind (its files exist; they may still be refused).
    bool hasKey(uid_t uid) const;
    // uid's key, or nullptr when uid has none. Throws UserKeyError(Corrupt) for unsafe
    // directories or files, files of both kinds, half a TPM key, or a TPM key on a store
    // without a TPM.
    std::unique_ptr<UserKey> open(uid_t uid) const;
    // A new key for uid, replacing any key uid had (the old kind's files are removed once the
    // new key is written). A TpmUserKey when the store has a TPM (static_cast after checking
    // assurance() for its certify()), else a SoftwareUserKey.
    std::unique_ptr<UserKey> create(uid_t uid, const SecretBytes &pin);
    // Removes uid's key files; the directory and the caller's files stay.
    void remove(uid_t uid);

    // uid's key files as they are now (none when uid has no key), for restore() when the key
    // create() makes in their place is not accepted after all (the verifier refused the
    // enrollment, or could not be reached): a failed re-enrollment must not cost the working key.
    struct Snapshot
    {
        std::vector<std::pair<std::string, Bytes>> files; // name in the directory, contents
    };
    Snapshot snapshot(uid_t uid) const;
    // Puts uid's key files back as snapshot had them, removing the others.
    void restore(uid_t uid, const Snapshot &snapshot);

private:
    // Creates root and root/<uid> (0700) if missing; refuses them unless safe.
    std::filesystem::path prepareDirectory(uid_t uid) const;
    void checkDirectory(const std::filesystem::path &directory) const;

    std::filesystem::path m_root;
    std::shared_ptr<attestation::Tpm> m_tpm;
    const Clock &m_clock;
    SoftwareUserKey::Options m_softwareOptions;
};

} // namespace vigil::agent
