#include "server/admin/datadirectoryadvice.h"

#include "core/text.h"
#include "server/admin/datadirectoryfiles.h"

namespace vigil::server::datadir {

namespace fs = std::filesystem;

const std::string_view ekCaReadme =
    "Trusted TPM manufacturer CAs\n"
    "============================\n"
    "\n"
    "vigil-verifier accepts a TPM enrollment only when the device's endorsement key (EK)\n"
    "certificate chains to a self-signed CA certificate in this directory.\n"
    "\n"
    "Put here the root CA certificates of the TPM manufacturers whose TPMs you accept (and, if\n"
    "you like, their intermediate CAs), as published by the manufacturers: one or more\n"
    "certificates per file, PEM or DER, in files named *.pem, *.crt, *.cer or *.der. Other\n"
    "files, like this one, are ignored; subdirectories are not searched.\n"
    "\n"
    "With no certificate here, no TPM device can enroll; software-key devices are governed by\n"
    "the policy's accepted assurance levels alone.\n";

std::string renewCommand(const fs::path &dir, const std::string &arguments)
{
    return "`vigil-verifier tls renew --data " + quoted(dir) + arguments + "`";
}

std::string renewFix(const fs::path &dir, bool needsNames)
{
    const std::string prefix =
        "issue a new certificate for the TLS key from this directory's CA, which agents pin: ";
    return needsNames ? prefix + renewCommand(dir, " --name NAME") +
                            " (a --name for each name agents connect to)"
                      : prefix + renewCommand(dir);
}

std::string renewFix(const fs::path &dir, const std::vector<std::string> &names)
{
    std::string arguments;
    for (const auto &name : names)
        arguments += " --name " + name;
    return "issue a new certificate for the TLS key from this directory's CA, which agents pin: " +
           renewCommand(dir, arguments);
}

std::string newKeyFix(const fs::path &dir)
{
    return "make a new TLS key and certificate from this directory's CA, which agents pin: " +
           renewCommand(dir, " --new-key");
}

} // namespace vigil::server::datadir
