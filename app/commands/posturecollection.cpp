#include "posturecollection.h"

#include "host.h"
#include "postureengine.h"
#include "standardcollectors.h"

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
