#include "app/commands/verifiercommands.h"

#include "app/client/devicesession.h"
#include "app/client/enrollmenttoken.h"
#include "app/client/machinebinding.h"
#include "app/commands/appraisaltable.h"
#include "app/commands/terminaltext.h"
#include "attestation/tpm/tpmidentity.h"
#include "posture/host/filesystem.h"
#include "protocol/rfc3339.h"

#include <iostream>

namespace vigil::app {

namespace {

// The device key, saying so on err when it is the software one.
Device loadDeviceTellingWhich(const VerifierCommandOptions &options, std::ostream &err)
{
    Device device = loadDevice(options.tcti, options.stateDirectory);
    if (options.tcti == "none")
        err << "vigilctl: --tcti none: using the software device key "
            << device.softwareKeyFile.string() << " (assurance software)\n";
    else if (!device.fallbackReason.empty())
        err << "vigilctl: " << device.fallbackReason << "\nvigilctl: using the software device key "
            << device.softwareKeyFile.string() << " instead (assurance software)\n";
    return device;
}

std::string pcrText(const std::vector<unsigned> &pcrs)
{
    std::string text;
    for (unsigned pcr : pcrs)
        text += (text.empty() ? "" : ",") + std::to_string(pcr);
    return text.empty() ? "none" : text;
}

// A device that is not enrolled: its own exit status (exitNotEnrolled), for scripts.
class NotEnrolled : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

DeviceSession openSession(const VerifierCommandOptions &options, std::ostream &err)
{
    if (const EnrollmentStore store(options.stateDirectory); !store.load())
        throw NotEnrolled("this device is not enrolled (no " + store.stateFile().string() +
                          "); run vigilctl enroll first");
    DeviceSession session = openDeviceSession(
        options.stateDirectory, [&] { return loadDeviceTellingWhich(options, err); },
        options.transport);
    // vigild checks this before it uses an identity; without vigild, vigilctl does.
    if (session.state.machine) {
        const MachineBinding here =
            readMachineBinding(posture::FileSystem(),
                               session.device.identity ? &session.device.identity->tpm() : nullptr);
        const std::vector<std::string> differences =
            machineDifferences(*session.state.machine, here);
        if (!differences.empty())
            throw EnrollmentStateError(foreignIdentityReason(differences, session.state.deviceId) +
                                       "; vigilctl does not use it. Fix: move " +
                                       options.stateDirectory.string() +
                                       " aside and enroll this machine with a new token");
    }
    return session;
}

// Runs body, turning every failure into a message on err and exit status 1. refusal says what
// the verifier refused, in front of its problem.
template <typename Body> int guarded(std::ostream &err, std::string_view refusal, Body &&body)
{
    try {
        return body();
    } catch (const NotEnrolled &e) {
        err << "vigilctl: " << printable(e.what()) << "\n";
        return exitNotEnrolled;
    } catch (const VerifierError &e) {
        err << "vigilctl: " << refusal << ": " << printable(e.what()) << "\n";
    } catch (const std::exception &e) {
        err << "vigilctl: " << printable(e.what()) << "\n";
    }
    return 1;
}

} // namespace

int runEnroll(const VerifierCommandOptions &options, const EnrollOptions &enroll, std::ostream &out,
              std::ostream &err)
{
    const EnrollmentStore store(options.stateDirectory);
    return guarded(err, "enrollment refused", [&] {
        EnrollmentRequest request;
        request.serverUrl = enroll.serverUrl;
        request.token = enroll.enrollmentToken.empty()
                            ? readEnrollmentToken(enroll.enrollmentTokenFile, std::cin, err)
                            : enroll.enrollmentToken;
        request.ca = readCaFile(enroll.caFile, enroll.caFingerprint);
        request.hostname = enroll.hostname;
        Device device = loadDeviceTellingWhich(options, err);
        const Enrolled enrolled =
            enrollDevice(options.stateDirectory, device, request, options.transport);
        const EnrollmentState &state = enrolled.state;
        const protocol::EnrollmentComplete &complete = enrolled.complete;

        if (options.json) {
            nlohmann::json json = state.toJson();
            json.erase("version");
            json["report_interval_seconds"] = complete.reportInterval.count();
            json["pcrs"] = complete.pcrs;
            json["state_directory"] = options.stateDirectory.string();
            out << json.dump(2) << "\n";
        } else {
            out << "Enrolled with " << state.serverUrl << " as device " << state.deviceId
                << " (assurance " << protocol::assuranceName(state.assurance) << ")\n"
                << "Reports every " << complete.reportInterval.count() << " s; "
                << (state.assurance == protocol::Assurance::Tpm
                        ? "PCRs quoted: " + pcrText(complete.pcrs)
                        : std::string("no TPM quote (software key)"))
                << "\n"
                << "State in " << store.stateFile().string() << "; verifier CA "
                << state.caFingerprint << " pinned in " << store.caFile().string() << "\n";
        }
        return out.good() ? 0 : 1;
    });
}

int runReport(const VerifierCommandOptions &options, const PostureSource &posture,
              std::ostream &out, std::ostream &err)
{
    return guarded(err, "report refused", [&] {
        DeviceSession session = openSession(options, err);
        // Collect first: the nonce is short-lived, collection can take seconds.
        const nlohmann::json snapshot = posture();
        const protocol::Appraisal appraisal = reportPosture(*session.client, snapshot);
        if (options.json) {
            out << appraisal.toJson().dump(2) << "\n";
        } else {
            TableOptions table;
            table.color = options.color;
            out << formatAppraisalTable(appraisal, table);
        }
        if (!out.good())
            return 1;
        return appraisal.verdict == protocol::Verdict::Compliant ? 0 : exitNonCompliant;
    });
}

int runToken(const VerifierCommandOptions &options, std::ostream &out, std::ostream &err)
{
    return guarded(err, "no access token", [&] {
        DeviceSession session = openSession(options, err);
        const protocol::TokenResponse token = session.client->token();
        if (options.json)
            out << token.toJson().dump(2) << "\n";
        else
            out << token.accessToken << "\n";
        return out.good() ? 0 : 1;
    });
}

int runWhoami(const VerifierCommandOptions &options, std::ostream &out, std::ostream &err)
{
    return guarded(err, "refused", [&] {
        DeviceSession session = openSession(options, err);
        const protocol::TokenResponse token = session.client->token();
        const protocol::WhoAmI whoami = session.client->whoami(token.accessToken);
        if (options.json) {
            out << whoami.toJson().dump(2) << "\n";
        } else {
            out << "Device           " << whoami.deviceId << "\n"
                << "Assurance        " << protocol::assuranceName(whoami.assurance) << "\n"
                << "Key thumbprint   " << whoami.jkt << "\n"
                << "Token expires    " << protocol::formatRfc3339(whoami.tokenExpiresAt) << "\n"
                << "Verifier         " << session.state.serverUrl << "\n";
        }
        return out.good() ? 0 : 1;
    });
}

} // namespace vigil::app
