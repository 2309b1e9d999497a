#pragma once

// What the data directory's messages advise, and the README its ek-cas/ holds: the words
// people read, apart from the checks that choose them.

#include "server/admin/datadirectory.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::server::datadir {

// For the CA and every key but the TLS key: nothing but a backup or a new directory mends them.
inline constexpr const char *initFix = DataDirectoryError::restoreFix;

// `vigil-verifier tls renew` on dir with arguments, quoted as a command in a fix.
std::string renewCommand(const std::filesystem::path &dir, const std::string &arguments = {});

// What `tls renew` mends: the TLS certificate, issued again for the TLS key from the CA that
// agents pin. A new data directory would mean a new CA and every agent enrolling again. Without
// a readable certificate to take the names from, the command needs them.
std::string renewFix(const std::filesystem::path &dir, bool needsNames);

// The same, for names known: what to run again after a renewal that stopped half-way.
std::string renewFix(const std::filesystem::path &dir, const std::vector<std::string> &names);

// A TLS key that is lost or unreadable is replaced with its certificate; agents pin the CA, not
// the key.
std::string newKeyFix(const std::filesystem::path &dir);

extern const std::string_view ekCaReadme; // ek-cas/README.txt

} // namespace vigil::server::datadir
