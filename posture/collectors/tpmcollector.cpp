#include "posture/collectors/tpmcollector.h"

namespace vigil::posture {

std::string describeTpmAccessError(std::error_code error)
{
    if (!error)
        return {};
    if (error == std::errc::no_such_file_or_directory)
        return "/dev/tpmrm0 does not exist (kernel without the TPM resource manager)";
    if (error == std::errc::permission_denied || error == std::errc::operation_not_permitted)
        return "permission denied on /dev/tpmrm0: add the account to the 'tss' group "
               "(usermod -aG tss <user>) or run as the vigild service";
    if (error == std::errc::device_or_resource_busy)
        return "/dev/tpmrm0 is busy";
    return "/dev/tpmrm0: " + error.message();
}

namespace {

// "2" from tpm_version_major (Linux 5.6+); older kernels only expose TPM 1.2's "caps" file.
std::optional<std::string> tpmVersion(const FileSystem &fs, const std::string &device)
{
    if (auto major = fs.readTrimmed(device + "/tpm_version_major")) {
        if (*major == "2")
            return "2.0";
        if (*major == "1")
            return "1.2";
        return std::nullopt;
    }
    if (auto caps = fs.readTrimmed(device + "/device/caps");
        caps && caps->find("TCG version: 1.2") != std::string::npos)
        return "1.2";
    if (fs.exists("/dev/tpmrm0"))
        return "2.0"; // the resource manager exists only for TPM 2.0
    return std::nullopt;
}

} // namespace

CheckResult TpmCollector::collect(const CollectContext &context)
{
    const auto &fs = context.fs();
    const std::string checkId(id());
    if (!fs.isDirectory("/sys/class"))
        return CheckResult::unknown(checkId, "/sys/class is not available (sysfs not mounted?)");

    std::error_code listError;
    const auto devices = fs.listDirectory("/sys/class/tpm", listError);
    std::string device;
    for (const auto &name : devices) {
        if (name.starts_with("tpm")) {
            device = name;
            break;
        }
    }
    if (device.empty()) {
        return CheckResult::fail(
            checkId, "No TPM found",
            "Enable the TPM (often called fTPM, PTT or Security Chip) in the firmware settings; "
            "on a virtual machine, add a virtual TPM 2.0 device.",
            {{"present", false}, {"version", nullptr}, {"device", nullptr}});
    }

    const std::string sysfs = "/sys/class/tpm/" + device;
    const auto version = tpmVersion(fs, sysfs);
    nlohmann::json details = {
        {"present", true},
        {"device", device},
        {"version", version ? nlohmann::json(*version) : nlohmann::json(nullptr)},
    };
    if (auto description = fs.readTrimmed(sysfs + "/device/description"))
        details["description"] = *description;

    if (!version)
        return CheckResult::unknown(checkId, "a TPM is present but its version is not reported",
                                    std::move(details));
    if (*version != "2.0") {
        details["resource_manager_usable"] = false;
        return CheckResult::fail(checkId, "TPM " + *version + " only; Vigil needs TPM 2.0",
                                 "Switch the TPM to 2.0 mode in the firmware settings (many "
                                 "1.2 chips can be upgraded by the vendor's firmware update).",
                                 std::move(details));
    }

    const auto openError = fs.tryOpen("/dev/tpmrm0", true);
    details["resource_manager_usable"] = !openError;
    std::string summary = "TPM 2.0 present (" + device + ")";
    if (openError) {
        details["resource_manager_reason"] = describeTpmAccessError(openError);
        summary += "; /dev/tpmrm0 not usable by this process";
    } else {
        summary += ", /dev/tpmrm0 usable";
    }
    return CheckResult::pass(checkId, summary, std::move(details));
}

} // namespace vigil::posture
