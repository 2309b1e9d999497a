#include "server/admin/admincommands.h"

#include "core/bytes.h"
#include "core/sha256.h"
#include "protocol/rfc3339.h"
#include "server/admin/datadirectory.h"
#include "server/policy/policy.h"
#include "server/randomid.h"
#include "server/storage/sqlitestorage.h"

#include <charconv>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sys/stat.h>

namespace vigil::server {

namespace {

std::string isoTime(TimePoint time)
{
    return protocol::formatRfc3339(time);
}

nlohmann::json optionalTime(const std::optional<TimePoint> &time)
{
    return time ? nlohmann::json(isoTime(*time)) : nlohmann::json(nullptr);
}

std::string tokenState(const EnrollmentToken &token, TimePoint now)
{
    if (token.revokedAt)
        return "revoked";
    if (token.expiresAt <= now)
        return "expired";
    if (token.uses >= token.maxUses)
        return "used up";
    return "active";
}

nlohmann::json tokenJson(const EnrollmentToken &token, TimePoint now)
{
    return {{"id", token.id},
            {"label", token.label},
            {"uses", token.uses},
            {"max_uses", token.maxUses},
            {"created_at", isoTime(token.createdAt)},
            {"expires_at", isoTime(token.expiresAt)},
            {"revoked_at", optionalTime(token.revokedAt)},
            {"state", tokenState(token, now)}};
}

nlohmann::json deviceJson(const Device &device)
{
    return {{"id", device.id},
            {"hostname", device.hostname},
            {"assurance", device.assurance},
            {"jkt", device.jkt},
            {"enrolled_at", isoTime(device.enrolledAt)},
            {"enrollment_token_id", device.enrollmentTokenId},
            {"revoked_at", optionalTime(device.revokedAt)},
            {"revoke_reason", device.revokeReason},
            {"last_verdict", device.lastVerdict.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(device.lastVerdict)},
            {"last_appraised_at", optionalTime(device.lastAppraisedAt)},
            {"last_appraisal_id", device.lastAppraisalId}};
}

std::string column(std::string text, std::size_t width)
{
    if (text.size() > width)
        text = text.substr(0, width - 1) + "~";
    text.resize(width, ' ');
    return text;
}

} // namespace

std::optional<std::chrono::seconds> parseDuration(std::string_view text)
{
    if (text.empty())
        return std::nullopt;
    long long unit = 1;
    switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 0;
    }
    if (unit != 0)
        text.remove_suffix(1);
    else
        unit = 1;
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value <= 0 ||
        value > 3650LL * 86400 / unit)
        return std::nullopt;
    return std::chrono::seconds(value * unit);
}

int initDataDirectory(const std::filesystem::path &dir, const std::vector<std::string> &names,
                      TimePoint now, std::ostream &out, std::ostream &err)
{
    try {
        const InitResult result = DataDirectory::initialise(dir, names, now);
        const DataDirectory data = DataDirectory::open(dir);
        SqliteStorage::open(data.database());
        {
            std::ofstream policy(data.policy(), std::ios::out | std::ios::trunc);
            policy << defaultPolicyText();
            if (!policy.flush())
                throw std::runtime_error("cannot write " + data.policy().string());
        }
        out << "Initialised " << dir.string() << "\n"
            << "  CA certificate   " << data.caCertificate().string() << "\n"
            << "  TLS certificate  " << data.tlsCertificate().string() << " for";
        for (const auto &name : names)
            out << " " << name;
        out << "\n  policy           " << data.policy().string() << "\n"
            << "  TPM vendor CAs   " << data.ekCaDirectory().string()
            << "/ (empty: add your TPM manufacturers' CA certificates)\n"
            << "CA fingerprint (agents pin this): " << result.caFingerprint << "\n";
        return 0;
    } catch (const std::exception &e) {
        err << "vigil-verifier: init failed: " << e.what() << "\n";
        return 1;
    }
}

