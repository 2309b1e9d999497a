#pragma once

// `vigilctl enroll | report | token | whoami`: the device's side of the verifier protocol,
// run in-process when vigild is not running (vigildcall.h decides).

#include "app/client/httpstransport.h"
#include "app/commands/exitcodes.h"

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vigil::app {

struct VerifierCommandOptions
{
    // TPM as in TpmCommandOptions; "none" uses the software device key even when a TPM exists.
    std::string tcti = "auto";
    std::filesystem::path stateDirectory; // enrollment.json, verifier-ca.pem, the device keys
    bool json = false;
    bool color = false; // ANSI colours in tables (only on a terminal)
    HttpsTransportOptions transport;
};

struct EnrollOptions
{
    std::string serverUrl;                     // https://host[:port]
    std::filesystem::path caFile;              // the verifier's ca.pem, to pin
    std::optional<std::string> caFingerprint;  // "sha256:HEX": caFile must have it
    std::string enrollmentToken;               // or, when empty:
    std::filesystem::path enrollmentTokenFile; // the file holding it; "-" for standard input
    std::string hostname;                      // empty: this machine's name
};

// Exit status for each: 0 done, 1 failed (reason on err); report also exitNonCompliant; report,
// token and whoami exitNotEnrolled when the state directory holds no enrollment.
int runEnroll(const VerifierCommandOptions &options, const EnrollOptions &enroll, std::ostream &out,
              std::ostream &err);

// The posture to report: PostureSnapshot::toJson(). vigilctl collects it with the posture engine.
using PostureSource = std::function<nlohmann::json()>;
int runReport(const VerifierCommandOptions &options, const PostureSource &posture,
              std::ostream &out, std::ostream &err);

// Prints the access token alone (or the token response as JSON): the one place Vigil shows a
// token, because the user asked for it.
int runToken(const VerifierCommandOptions &options, std::ostream &out, std::ostream &err);

// Gets a token and calls the verifier's /v1/whoami with it: the device as a protected resource
// sees it. The token itself is not printed.
int runWhoami(const VerifierCommandOptions &options, std::ostream &out, std::ostream &err);

} // namespace vigil::app
