#pragma once

#include "posture/collector.h"

#include <memory>
#include <vector>

namespace vigil::posture {

// Every Linux check, in the order reports and tables list them.
std::vector<std::shared_ptr<Collector>> standardCollectors();

} // namespace vigil::posture
