#pragma once

// The enrolled keys of devices, imported into OpenSSL once per device rather than once per
// report: importing a P-256 point costs about as much as verifying a signature with it, and a
// report needs two keys (the device key for the EAT, the AK for the quote).

#include "attestation/attestverifier.h"
#include "core/bytes.h"
#include "core/opensslptr.h"
#include "server/storage/storage.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace vigil::server {

struct DeviceKeys
{
    std::string assurance; // the device's, as enrolled: "tpm" or "software"
    EvpPkeyPtr deviceKey;
    Bytes ueid;                       // what the device's reports must carry
    std::optional<attestation::AttestationKey> ak; // TPM devices
};

class DeviceKeyCache
{
public:
    explicit DeviceKeyCache(std::size_t capacity = 100000) : m_capacity(capacity) {}

    // A device's keys never change (a new key is a new enrollment, a new id), so entries need
    // no invalidation; revocation is read from storage on every request. Throws
    // protocol::JwkError or EvidenceException if what storage holds does not parse.
    std::shared_ptr<const DeviceKeys> keysFor(const Device &device);
    // The keys of a device seen before, or null: lets a report skip reading the device row.
    std::shared_ptr<const DeviceKeys> find(const std::string &deviceId);

private:
    const std::size_t m_capacity;
    std::mutex m_mutex;
    std::unordered_map<std::string, std::shared_ptr<const DeviceKeys>> m_keys;
};

} // namespace vigil::server
