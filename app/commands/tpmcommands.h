#pragma once

// `vigilctl tpm …`: what the TPM is, and a quote an administrator can check with tpm2-tools.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::app {

struct TpmCommandOptions
{
    std::string tcti = "auto";
    std::filesystem::path stateDirectory; // holds tpm/{ak,devicekey}.{pub,priv}
    bool json = false;
};

// $STATE_DIRECTORY (set by systemd's StateDirectory=) or /var/lib/vigil.
std::filesystem::path defaultStateDirectory();

// "0,1,7" or "0-7,14" -> sorted, unique PCR indices 0-23; nullopt if anything else.
std::optional<std::vector<unsigned>> parsePcrList(std::string_view text);

// Exit status: 0 success, 1 the TPM or a file failed (reason on err).
int runTpmInfo(const TpmCommandOptions &options, std::ostream &out, std::ostream &err);

// Quotes the SHA-256 PCRs with the device's AK and writes quote.msg (TPMS_ATTEST), quote.sig
// (TPMT_SIGNATURE), quote.pcrs (tpm2-tools' serialized PCR file) and ak.pub (TPM2B_PUBLIC) to
// outDirectory, in the forms tpm2_checkquote reads as they are.
int runTpmQuote(const TpmCommandOptions &options, const std::vector<std::uint8_t> &nonce,
                const std::vector<unsigned> &pcrs, const std::filesystem::path &outDirectory,
                std::ostream &out, std::ostream &err);

} // namespace vigil::app
