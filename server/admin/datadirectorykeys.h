#pragma once

// The data directory's keys and certificates in their PEM files: read and checked (a key file
// through privatefile's owner, mode and symlink checks), and a key encoded for writing. Each
// failure throws DataDirectoryError, naming the file it is about with fix as the advice.

#include "core/bytes.h"
#include "core/opensslptr.h"
#include "server/admin/datadirectoryadvice.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace vigil::server::datadir {

// What messages call each key.
inline constexpr std::string_view caKeyWhat = "CA key";
inline constexpr std::string_view tlsKeyWhat = "TLS key";
inline constexpr std::string_view tokenKeyWhat = "token signing key";

// The key in an unencrypted PEM key file.
EvpPkeyPtr loadKey(const std::filesystem::path &path, std::string_view what,
                                std::string_view fix = initFix);

// A certificate file's text, for a regular file of at most 1 MiB.
Bytes readCertificateFile(const std::filesystem::path &path, std::string_view what,
                                       std::string_view fix);
// The first certificate in text, read from path.
X509Ptr parseCertificate(const Bytes &text,
                                      const std::filesystem::path &path, std::string_view what,
                                      std::string_view fix);
// Both of the above.
X509Ptr loadCertificate(const std::filesystem::path &path, std::string_view what,
                                     std::string_view fix);

void requireKeyMatches(X509 *certificate, EVP_PKEY *key,
                       const std::filesystem::path &certificatePath,
                       const std::filesystem::path &keyPath, std::string_view fix);

// The key as PKCS#8 PEM in secure memory: the text is wiped when the BIO frees or grows its
// buffer.
BioPtr privateKeyPem(EVP_PKEY *key, std::string_view what);
// The bytes a memory BIO holds.
std::span<const std::uint8_t> contentsOf(BIO *memory);

} // namespace vigil::server::datadir
