#include "posture/collectors/rebootrequirement.h"

#include "posture/parsers/versioncompare.h"

#include <algorithm>
#include <set>

namespace vigil::posture {

using json = nlohmann::json;

RebootRequirement rebootRequirement(const CollectContext &context, json &details)
{
    RebootRequirement state;
    const auto &fs = context.fs();

    // Debian and Ubuntu packages (update-notifier-common, needrestart) drop this flag file.
    bool flagged = false;
    for (const char *flag : {"/run/reboot-required", "/var/run/reboot-required"}) {
        if (!fs.exists(flag))
            continue;
        flagged = true;
        state.reasons.push_back(std::string(flag) + " is present");
        const auto pkgs = fs.readFile(std::string(flag) + ".pkgs", 64 * 1024);
        json list = json::array();
        for (std::size_t start = 0; pkgs.ok() && start < pkgs.data.size();) {
            auto end = pkgs.data.find('\n', start);
            if (end == std::string::npos)
                end = pkgs.data.size();
            std::string name = pkgs.data.substr(start, end - start);
            while (!name.empty() && (name.back() == '\r' || name.back() == ' '))
                name.pop_back();
            // Package names are printable ASCII; anything else is not worth reporting.
            const bool printable =
                std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
            if (!name.empty() && printable &&
                std::find(list.begin(), list.end(), name) == list.end())
                list.push_back(name);
            start = end + 1;
        }
        details["reboot_required_packages"] = list;
        break;
    }

    // A kernel newer than the running one (same flavour) means the update is not in effect.
    const auto running = fs.readTrimmed("/proc/sys/kernel/osrelease");
    details["running_kernel"] = running ? json(*running) : json(nullptr);
    std::set<std::string> installed;
    for (const char *dir : {"/usr/lib/modules", "/lib/modules"}) {
        // modules.builtin ships with the kernel package and goes with it; a directory left
        // behind by out-of-tree modules after the kernel was removed has none.
        for (const auto &entry : fs.listDirectory(dir))
            if (fs.isRegularFile(std::string(dir) + "/" + entry + "/modules.builtin"))
                installed.insert(entry);
    }
    json installedJson = json::array();
    for (const auto &k : installed)
        installedJson.push_back(k);
    details["installed_kernels"] = installedJson;

    std::optional<bool> kernelNewer;
    std::string kernelUnknown;
    if (!running || running->empty()) {
        kernelUnknown =
            "the running kernel's release can't be read from /proc/sys/kernel/osrelease";
    } else if (installed.empty()) {
        kernelUnknown = "no installed kernel found under /usr/lib/modules or /lib/modules";
    } else {
        const auto flavour = kernelFlavour(*running);
        std::optional<std::string> newest;
        for (const auto &k : installed)
            if (kernelFlavour(k) == flavour && (!newest || compareVersions(k, *newest) > 0))
                newest = k;
        details["newest_installed_kernel"] = newest ? json(*newest) : json(nullptr);
        if (!newest) {
            kernelUnknown =
                "no installed kernel of the running kernel's flavour (" + *running + ")";
        } else {
            kernelNewer = false;
            if (compareVersions(*newest, *running) > 0) {
                kernelNewer = true;
                state.reasons.push_back("running kernel " + *running +
                                        " is older than installed kernel " + *newest);
            }
            if (!installed.count(*running)) {
                // Arch and others delete the old kernel's modules on upgrade: hardware plugged
                // in from now on finds no driver.
                kernelNewer = true;
                state.reasons.push_back("the running kernel's modules (" + *running +
                                        ") are no longer installed");
            }
        }
    }
    if (!kernelUnknown.empty())
        details["kernel_check_unknown_reason"] = kernelUnknown;

    if (flagged || kernelNewer.value_or(false))
        state.required = true;
    else if (kernelNewer)
        state.required = false;
    else
        state.unknownReason = "whether a reboot is required can't be told: " + kernelUnknown;

    details["reboot_required"] = state.required ? json(*state.required) : json(nullptr);
    details["reboot_required_reasons"] = state.reasons;
    return state;
}

} // namespace vigil::posture
