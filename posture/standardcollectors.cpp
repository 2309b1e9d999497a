#include "standardcollectors.h"

#include "deviceidentitycollector.h"
#include "diskencryptioncollector.h"
#include "firewallcollector.h"
#include "oscollector.h"
#include "patchlevelcollector.h"
#include "screenlockcollector.h"
#include "securebootcollector.h"
#include "tpmcollector.h"

namespace vigil::posture {

std::vector<std::shared_ptr<Collector>> standardCollectors()
{
    return {
        std::make_shared<OsCollector>(),
        std::make_shared<PatchLevelCollector>(),
        std::make_shared<DiskEncryptionCollector>(),
        std::make_shared<FirewallCollector>(),
        std::make_shared<ScreenLockCollector>(),
        std::make_shared<SecureBootCollector>(),
        std::make_shared<TpmCollector>(),
        std::make_shared<DeviceIdentityCollector>(),
    };
}

} // namespace vigil::posture
