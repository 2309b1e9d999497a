#include "app/commands/verifiercommands.h"

#include "app/client/enrollmentstate.h"
#include "app/client/verifierclient.h"
#include "app/commands/appraisaltable.h"
#include "app/commands/terminaltext.h"
#include "attestation/tpm/devicekeyloader.h"
#include "attestation/tpm/tpmidentity.h"
#include "core/filedescriptor.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/rfc3339.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vigil::app {

namespace {

struct Device
{
    std::unique_ptr<protocol::DeviceKey> key;
    std::shared_ptr<attestation::TpmIdentity> identity; // null for the software key
};

// The device key as loadDeviceKey finds it, saying so when it is the software one.
Device loadDevice(const VerifierCommandOptions &options, std::ostream &err)
{
    const auto softwareKey = options.stateDirectory / "software" / "devicekey.pem";
    if (options.tcti == "none") {
        err << "vigilctl: --tcti none: using the software device key " << softwareKey.string()
            << " (assurance software)\n";
        return {protocol::SoftwareDeviceKey::loadOrCreate(softwareKey), nullptr};
    }
    attestation::LoadedDeviceKey loaded =
        attestation::loadDeviceKey(options.tcti, options.stateDirectory);
    if (!loaded.fallbackReason.empty())
        err << "vigilctl: " << loaded.fallbackReason << "\nvigilctl: using the software device key "
            << softwareKey.string() << " instead (assurance software)\n";
    return {std::move(loaded.key), std::move(loaded.identity)};
}

std::string hostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
        return "localhost";
    return name;
}

std::string pcrText(const std::vector<unsigned> &pcrs)
{
    std::string text;
    for (unsigned pcr : pcrs)
        text += (text.empty() ? "" : ",") + std::to_string(pcr);
    return text.empty() ? "none" : text;
}

// An enrolled device ready to talk to its verifier.
struct Session
{
    EnrollmentState state;
    Device device;
    std::unique_ptr<VerifierClient> client;
};

Session openSession(const VerifierCommandOptions &options, std::ostream &err)
{
    const EnrollmentStore store(options.stateDirectory);
    auto state = store.load();
    if (!state)
        throw EnrollmentStateError("this device is not enrolled (no " + store.stateFile().string() +
                                   "); run vigilctl enroll first");
    Session session{std::move(*state), loadDevice(options, err), nullptr};
    const auto &device = session.device;
    if (device.key->thumbprint() != session.state.deviceKeyThumbprint)
        throw EnrollmentStateError(
            "the device key here (" +
            std::string(protocol::assuranceName(device.key->assurance())) + ", thumbprint " +
            device.key->thumbprint() + ") is not the one enrolled as device " +
            session.state.deviceId + " (" +
            std::string(protocol::assuranceName(session.state.assurance)) + ", thumbprint " +
            session.state.deviceKeyThumbprint + "); use the TPM it was enrolled with (--tcti) or " +
            "enroll again");
    session.client =
        std::make_unique<VerifierClient>(session.state.serverUrl, store.caFile(), *device.key,
                                         device.identity.get(), options.transport);
    session.client->setDeviceId(session.state.deviceId);
    return session;
}

// Runs body, turning every failure into a message on err and exit status 1. refusal says what
// the verifier refused, in front of its problem.
template <typename Body> int guarded(std::ostream &err, std::string_view refusal, Body &&body)
{
    try {
        return body();
    } catch (const VerifierError &e) {
        err << "vigilctl: " << refusal << ": " << printable(e.what()) << "\n";
    } catch (const std::exception &e) {
        err << "vigilctl: " << printable(e.what()) << "\n";
    }
    return 1;
}

} // namespace

std::string readEnrollmentToken(const std::filesystem::path &file, std::istream &standardInput,
                                std::ostream &err)
{
    // A token is 48 characters; a file anywhere near this size is some other file.
    constexpr std::size_t maxBytes = 4096;
    const bool fromInput = file == "-";
    const std::string name = file.string();
    const auto failure = [&](const std::string &what) {
        return std::runtime_error((fromInput ? "the enrollment token on standard input "
                                             : "the enrollment token file " + name + " ") +
                                  what);
    };
    std::string text;
    if (fromInput) {
        text.resize(maxBytes + 1);
        standardInput.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(standardInput.gcount()));
        if (standardInput.bad())
            throw failure("cannot be read");
    } else {
        const FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0)
            throw failure("cannot be opened: " + std::string(std::strerror(errno)));
        struct stat status
        {
        };
        if (::fstat(fd.get(), &status) == 0 && (status.st_mode & S_IROTH))
            err << "vigilctl: warning: " << name
                << " can be read by every user of this machine, and an enrollment token is a "
                   "secret (chmod o-r "
                << name << ")\n";
        try {
            text = readUpTo(fd.get(), maxBytes);
        } catch (const std::system_error &e) {
            throw failure("cannot be read: " + e.code().message());
        }
    }
    if (text.size() > maxBytes)
        throw failure("is larger than " + std::to_string(maxBytes) +
                      " bytes; it should hold only the token");
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    const auto first = std::find_if_not(text.begin(), text.end(), isSpace);
    const auto last = std::find_if_not(text.rbegin(), text.rend(), isSpace).base();
    if (first >= last)
        throw failure("is empty; it should hold the token that vigil-verifier token create "
                      "printed");
    std::string token(first, last);
    if (std::any_of(token.begin(), token.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
        throw failure("holds more than one word or a control character; it should hold only "
                      "the token");
    return token;
}

int runEnroll(const VerifierCommandOptions &options, const EnrollOptions &enroll, std::ostream &out,
              std::ostream &err)
{
    const EnrollmentStore store(options.stateDirectory);
    const int status = guarded(err, "enrollment refused", [&] {
        const std::string token =
            enroll.enrollmentToken.empty()
                ? readEnrollmentToken(enroll.enrollmentTokenFile, std::cin, err)
                : enroll.enrollmentToken;
        const PinnedCa ca = readCaFile(enroll.caFile, enroll.caFingerprint);
        Device device = loadDevice(options, err);
        const auto stagedCa = store.stageCa(ca);
        VerifierClient client(enroll.serverUrl, stagedCa, *device.key, device.identity.get(),
                              options.transport);
        const std::string hostname = enroll.hostname.empty() ? hostName() : enroll.hostname;
        const protocol::EnrollmentComplete complete = client.enroll(token, hostname);

        EnrollmentState state;
        state.serverUrl = client.baseUrl();
        state.deviceId = complete.deviceId;
        state.assurance = complete.assurance;
        state.deviceKeyThumbprint = device.key->thumbprint();
        state.caFingerprint = ca.fingerprint;
        state.hostname = hostname;
        state.enrolledAt = std::chrono::system_clock::now();
        store.commit(state);

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
    store.discardStaged();
    return status;
}

int runReport(const VerifierCommandOptions &options, const PostureSource &posture,
              std::ostream &out, std::ostream &err)
{
    return guarded(err, "report refused", [&] {
        Session session = openSession(options, err);
        // Collect first: the nonce is short-lived, collection can take seconds.
        const nlohmann::json snapshot = posture();
        const protocol::NonceResponse nonce = session.client->nonce();
        const protocol::Appraisal appraisal =
            session.client->report(snapshot, nonce.nonce, nonce.pcrs);
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
        Session session = openSession(options, err);
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
        Session session = openSession(options, err);
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
