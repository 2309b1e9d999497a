#include "posture/standardcollectors.h"

#include "posture/collectors/deviceidentitycollector.h"
#include "posture/collectors/diskencryptioncollector.h"
#include "posture/collectors/firewallcollector.h"
#include "posture/collectors/oscollector.h"
#include "posture/collectors/patchlevelcollector.h"
#include "posture/collectors/screenlockcollector.h"
#include "posture/collectors/securebootcollector.h"
#include "posture/collectors/tpmcollector.h"

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
