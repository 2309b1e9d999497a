#pragma once

// vigil-verifier's administrative commands, as functions over streams so that tests run them
// in-process: init, TLS renewal, enrollment tokens, devices, policy check. Each returns the exit status
// (0 done, 1 failed with the reason on err).

#include "server/admin/datadirectory.h"
#include "server/storage/storage.h"

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace vigil::server {

int initDataDirectory(const std::filesystem::path &dir, const std::vector<std::string> &names,
                      TimePoint now, std::ostream &out, std::ostream &err);

// Issues the TLS certificate again from the data directory's CA (DataDirectory::
// renewTlsCertificate): for names, or for the names it has when names is empty; with a new TLS
// key when key is TlsKey::New. Works on a directory whose TLS pair open() refuses.
int renewTlsCertificate(const std::filesystem::path &dir, const std::vector<std::string> &names,
                        DataDirectory::TlsKey key, TimePoint now, bool json, std::ostream &out,
                        std::ostream &err);

// How long before its end `serve` starts warning that the TLS certificate needs renewing.
inline constexpr std::chrono::days tlsRenewalWarning{30};
// How long before the CA's end it starts warning that agents need a new CA: enrolling a fleet
// again takes months, not days.
inline constexpr std::chrono::days caRenewalWarning{180};
// The warning `serve` logs at start and then daily, or "" while neither the CA nor the TLS
// certificate is that close to its end. A TLS certificate that ends with the CA gets only the
// CA's warning, since no renewal goes past it.
std::string certificateExpiryWarning(const TlsCertificateInfo &certificate, TimePoint caNotAfter,
                                     const std::filesystem::path &dir, TimePoint now);

struct TokenOptions
{
    int uses = 1;
    std::chrono::seconds ttl{24 * 3600};
    std::string label;
};
// A token just stored, and its text: returned once, since only the text's hash is stored.
struct IssuedEnrollmentToken
{
    EnrollmentToken token;
    std::string text;
};
IssuedEnrollmentToken issueEnrollmentToken(Storage &storage, const TokenOptions &options,
                                           TimePoint now);
// Issues a token and prints its text (shown once) and its id.
int createEnrollmentToken(Storage &storage, const TokenOptions &options, TimePoint now,
                          bool json, std::ostream &out);
int listEnrollmentTokens(Storage &storage, TimePoint now, bool json, std::ostream &out);
int revokeEnrollmentToken(Storage &storage, const std::string &id, TimePoint now,
                          std::ostream &out, std::ostream &err);

int listDevices(Storage &storage, bool json, std::ostream &out);
int showDevice(Storage &storage, const std::string &id, bool json, std::ostream &out,
               std::ostream &err);
int revokeDevice(Storage &storage, const std::string &id, const std::string &reason,
                 TimePoint now, std::ostream &out, std::ostream &err);

int checkPolicy(const std::filesystem::path &file, std::ostream &out, std::ostream &err);

// "30m", "24h", "7d", "90s" or plain seconds; nullopt for anything else or zero.
std::optional<std::chrono::seconds> parseDuration(std::string_view text);

} // namespace vigil::server