int renewTlsCertificate(const std::filesystem::path &dir, const std::vector<std::string> &names,
                        DataDirectory::TlsKey key, TimePoint now, bool json, std::ostream &out,
                        std::ostream &err)
{
    try {
        const DataDirectory data = DataDirectory::openForTlsRenewal(dir);
        const TlsCertificateInfo renewed = data.renewTlsCertificate(names, now, key);
        const bool newKey = key == DataDirectory::TlsKey::New;
        const bool endsWithCa = renewed.notAfter >= data.caNotAfter();
        if (json) {
            out << nlohmann::json{{"certificate", data.tlsCertificate().string()},
                                  {"names", renewed.names},
                                  {"not_after", isoTime(renewed.notAfter)},
                                  {"ends_with_ca", endsWithCa},
                                  {"new_key", newKey},
                                  {"fingerprint", renewed.fingerprint}}
                       .dump(2)
                << "\n";
            return 0;
        }
        out << "Renewed " << data.tlsCertificate().string() << " for";
        for (const auto &name : renewed.names)
            out << " " << name;
        if (newKey)
            out << ", with a new key in " << data.tlsKey().string();
        out << "\n  valid until  " << isoTime(renewed.notAfter)
            << (endsWithCa ? " (the CA's own end: agents need a new CA before then)" : "") << "\n"
            << "  fingerprint  " << renewed.fingerprint << "\n"
            << (newKey ? "Same CA" : "Same CA and key")
            << ": agents keep trusting it. A running vigil-verifier serve presents it from its "
               "next connection.\n";
        return 0;
    } catch (const std::exception &e) {
        err << "vigil-verifier: tls renew failed: " << e.what() << "\n";
        return 1;
    }
}

namespace {

std::string timeLeft(std::chrono::days left)
{
    return left.count() == 0   ? "less than a day"
           : left.count() == 1 ? "1 day"
                               : std::to_string(left.count()) + " days";
}

} // namespace

std::string certificateExpiryWarning(const TlsCertificateInfo &certificate, TimePoint caNotAfter,
                                     const std::filesystem::path &dir, TimePoint now)
{
    const std::string newCa = "agents must pin a new CA: set up a new data directory "
                              "(vigil-verifier init) and enroll them again with its fingerprint";
    const std::string ca = "the verifier CA " + (dir / DataDirectory::caCertificateName).string();
    if (caNotAfter <= now)
        return ca + " expired at " + isoTime(caNotAfter) + "; " + newCa;
    std::string caWarning;
    const auto caLeft = std::chrono::floor<std::chrono::days>(caNotAfter - now);
    if (caLeft < caRenewalWarning)
        caWarning = ca + " expires at " + isoTime(caNotAfter) + " (in " + timeLeft(caLeft) +
                    "), and no TLS certificate it signs lasts longer; before then " + newCa;

    // A certificate that ends with the CA cannot be renewed past it: only the CA's warning
    // helps then. One that ends earlier can, and needs saying even while the CA's is due.
    std::string tlsWarning;
    const std::string renew = "run vigil-verifier tls renew --data " + dir.string();
    const auto left = std::chrono::floor<std::chrono::days>(certificate.notAfter - now);
    if (certificate.notAfter < caNotAfter) {
        if (certificate.notAfter <= now)
            tlsWarning = "the TLS certificate expired at " + isoTime(certificate.notAfter) +
                         "; agents refuse to connect until you " + renew;
        else if (left < tlsRenewalWarning)
            tlsWarning = "the TLS certificate expires at " + isoTime(certificate.notAfter) +
                         " (in " + timeLeft(left) + "); agents will refuse it then: " + renew;
    }

    if (tlsWarning.empty() || caWarning.empty())
        return tlsWarning + caWarning;
    return tlsWarning + ". Also, " + caWarning;
}

IssuedEnrollmentToken issueEnrollmentToken(Storage &storage, const TokenOptions &options,
                                           TimePoint now)
{
    // The text is what installers carry; only its SHA-256 is stored, so a copy of the database
    // enrolls nothing.
    IssuedEnrollmentToken issued;
    issued.text = "vet1." + base64UrlEncode(randomBytes(32));
    EnrollmentToken &token = issued.token;
    token.id = "et_" + toHex(randomBytes(8));
    token.secretHash = sha256(issued.text);
    token.label = options.label;
    token.maxUses = options.uses;
    token.createdAt = now;
    token.expiresAt = now + options.ttl;
    storage.addEnrollmentToken(token);
    return issued;
}

int createEnrollmentToken(Storage &storage, const TokenOptions &options, TimePoint now,
                          bool json, std::ostream &out)
{
    const auto [token, text] = issueEnrollmentToken(storage, options, now);
    if (json) {
        nlohmann::json body = tokenJson(token, now);
        body["token"] = text;
        out << body.dump(2) << "\n";
    } else {
        out << text << "\n"
            << "id " << token.id << ", " << token.maxUses
            << (token.maxUses == 1 ? " use" : " uses") << ", expires "
            << isoTime(token.expiresAt)
            << ". Shown once: only its hash is stored.\n";
    }
    return 0;
}

