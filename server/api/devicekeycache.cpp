#include "server/api/devicekeycache.h"

#include "protocol/jose/jwk.h"
#include "protocol/posturereport.h"

namespace vigil::server {

std::shared_ptr<const DeviceKeys> DeviceKeyCache::find(const std::string &deviceId)
{
    const std::lock_guard lock(m_mutex);
    const auto it = m_keys.find(deviceId);
    return it == m_keys.end() ? nullptr : it->second;
}

std::shared_ptr<const DeviceKeys> DeviceKeyCache::keysFor(const Device &device)
{
    if (auto keys = find(device.id))
        return keys;
    // Imported outside the lock: two threads may both import a new device's keys, and one
    // result is kept.
    auto keys = std::make_shared<DeviceKeys>();
    keys->assurance = device.assurance;
    const auto publicKey = protocol::parseEcPublicJwk(std::string_view(device.deviceKeyJwk));
    keys->deviceKey = protocol::toEvpPkey(publicKey);
    keys->ueid = protocol::ueidForKey(publicKey);
    if (!device.akPublic.empty())
        keys->ak.emplace(device.akPublic);

    const std::lock_guard lock(m_mutex);
    if (m_keys.size() >= m_capacity)
        m_keys.clear(); // rebuilt on demand; cheaper than tracking recency on every hit
    return m_keys.emplace(device.id, std::move(keys)).first->second;
}

} // namespace vigil::server
