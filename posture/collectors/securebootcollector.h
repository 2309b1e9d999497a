#pragma once

#include "posture/collector.h"

#include <optional>
#include <string_view>

namespace vigil::posture {

// A UEFI variable's value as one byte, from efivarfs content (4 attribute bytes, then data)
// or from the legacy sysfs "data" file (data only). nullopt for anything but exactly one byte.
std::optional<unsigned char> parseEfiByteVariable(std::string_view content, bool hasAttributes);

// UEFI SecureBoot and SetupMode variables. Pass only when Secure Boot is enforcing and the
// platform is not in setup mode (where anyone can enroll keys); a BIOS boot fails.
class SecureBootCollector final : public Collector
{
public:
    std::string_view id() const override { return "secure_boot"; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
