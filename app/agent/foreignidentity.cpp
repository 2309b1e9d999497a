#include "app/agent/foreignidentity.h"

#include "app/agent/agentlogging.h"
#include "app/client/enrollmentstate.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmerror.h"
#include "posture/host/filesystem.h"

namespace vigil::agent {

std::optional<std::string> foreignIdentity(const std::filesystem::path &stateDirectory,
                                           const std::string &tcti,
                                           const std::function<void()> &loadKeys)
{
    const app::EnrollmentStore store(stateDirectory);
    std::optional<app::EnrollmentState> state;
    try {
        state = store.load();
    } catch (const std::exception &) {
        return std::nullopt; // the agent reported it when it read the enrollment
    }
    if (!state)
        return std::nullopt;

    app::MachineBinding now;
    {
        std::unique_ptr<attestation::Tpm> tpm;
        if (state->assurance == protocol::Assurance::Tpm) {
            try {
                tpm = std::make_unique<attestation::Tpm>(tcti);
            } catch (const attestation::TpmError &e) {
                // No TPM here now: nothing to compare; loading the keys says what is wrong.
                qCDebug(lcAgent, "no TPM to compare the identity with: %s", e.what());
            }
        }
        now = app::readMachineBinding(posture::FileSystem("/"), tpm.get());
    }

    std::vector<std::string> differences;
    if (state->machine)
        differences = app::machineDifferences(*state->machine, now);
    // Keys made by another TPM do not load here. Unless the endorsement key recorded is this
    // TPM's (then this TPM was cleared, which the keys' own error says), that is the copy.
    if (differences.empty() && state->assurance == protocol::Assurance::Tpm) {
        const bool sameTpm = state->machine && state->machine->tpmEndorsementKey &&
                             state->machine->tpmEndorsementKey == now.tpmEndorsementKey;
        try {
            loadKeys();
        } catch (const attestation::TpmError &e) {
            if (e.kind() != attestation::TpmError::Kind::BadState || sameTpm)
                return std::nullopt;
            qCInfo(lcAgent, "the identity's TPM keys do not load: %s", e.what());
            differences.emplace_back("the TPM (the identity's keys in " +
                                     (stateDirectory / "tpm").string() + " do not load into it)");
        } catch (const std::exception &) {
            return std::nullopt;
        }
    }
    if (!differences.empty())
        return app::foreignIdentityReason(differences, state->deviceId);
    if (!state->machine) {
        state->machine = now;
        try {
            store.save(*state);
            qCInfo(lcAgent, "the enrollment recorded no machine: bound it to this one (%s)",
                   now.toJson().dump().c_str());
        } catch (const std::exception &e) {
            qCWarning(lcAgent, "cannot record this machine in the enrollment: %s", e.what());
        }
    }
    return std::nullopt;
}

std::string withCloneFix(const std::string &reason, const std::filesystem::path &tokenFile,
                         const std::filesystem::path &stateDirectory)
{
    return reason + "; vigild does not use it (no report, no token). Fix: put a new enrollment " +
           "token in " + tokenFile.string() +
           " (or run vigilctl enroll --token-file FILE): the identity is then moved to " +
           (stateDirectory / "cloned-identity-<time>").string() +
           "/ and this machine enrolls as a new device";
}

} // namespace vigil::agent
