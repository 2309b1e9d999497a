#include "posture/collectors/securebootcollector.h"

namespace vigil::posture {

namespace {

constexpr std::string_view globalVariableGuid = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

struct Variable
{
    std::optional<unsigned char> value;
    std::string problem; // why value is missing
    std::string source;
};

Variable readVariable(const FileSystem &fs, std::string_view name)
{
    const std::string suffix = std::string(name) + "-" + std::string(globalVariableGuid);
    Variable v;
    v.source = "/sys/firmware/efi/efivars/" + suffix;
    auto file = fs.readFile(v.source, 64);
    bool hasAttributes = true;
    if (!file.ok() && file.error == std::errc::no_such_file_or_directory) {
        // Kernels before efivarfs exposed variables under /sys/firmware/efi/vars.
        const std::string legacy = "/sys/firmware/efi/vars/" + suffix + "/data";
        auto legacyFile = fs.readFile(legacy, 64);
        if (legacyFile.ok() || legacyFile.error != std::errc::no_such_file_or_directory) {
            file = std::move(legacyFile);
            v.source = legacy;
            hasAttributes = false;
        }
    }
    if (!file.ok()) {
        v.problem = std::string(name) + " variable " + file.errorText();
        return v;
    }
    v.value = parseEfiByteVariable(file.data, hasAttributes);
    if (!v.value)
        v.problem = std::string(name) + " variable has unexpected content (" +
                    std::to_string(file.data.size()) + " bytes)";
    return v;
}

} // namespace

std::optional<unsigned char> parseEfiByteVariable(std::string_view content, bool hasAttributes)
{
    const std::size_t expected = hasAttributes ? 5 : 1;
    if (content.size() != expected)
        return std::nullopt;
    const auto value = static_cast<unsigned char>(content.back());
    if (value > 1)
        return std::nullopt;
    return value;
}

CheckResult SecureBootCollector::collect(const CollectContext &context)
{
    const auto &fs = context.fs();
    const std::string checkId(id());
    if (!fs.isDirectory("/sys/firmware"))
        return CheckResult::unknown(checkId, "/sys/firmware is not available (sysfs not mounted?)");
    if (!fs.isDirectory("/sys/firmware/efi")) {
        return CheckResult::fail(
            checkId, "Legacy BIOS boot: Secure Boot is not available",
            "Reinstall or convert the system to boot in UEFI mode, then enable Secure Boot in "
            "the firmware settings.",
            {{"firmware", "bios"}, {"secure_boot", false}, {"setup_mode", nullptr}});
    }

    nlohmann::json details = {{"firmware", "uefi"}};
    const auto secureBoot = readVariable(fs, "SecureBoot");
    const auto setupMode = readVariable(fs, "SetupMode");
    details["secure_boot"] =
        secureBoot.value ? nlohmann::json(*secureBoot.value == 1) : nlohmann::json(nullptr);
    details["setup_mode"] =
        setupMode.value ? nlohmann::json(*setupMode.value == 1) : nlohmann::json(nullptr);
    details["source"] = secureBoot.source;

    if (!fs.isDirectory("/sys/firmware/efi/efivars") && !fs.isDirectory("/sys/firmware/efi/vars"))
        return CheckResult::unknown(
            checkId, "UEFI variables are not exposed (efivarfs not mounted)", std::move(details));
    // Setup Mode first: the firmware then reports SecureBoot=0 too, and the remedy differs.
    if (setupMode.value == 1) {
        return CheckResult::fail(
            checkId, "Firmware is in Setup Mode: anyone can enroll Secure Boot keys",
            "Enroll the platform key (or restore the factory keys) in the UEFI firmware "
            "settings so the firmware leaves Setup Mode, then enable Secure Boot.",
            std::move(details));
    }
    if (!secureBoot.value)
        return CheckResult::unknown(checkId, secureBoot.problem, std::move(details));
    if (*secureBoot.value == 0) {
        return CheckResult::fail(checkId, "Secure Boot is disabled",
                                 "Enable Secure Boot in the UEFI firmware settings.",
                                 std::move(details));
    }
    if (!setupMode.value)
        return CheckResult::unknown(checkId, setupMode.problem, std::move(details));
    return CheckResult::pass(checkId, "Secure Boot is enabled and enforcing", std::move(details));
}

} // namespace vigil::posture
