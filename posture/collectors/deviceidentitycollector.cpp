#include "posture/collectors/deviceidentitycollector.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <algorithm>
#include <array>
#include <cctype>

namespace vigil::posture {

bool isValidMachineId(std::string_view text)
{
    if (text.size() != 32)
        return false;
    bool allZero = true;
    for (char c : text) {
        if (!std::isxdigit(static_cast<unsigned char>(c)) ||
            std::isupper(static_cast<unsigned char>(c)))
            return false;
        allZero = allZero && c == '0';
    }
    return !allZero;
}

bool isPlaceholderDmiValue(std::string_view text)
{
    std::string lower;
    for (char c : text)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static constexpr std::array placeholders = {"",
                                                "0",
                                                "none",
                                                "default string",
                                                "to be filled by o.e.m.",
                                                "system serial number",
                                                "not specified",
                                                "not applicable",
                                                "0123456789",
                                                "123456789",
                                                "n/a",
                                                "na",
                                                "xxxxxxxxxxxx",
                                                "chassis serial number",
                                                "system product name",
                                                "system manufacturer",
                                                "oem"};
    return std::find(placeholders.begin(), placeholders.end(), lower) != placeholders.end();
}

std::string appSpecificMachineId(std::string_view machineId, std::string_view appId)
{
    const auto key = QByteArray::fromHex(QByteArray(machineId.data(), qsizetype(machineId.size())));
    const auto message = QByteArray::fromHex(QByteArray(appId.data(), qsizetype(appId.size())));
    QByteArray id =
        QMessageAuthenticationCode::hash(message, key, QCryptographicHash::Sha256).left(16);
    id[6] = char((id[6] & 0x0F) | 0x40); // version 4
    id[8] = char((id[8] & 0x3F) | 0x80); // RFC 4122 variant
    return id.toHex().toStdString();
}

namespace {

// A DMI field, or null with a reason beside it.
void addDmiField(const FileSystem &fs, nlohmann::json &details, const char *file, const char *key)
{
    const auto result = fs.readFile(std::string("/sys/class/dmi/id/") + file, 4096);
    std::string value = result.data;
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
    if (!result.ok()) {
        details[key] = nullptr;
        details[std::string(key) + "_unknown_reason"] =
            result.error == std::errc::permission_denied
                ? "not readable: permission denied (root only)"
                : "not readable: " + result.errorText();
    } else if (isPlaceholderDmiValue(value)) {
        details[key] = nullptr;
        details[std::string(key) + "_unknown_reason"] =
            "firmware reports a placeholder (\"" + value + "\")";
    } else {
        details[key] = value;
    }
}

bool isMacAddress(std::string_view text)
{
    if (text.size() != 17)
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i % 3 == 2 ? text[i] != ':' : !std::isxdigit(static_cast<unsigned char>(text[i])))
            return false;
    }
    return text != "00:00:00:00:00:00";
}

} // namespace

CheckResult DeviceIdentityCollector::collect(const CollectContext &context)
{
    const auto &fs = context.fs();
    nlohmann::json details = nlohmann::json::object();
    addDmiField(fs, details, "sys_vendor", "vendor");
    addDmiField(fs, details, "product_name", "product");
    addDmiField(fs, details, "product_serial", "serial");

    // Only interfaces backed by a device (no loopback, bridges, veths, tunnels); a
    // permanent address, when the driver reports one, outlives MAC randomisation.
    nlohmann::json interfaces = nlohmann::json::array();
    for (const auto &name : fs.listDirectory("/sys/class/net")) {
        const std::string base = "/sys/class/net/" + name;
        if (!fs.exists(base + "/device"))
            continue;
        const auto address = fs.readTrimmed(base + "/address");
        if (!address || !isMacAddress(*address))
            continue;
        const bool wireless = fs.exists(base + "/wireless") || fs.exists(base + "/phy80211");
        interfaces.push_back(
            {{"interface", name}, {"mac", *address}, {"type", wireless ? "wireless" : "ethernet"}});
    }
    details["interfaces"] = std::move(interfaces);

    std::string machineIdSource = "/etc/machine-id";
    auto machineId = fs.readTrimmed(machineIdSource);
    if (!machineId || !isValidMachineId(*machineId)) {
        // D-Bus keeps its own copy on systems where the two were never linked.
        auto dbusId = fs.readTrimmed("/var/lib/dbus/machine-id");
        if (dbusId && isValidMachineId(*dbusId)) {
            machineIdSource = "/var/lib/dbus/machine-id";
            machineId = dbusId;
        } else if (!machineId || machineId->empty()) {
            machineIdSource = "/var/lib/dbus/machine-id";
            machineId = dbusId;
        }
    }
    const std::string checkId(id());
    if (!machineId || !isValidMachineId(*machineId)) {
        details["machine_id"] = nullptr;
        const std::string reason =
            !machineId ? "no readable /etc/machine-id or /var/lib/dbus/machine-id"
            : *machineId == "uninitialized"
                ? "/etc/machine-id is not initialised yet (first boot not finished)"
                : machineIdSource + " does not hold a valid machine ID";
        return CheckResult::unknown(checkId, reason, std::move(details));
    }
    const auto reportedId = appSpecificMachineId(*machineId, vigilAppId);
    details["machine_id"] = reportedId;
    details["machine_id_scheme"] =
        "app-specific (systemd-id128 machine-id --app-specific=" + std::string(vigilAppId) + ")";
    details["machine_id_source"] = machineIdSource;

    std::string summary;
    if (details["vendor"].is_string())
        summary += details["vendor"].get<std::string>() + " ";
    if (details["product"].is_string())
        summary += details["product"].get<std::string>() + " ";
    summary += "serial ";
    summary += details["serial"].is_string() ? details["serial"].get<std::string>() : "unknown";
    summary += ", machine-id " + reportedId.substr(0, 8) + "…, " +
               std::to_string(details["interfaces"].size()) + " physical interface(s)";
    return CheckResult::pass(checkId, summary, std::move(details));
}

} // namespace vigil::posture
