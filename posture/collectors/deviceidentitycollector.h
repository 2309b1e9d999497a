#pragma once

#include "posture/collector.h"

namespace vigil::posture {

// True for a systemd machine-id: 32 lowercase hex digits, not all zero.
bool isValidMachineId(std::string_view text);

// Firmware placeholders ("To Be Filled By O.E.M.", "Default string", …) that identify nothing.
bool isPlaceholderDmiValue(std::string_view text);

// Vigil's application id for app-specific machine ids (systemd's sd_id128 scheme).
inline constexpr std::string_view vigilAppId = "3f2a9c61d84b4e0fa7c25b1e90d4f873";

// machine-id(5) asks that the raw id never leave the machine: applications report
// HMAC-SHA256(key = machine id, message = app id), cut to 128 bits and stamped as a v4 UUID,
// exactly as sd_id128_get_machine_app_specific() and `systemd-id128 machine-id --app-specific`
// compute it. Both arguments are 32 hex digits; the result is too.
std::string appSpecificMachineId(std::string_view machineId, std::string_view appId);

// DMI vendor, product and serial, machine-id and the MAC addresses of physical interfaces.
// Pass when the machine-id identifies this installation (reported app-specific, see above);
// the rest are details.
class DeviceIdentityCollector final : public Collector
{
public:
    std::string_view id() const override { return "device_identity"; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
