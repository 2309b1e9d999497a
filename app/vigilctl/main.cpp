// vigilctl: Vigil's command-line client. For now it runs the posture collectors, the TPM and the
// verifier client in-process; once vigild exists it will ask the daemon over local IPC instead.
#include "bytes.h"
#include "host.h"
#include "postureengine.h"
#include "posturetable.h"
#include "standardcollectors.h"
#include "tpmcommands.h"
#include "verifiercommands.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char *usage = R"(Usage: vigilctl <command> [options]

Commands:
  posture [--json]          Collect and print this machine's security posture.
  tpm info [--json]         Show the TPM: manufacturer, firmware, PCR banks, lockout
                            state, endorsement key and its certificate.
  tpm quote --nonce HEX --pcrs LIST --out DIR [--json]
                            Quote SHA-256 PCRs (e.g. 0,1,7 or 0-7) with the device's
                            attestation key and write files tpm2_checkquote accepts.
  enroll --server URL --ca-file PEM [--ca-fingerprint sha256:HEX]
         (--token-file FILE | --token TOKEN) [--json]
                            Enroll this device with a verifier: pin its CA (checked
                            against the fingerprint when given), prove the TPM's keys
                            (or use the software key where there is no TPM) and save
                            the enrollment in the state directory. --token-file reads
                            the enrollment token from FILE (- for standard input), out
                            of sight of other users' process lists; --token is for
                            trying things out.
  report [--json]           Collect the posture, answer a fresh nonce with a signed
                            report (and a TPM quote of the PCRs the verifier asks for)
                            and print the verdict: every check with what to fix.
                            Exit status 0 compliant, 3 non-compliant.
  token [--json]            Print an access token bound to the device key (refused
                            while the device is not compliant).
  whoami [--json]           Call the verifier's /v1/whoami with a token and a DPoP
                            proof: the device as a protected resource sees it.

Options:
  --json                    Print machine-readable JSON.
  --tcti TCTI               TPM to use: auto (default, /dev/tpmrm0), device:PATH,
                            swtpm:host=H,port=P or mssim:host=H,port=P. Also $VIGIL_TCTI.
                            enroll/report/token/whoami fall back to a software key
                            when there is no TPM (and say so); none forces it.
  --state-dir DIR           Where the device's keys and enrollment live (default
                            $STATE_DIRECTORY or /var/lib/vigil).
  -h, --help                Show this help.
  --version                 Show the version.

Exit status: 0 on success, 1 if the command failed (reason on stderr), 2 on a usage error,
3 when report's verdict is non-compliant.
)";

int usageError(const std::string &message)
{
    std::cerr << "vigilctl: " << message << "\n\n" << usage;
    return 2;
}