int listEnrollmentTokens(Storage &storage, TimePoint now, bool json, std::ostream &out)
{
    const auto tokens = storage.enrollmentTokens();
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto &token : tokens)
            list.push_back(tokenJson(token, now));
        out << list.dump(2) << "\n";
        return 0;
    }
    out << column("ID", 20) << column("STATE", 9) << column("USES", 8)
        << column("EXPIRES", 22) << "LABEL\n";
    for (const auto &token : tokens)
        out << column(token.id, 20) << column(tokenState(token, now), 9)
            << column(std::to_string(token.uses) + "/" + std::to_string(token.maxUses), 8)
            << column(isoTime(token.expiresAt), 22) << token.label << "\n";
    return 0;
}

int revokeEnrollmentToken(Storage &storage, const std::string &id, TimePoint now,
                          std::ostream &out, std::ostream &err)
{
    if (!storage.revokeEnrollmentToken(id, now)) {
        err << "vigil-verifier: no active enrollment token " << id
            << " (see `vigil-verifier token list`)\n";
        return 1;
    }
    out << "Revoked enrollment token " << id << "\n";
    return 0;
}

int listDevices(Storage &storage, bool json, std::ostream &out)
{
    const auto devices = storage.devices();
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto &device : devices)
            list.push_back(deviceJson(device));
        out << list.dump(2) << "\n";
        return 0;
    }
    out << column("ID", 38) << column("HOSTNAME", 20) << column("ASSURANCE", 10)
        << column("STATE", 15) << "LAST APPRAISAL\n";
    for (const auto &device : devices) {
        const std::string state = device.revokedAt             ? "revoked"
                                  : device.lastVerdict.empty() ? "no report"
                                                               : device.lastVerdict;
        out << column(device.id, 38) << column(device.hostname, 20)
            << column(device.assurance, 10) << column(state, 15)
            << (device.lastAppraisedAt ? isoTime(*device.lastAppraisedAt) : "-") << "\n";
    }
    return 0;
}

int showDevice(Storage &storage, const std::string &id, bool json, std::ostream &out,
               std::ostream &err)
{
    const auto device = storage.device(id);
    if (!device) {
        err << "vigil-verifier: no device " << id << " (see `vigil-verifier devices list`)\n";
        return 1;
    }
    nlohmann::json body = deviceJson(*device);
    nlohmann::json history = nlohmann::json::array();
    for (const auto &appraisal : storage.appraisals(id, 10))
        history.push_back({{"id", appraisal.id},
                           {"appraised_at", isoTime(appraisal.appraisedAt)},
                           {"verdict", appraisal.verdict},
                           {"error", appraisal.error},
                           {"checks", nlohmann::json::parse(appraisal.checksJson, nullptr,
                                                            false)}});
    body["appraisals"] = history;
    if (json) {
        out << body.dump(2) << "\n";
        return 0;
    }
    out << "Device " << device->id << "\n"
        << "  hostname     " << device->hostname << "\n"
        << "  assurance    " << device->assurance << "\n"
        << "  key (jkt)    " << device->jkt << "\n"
        << "  enrolled     " << isoTime(device->enrolledAt) << " with token "
        << device->enrollmentTokenId << "\n";
    if (device->revokedAt)
        out << "  revoked      " << isoTime(*device->revokedAt) << " "
            << device->revokeReason << "\n";
    out << "Latest appraisals:\n";
    for (const auto &entry : history) {
        out << "  " << entry["appraised_at"].get<std::string>() << "  "
            << entry["verdict"].get<std::string>();
        if (!entry["error"].get<std::string>().empty())
            out << " (" << entry["error"].get<std::string>() << ")";
        out << "\n";
        if (entry["checks"].is_array())
            for (const auto &check : entry["checks"])
                if (check.value("status", "") == "fail")
                    out << "      fail " << check.value("id", "") << ": "
                        << check.value("summary", "") << "\n";
    }
    return 0;
}

int revokeDevice(Storage &storage, const std::string &id, const std::string &reason,
                 TimePoint now, std::ostream &out, std::ostream &err)
{
    if (!storage.revokeDevice(id, reason, now)) {
        err << "vigil-verifier: no enrolled, unrevoked device " << id
            << " (see `vigil-verifier devices list`)\n";
        return 1;
    }
    out << "Revoked device " << id << ": it gets no token from now on\n";
    return 0;
}

int checkPolicy(const std::filesystem::path &file, std::ostream &out, std::ostream &err)
{
    try {
        const Policy policy = loadPolicy(file);
        out << file.string() << ": valid (" << policy.quotePcrs.size() << " PCRs quoted, "
            << policy.pcrReferenceValues.size() << " with reference values)\n";
        return 0;
    } catch (const PolicyError &e) {
        // loadPolicy's message starts with the file's name already.
        err << e.what() << "\n";
        return 1;
    }
}

} // namespace vigil::server
