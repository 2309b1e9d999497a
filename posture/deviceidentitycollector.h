#pragma once

#include "collector.h"

namespace vigil::posture {

// True for a systemd machine-id: 32 lowercase hex digits, not all zero.
bool isValidMachineId(std::string_view text);

// Firmware placeholders ("To Be Filled By O.E.M.", "Default string", …) that identify nothing.
bool isPlaceholderDmiValue(std::string_view text);

// DMI vendor, product and serial, machine-id and the MAC addresses of physical interfaces.
// Pass when the machine-id identifies this installation; the rest are details.
class DeviceIdentityCollector final : public Collector
{
public:
    std::string_view id() const override { return "device_identity"; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
