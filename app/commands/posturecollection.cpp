#include "app/commands/posturecollection.h"

#include "posture/host/host.h"
#include "posture/postureengine.h"
#include "posture/standardcollectors.h"

#include <atomic>
#include <memory>

namespace vigil::app::commands {

namespace {
std::atomic<bool> collected = false;
} // namespace

posture::PostureSnapshot collectPosture()
{
    collected = true;
    auto host = std::make_shared<const posture::Host>(posture::Host::local());
    posture::PostureEngine engine(host, posture::standardCollectors());
    return engine.collect();
}

bool postureCollected()
{
    return collected;
}

} // namespace vigil::app::commands
