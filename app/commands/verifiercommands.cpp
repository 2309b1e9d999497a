#include "app/commands/verifiercommands.h"

#include "app/client/devicesession.h"
#include "app/commands/appraisaltable.h"
#include "app/commands/terminaltext.h"
#include "core/filedescriptor.h"
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

DeviceSession openSession(const VerifierCommandOptions &options, std::ostream &err)
{
    return openDeviceSession(
        options.stateDirectory, [&] { return loadDeviceTellingWhich(options, err); },
        options.transport);
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
