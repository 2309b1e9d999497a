#include "app/client/machinebinding.h"

#include "app/applogging.h"
#include "app/client/enrollmentstate.h"
#include "attestation/tpm/tpm.h"
#include "core/bytes.h"
#include "core/sha256.h"
#include "posture/collectors/deviceidentitycollector.h"
#include "posture/host/filesystem.h"
#include "protocol/problem.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <sys/stat.h>
#include <system_error>
#include <vector>

namespace vigil::app {

namespace {

namespace fs = std::filesystem;

constexpr const char *tpmMember = "tpm_endorsement_key";
constexpr const char *machineIdMember = "machine_id";
constexpr const char *productUuidMember = "product_uuid";

std::string sha256Name(std::string_view text)
{
    return "sha256:" + toHex(sha256(text));
}

bool isSha256Name(const std::string &text)
{
    return text.size() == 71 && text.starts_with("sha256:") &&
           std::all_of(text.begin() + 7, text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The machine-id as posture's device_identity reads it (D-Bus's copy where /etc has none).
std::optional<std::string> machineId(const posture::FileSystem &files)
{
    for (const char *path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
        const auto id = files.readTrimmed(path);
        if (id && posture::isValidMachineId(*id))
            return posture::appSpecificMachineId(*id, posture::vigilAppId);
    }
    return std::nullopt;
}

std::optional<std::string> productUuid(const posture::FileSystem &files)
{
    auto uuid = files.readTrimmed("/sys/class/dmi/id/product_uuid");
    if (!uuid || uuid->empty())
        return std::nullopt;
    std::transform(uuid->begin(), uuid->end(), uuid->begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    // Firmware that sets none reports one of these on every machine: they identify nothing.
    const bool placeholder =
        std::all_of(uuid->begin(), uuid->end(), [](char c) { return c == '0' || c == '-'; }) ||
        std::all_of(uuid->begin(), uuid->end(), [](char c) { return c == 'f' || c == '-'; });
    if (placeholder)
        return std::nullopt;
    return sha256Name(*uuid);
}

std::string utcStamp(std::chrono::system_clock::time_point now)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
    return text;
}

} // namespace

nlohmann::json MachineBinding::toJson() const
{
    nlohmann::json json = nlohmann::json::object();
    if (tpmEndorsementKey)
        json[tpmMember] = *tpmEndorsementKey;
    if (machineId)
        json[machineIdMember] = *machineId;
    if (productUuid)
        json[productUuidMember] = *productUuid;
    return json;
}

MachineBinding MachineBinding::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    if (!json.is_object())
        throw protocol::MessageError(pointer, "must be a JSON object");
    MachineBinding binding;
    for (const auto &[name, value] : json.items()) {
        const std::string member = pointer + "/" + name;
        if (name != tpmMember && name != machineIdMember && name != productUuidMember)
            throw protocol::MessageError(
                member, "unknown member (expected " + std::string(tpmMember) + ", " +
                            machineIdMember + " or " + productUuidMember + ")");
        if (!value.is_string())
            throw protocol::MessageError(member, "must be a string");
        const auto &text = value.get_ref<const std::string &>();
        if (name == machineIdMember) {
            if (!posture::isValidMachineId(text))
                throw protocol::MessageError(member, "must be 32 lower-case hex digits");
            binding.machineId = text;
        } else {
            if (!isSha256Name(text))
                throw protocol::MessageError(
                    member, "must be sha256: followed by 64 lower-case hex digits");
            (name == tpmMember ? binding.tpmEndorsementKey : binding.productUuid) = text;
        }
    }
    return binding;
}

MachineBinding readMachineBinding(const posture::FileSystem &files, attestation::Tpm *tpm)
{
    MachineBinding binding;
    if (tpm) {
        try {
            // Always the RSA EK from the TCG default template: it follows from the TPM's
            // endorsement seed alone, whereas the EK that enrollment sends follows the
            // certificates in NV, which a provisioning tool may add later.
            binding.tpmEndorsementKey =
                "sha256:" +
                toHex(sha256(tpm->createEndorsementKey(attestation::EkType::Rsa2048).publicArea()));
        } catch (const std::exception &e) {
            // Not recorded, so not compared: the TPM keys' own loading still tells another TPM.
            qCInfo(lcApp,
                   "the TPM's endorsement key cannot be read, so the identity is not "
                   "bound to it: %s",
                   e.what());
        }
    }
    binding.machineId = machineId(files);
    binding.productUuid = productUuid(files);
    return binding;
}

std::vector<std::string> machineDifferences(const MachineBinding &recorded,
                                            const MachineBinding &now)
{
    std::vector<std::string> differences;
    const auto compare = [&](const std::optional<std::string> &then,
                             const std::optional<std::string> &current, const char *what) {
        if (then && current && *then != *current)
            differences.emplace_back(what);
    };
    compare(recorded.tpmEndorsementKey, now.tpmEndorsementKey, "the TPM (its endorsement key)");
    compare(recorded.machineId, now.machineId, "the machine-id");
    compare(recorded.productUuid, now.productUuid, "the DMI product UUID");
    return differences;
}

std::string foreignIdentityReason(const std::vector<std::string> &differences,
                                  const std::string &deviceId)
{
    std::string what;
    for (std::size_t i = 0; i < differences.size(); ++i)
        what += (i == 0 ? "" : i + 1 == differences.size() ? " and " : ", ") + differences[i];
    return std::string(foreignIdentityPrefix) + ": " + what +
           (differences.size() > 1 ? " are not those" : " is not that") +
           " of the machine where it enrolled as device " + deviceId;
}

fs::path moveIdentityAside(const fs::path &stateDirectory, std::string_view keep,
                           std::chrono::system_clock::time_point now)
{
    const std::string base = "cloned-identity-" + utcStamp(now);
    fs::path aside = stateDirectory / base;
    // Two in the same second get a suffix; mkdir fails on an existing name, so none is reused.
    for (int attempt = 2; ::mkdir(aside.c_str(), 0700) != 0; ++attempt) {
        if (errno != EEXIST || attempt > 100)
            throw std::system_error(errno, std::generic_category(),
                                    "cannot create " + aside.string());
        aside = stateDirectory / (base + "-" + std::to_string(attempt));
    }
    // Names first, then the moves: a directory changed while it is read may list an entry twice
    // or not at all. The enrollment goes last, so that an identity interrupted half-way still
    // looks foreign, and the next start moves the rest.
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(stateDirectory)) {
        std::string name = entry.path().filename().string();
        if (name != keep && !name.starts_with("cloned-identity-") &&
            name != EnrollmentStore::stateFileName)
            names.push_back(std::move(name));
    }
    if (fs::exists(stateDirectory / EnrollmentStore::stateFileName))
        names.emplace_back(EnrollmentStore::stateFileName);
    // rename within one directory tree: nothing is copied, and nothing can be half moved.
    for (const std::string &name : names)
        fs::rename(stateDirectory / name, aside / name);
    return aside;
}

} // namespace vigil::app