int runPosture(bool json)
{
    auto host = std::make_shared<const vigil::posture::Host>(vigil::posture::Host::local());
    vigil::posture::PostureEngine engine(host, vigil::posture::standardCollectors());
    const auto snapshot = engine.collect();
    if (json) {
        std::cout << snapshot.toJson().dump(2) << "\n";
    } else {
        vigil::app::TableOptions options;
        options.color = ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
        std::cout << vigil::app::formatPostureTable(snapshot, options);
    }
    return std::cout.good() ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    // tss2 would print its own log of every TPM failure; vigilctl's errors already carry the
    // decoded cause. Someone who wants tss2's log sets TSS2_LOG. Set here, before any thread.
    setenv("TSS2_LOG", "all+NONE", 0);

    std::vector<std::string_view> words;
    std::map<std::string_view, std::string_view> values; // --option VALUE
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::cout << usage;
            return 0;
        }
        if (arg == "--version") {
            std::cout << "vigilctl " VIGIL_VERSION "\n";
            return 0;
        }
        if (arg == "--json") {
            json = true;
        } else if (arg == "--tcti" || arg == "--state-dir" || arg == "--nonce" || arg == "--pcrs" ||
                   arg == "--out" || arg == "--server" || arg == "--ca-file" ||
                   arg == "--ca-fingerprint" || arg == "--token" || arg == "--token-file") {
            if (i + 1 >= argc)
                return usageError("option " + std::string(arg) + " needs a value");
            values[arg] = argv[++i];
        } else if (!arg.starts_with('-')) {
            words.push_back(arg);
        } else {
            return usageError("unexpected argument '" + std::string(arg) + "'");
        }
    }
    const auto value = [&values](std::string_view option) -> std::string_view {
        const auto it = values.find(option);
        return it == values.end() ? std::string_view() : it->second;
    };
    const auto allowOnly = [&values](std::initializer_list<std::string_view> allowed) {
        for (const auto &[option, ignored] : values)
            if (std::find(allowed.begin(), allowed.end(), option) == allowed.end())
                return std::string(option);
        return std::string();
    };

    if (words.empty())
        return usageError("no command given");
    if (words[0] == "posture" && words.size() == 1) {
        if (const auto extra = allowOnly({}); !extra.empty())
            return usageError("posture does not take " + extra);
        return runPosture(json);
    }
    if (words[0] == "tpm" && words.size() == 2) {
        vigil::app::TpmCommandOptions options;
        options.json = json;
        if (!value("--tcti").empty())
            options.tcti = value("--tcti");
        else if (const char *tcti = std::getenv("VIGIL_TCTI"); tcti && *tcti)
            options.tcti = tcti;
        options.stateDirectory = value("--state-dir").empty()
                                     ? vigil::app::defaultStateDirectory()
                                     : std::filesystem::path(value("--state-dir"));
        if (words[1] == "info") {
            if (const auto extra = allowOnly({"--tcti"}); !extra.empty())
                return usageError("tpm info does not take " + extra);
            return vigil::app::runTpmInfo(options, std::cout, std::cerr);
        }
        if (words[1] == "quote") {
            if (const auto extra =
                    allowOnly({"--tcti", "--state-dir", "--nonce", "--pcrs", "--out"});
                !extra.empty())
                return usageError("tpm quote does not take " + extra);
            const auto nonce = vigil::attestation::fromHex(value("--nonce"));
            if (!nonce || nonce->empty() || nonce->size() > 64)
                return usageError("--nonce needs 1 to 64 bytes as hex digits");
            const auto pcrs = vigil::app::parsePcrList(value("--pcrs"));
            if (!pcrs)
                return usageError("--pcrs needs PCR numbers 0-23 such as 0,1,7 or 0-7");
            if (value("--out").empty())
                return usageError("tpm quote needs --out DIR");
            return vigil::app::runTpmQuote(options, *nonce, *pcrs, value("--out"), std::cout,
                                           std::cerr);
        }
    }
    if ((words[0] == "enroll" || words[0] == "report" || words[0] == "token" ||
         words[0] == "whoami") &&
        words.size() == 1) {
        vigil::app::VerifierCommandOptions options;
        options.json = json;
        options.color = ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
        if (!value("--tcti").empty())
            options.tcti = value("--tcti");
        else if (const char *tcti = std::getenv("VIGIL_TCTI"); tcti && *tcti)
            options.tcti = tcti;
        options.stateDirectory = value("--state-dir").empty()
                                     ? vigil::app::defaultStateDirectory()
                                     : std::filesystem::path(value("--state-dir"));
        if (words[0] == "enroll") {
            if (const auto extra = allowOnly({"--tcti", "--state-dir", "--server", "--ca-file",
                                              "--ca-fingerprint", "--token", "--token-file"});
                !extra.empty())
                return usageError("enroll does not take " + extra);
            for (const char *required : {"--server", "--ca-file"})
                if (value(required).empty())
                    return usageError(std::string("enroll needs ") + required);
            if (value("--token").empty() == value("--token-file").empty())
                return usageError(value("--token").empty()
                                      ? "enroll needs --token-file (or --token)"
                                      : "enroll takes --token-file or --token, not both");
            vigil::app::EnrollOptions enroll;
            enroll.serverUrl = value("--server");
            enroll.caFile = std::string(value("--ca-file"));
            if (values.contains("--ca-fingerprint"))
                enroll.caFingerprint = std::string(value("--ca-fingerprint"));
            enroll.enrollmentToken = value("--token");
            enroll.enrollmentTokenFile = std::string(value("--token-file"));
            return vigil::app::runEnroll(options, enroll, std::cout, std::cerr);
        }
        if (const auto extra = allowOnly({"--tcti", "--state-dir"}); !extra.empty())
            return usageError(std::string(words[0]) + " does not take " + extra);
        if (words[0] == "token")
            return vigil::app::runToken(options, std::cout, std::cerr);
        if (words[0] == "whoami")
            return vigil::app::runWhoami(options, std::cout, std::cerr);
        const auto collect = [] {
            auto host = std::make_shared<const vigil::posture::Host>(vigil::posture::Host::local());
            vigil::posture::PostureEngine engine(host, vigil::posture::standardCollectors());
            return engine.collect().toJson();
        };
        return vigil::app::runReport(options, collect, std::cout, std::cerr);
    }
    std::string command;
    for (auto word : words)
        command += (command.empty() ? "" : " ") + std::string(word);
    return usageError("unknown command '" + command + "'");
}
