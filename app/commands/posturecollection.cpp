#include "app/commands/posturecollection.h"

#include "posture/host/host.h"
#include "posture/postureengine.h"
#include "posture/standardcollectors.h"

#include <memory>

namespace vigil::app::commands {

posture::PostureSnapshot collectPosture()
{
    auto host = std::make_shared<const posture::Host>(posture::Host::local());
    posture::PostureEngine engine(host, posture::standardCollectors());
    return engine.collect();
}

} // namespace vigil::app::commands
