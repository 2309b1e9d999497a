#pragma once

#include "core/opensslptr.h"
#include "protocol/jose/devicekey.h"

#include <filesystem>
#include <memory>

namespace vigil::protocol {

// The fallback device key for machines without a usable TPM: an EC P-256 key in an unencrypted
// PKCS#8 PEM file that only its owner can read. Its protection is the file mode, so loading
// refuses any file that is not a regular file, owned by the effective user, mode 0600 or
// stricter. All failures throw KeyError naming the path (never key material).
class SoftwareDeviceKey final : public DeviceKey
{
public:
    // Size cap for the key file: a P-256 PKCS#8 PEM is about 240 bytes.
    static constexpr std::size_t maxFileSize = 16 * 1024;

    // A new key written atomically to path (mode 0600; a missing parent directory is created
    // 0700). Refuses to replace an existing file: that would silently change the device identity.
    static std::unique_ptr<SoftwareDeviceKey> create(const std::filesystem::path &path);
    static std::unique_ptr<SoftwareDeviceKey> load(const std::filesystem::path &path);
    // load if path exists (even as a dangling symlink, which load then refuses), else create.
    static std::unique_ptr<SoftwareDeviceKey> loadOrCreate(const std::filesystem::path &path);

    Assurance assurance() const override { return Assurance::Software; }
    EcPublicKey publicKey() const override { return m_publicKey; }
    // digest must be exactly 32 bytes; returns 64-byte r||s.
    Bytes sign(std::span<const std::uint8_t> digest) override;

    const std::filesystem::path &path() const { return m_path; }

private:
    SoftwareDeviceKey(EvpPkeyPtr key, std::filesystem::path path);

    EvpPkeyPtr m_key;
    EcPublicKey m_publicKey;
    std::filesystem::path m_path;
};

} // namespace vigil::protocol
