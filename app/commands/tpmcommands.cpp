#include "app/commands/tpmcommands.h"

#include "attestation/attestverifier.h"
#include "attestation/ekcertificate.h"
#include "attestation/tpm/endorsementkey.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmerror.h"
#include "attestation/tpm/tpmidentity.h"
#include "core/text.h"

#include <bit>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

namespace vigil::app {

namespace {

void writeFile(const std::filesystem::path &path, const void *data, std::size_t size)
{
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(static_cast<const char *>(data), static_cast<std::streamsize>(size));
    if (!file.flush())
        throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
}

void writeFile(const std::filesystem::path &path, const Bytes &bytes)
{
    writeFile(path, bytes.data(), bytes.size());
}

// tpm2-tools' "serialized" PCR file (tpm2_quote -o, tpm2_checkquote -f): the in-memory images of
// a TPML_PCR_SELECTION, a UINT32 count and that many TPML_DIGEST, little-endian — i.e. exactly
// what tpm2-tools, built against these tss2 headers, writes on this little-endian host.
Bytes serializedPcrFile(const protocol::PcrValues &values)
{
    static_assert(std::endian::native == std::endian::little);
    TPML_PCR_SELECTION selection{};
    selection.count = 1;
    selection.pcrSelections[0].hash = TPM2_ALG_SHA256;
    selection.pcrSelections[0].sizeofSelect = 3;
    std::vector<TPML_DIGEST> digests;
    for (const auto &[pcr, value] : values) {
        selection.pcrSelections[0].pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
        if (digests.empty() || digests.back().count == 8)
            digests.push_back(TPML_DIGEST{});
        TPM2B_DIGEST &digest = digests.back().digests[digests.back().count++];
        digest.size = static_cast<UINT16>(value.size());
        std::memcpy(digest.buffer, value.data(), value.size());
    }
    Bytes file;
    const auto append = [&file](const void *data, std::size_t size) {
        const auto *bytes = static_cast<const std::uint8_t *>(data);
        file.insert(file.end(), bytes, bytes + size);
    };
    append(&selection, sizeof selection);
    const auto count = static_cast<std::uint32_t>(digests.size());
    append(&count, sizeof count);
    for (const TPML_DIGEST &digest : digests)
        append(&digest, sizeof digest);
    return file;
}

std::string lockoutText(const attestation::TpmInfo &info)
{
    std::string text = info.inLockout ? "LOCKED OUT" : "not locked out";
    text += " (" + std::to_string(info.lockoutCounter) + " of " + std::to_string(info.maxAuthFail) +
            " failed authorizations; one forgiven every " + std::to_string(info.lockoutInterval) +
            " s)";
    return text;
}

} // namespace

std::filesystem::path defaultStateDirectory()
{
    if (const char *directory = std::getenv("STATE_DIRECTORY"); directory && *directory)
        return directory;
    return "/var/lib/vigil";
}

std::optional<std::vector<unsigned>> parsePcrList(std::string_view text)
{
    std::vector<bool> selected(24, false);
    if (text.empty())
        return std::nullopt;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (comma != std::string_view::npos && text.empty())
            return std::nullopt; // trailing comma
        const auto number = [](std::string_view digits) -> std::optional<unsigned> {
            if (digits.empty() || digits.size() > 2)
                return std::nullopt;
            unsigned value = 0;
            for (char c : digits) {
                if (c < '0' || c > '9')
                    return std::nullopt;
                value = value * 10 + unsigned(c - '0');
            }
            return value <= 23 ? std::optional(value) : std::nullopt;
        };
        const std::size_t dash = item.find('-');
        const auto first = number(item.substr(0, dash));
        const auto last = dash == std::string_view::npos ? first : number(item.substr(dash + 1));
        if (!first || !last || *first > *last)
            return std::nullopt;
        for (unsigned pcr = *first; pcr <= *last; ++pcr)
            selected[pcr] = true;
    }
    std::vector<unsigned> pcrs;
    for (unsigned pcr = 0; pcr < 24; ++pcr)
        if (selected[pcr])
            pcrs.push_back(pcr);
    return pcrs;
}

int runTpmInfo(const TpmCommandOptions &options, std::ostream &out, std::ostream &err)
{
    try {
        attestation::Tpm tpm(options.tcti);
        const attestation::TpmInfo info = tpm.info();
        // An EK problem is part of the answer, not a reason to show nothing.
        nlohmann::json ek = {{"certificate", nullptr}};
        std::string ekText;
        try {
            const attestation::EndorsementKey key = attestation::readEndorsementKey(tpm);
            ek["type"] = key.type == attestation::EkType::Rsa2048 ? "RSA 2048" : "ECC P-256";
            ekText = ek["type"].get<std::string>();
            if (key.certificate) {
                const auto certificate = attestation::EkCertificate::parse(*key.certificate).info();
                ek["certificate"] = {{"subject", certificate.subject},
                                     {"issuer", certificate.issuer},
                                     {"serial", certificate.serialNumber},
                                     {"not_before", certificate.notBeforeText},
                                     {"not_after", certificate.notAfterText}};
                ekText += ", certificate issued by " + certificate.issuer + " (subject \"" +
                          certificate.subject + "\", serial " + certificate.serialNumber +
                          ", valid " + certificate.notBeforeText + " to " +
                          certificate.notAfterText + ")";
            } else {
                ekText += ", no EK certificate in the TPM";
            }
        } catch (const attestation::TpmError &e) {
            ek["error"] = e.what();
            ekText = std::string("unusable: ") + e.what();
        }
        if (options.json) {
            nlohmann::json json = {
                {"tcti", tpm.tcti()},
                {"manufacturer", info.manufacturer},
                {"vendor", info.vendorString},
                {"firmware_version", info.firmwareVersion},
                {"specification", info.specification},
                {"pcr_banks", info.pcrBanks},
                {"lockout",
                 {{"in_lockout", info.inLockout},
                  {"counter", info.lockoutCounter},
                  {"max_auth_fail", info.maxAuthFail},
                  {"interval_s", info.lockoutInterval},
                  {"recovery_s", info.lockoutRecovery}}},
                {"endorsement_key", ek},
            };
            out << json.dump(2) << "\n";
        } else {
            out << "TPM              " << tpm.tcti() << "\n"
                << "Manufacturer     " << info.manufacturer << " (" << info.vendorString << ")\n"
                << "Firmware         " << info.firmwareVersion << "\n"
                << "Specification    " << info.specification << "\n"
                << "PCR banks        " << joined(info.pcrBanks, ", ") << "\n"
                << "Lockout          " << lockoutText(info) << "\n"
                << "Endorsement key  " << ekText << "\n";
        }
        return out.good() ? 0 : 1;
    } catch (const attestation::TpmError &e) {
        err << "vigilctl: " << e.what() << "\n";
        return 1;
    }
}

int runTpmQuote(const TpmCommandOptions &options, const std::vector<std::uint8_t> &nonce,
                const std::vector<unsigned> &pcrs, const std::filesystem::path &outDirectory,
                std::ostream &out, std::ostream &err)
{
    try {
        auto tpm = std::make_shared<attestation::Tpm>(options.tcti);
        attestation::TpmIdentity identity(tpm, options.stateDirectory / "tpm");
        const protocol::QuoteEvidence quote = identity.quote(nonce, pcrs);
        // Check our own output with the verifier's code before handing it out.
        const auto verified =
            attestation::verifyQuote(quote, identity.attestationKeyPublic(), nonce);

        std::filesystem::create_directories(outDirectory);
        writeFile(outDirectory / "quote.msg", quote.attest);
        writeFile(outDirectory / "quote.sig", quote.signature);
        writeFile(outDirectory / "quote.pcrs", serializedPcrFile(quote.pcrs));
        writeFile(outDirectory / "ak.pub", identity.attestationKeyPublic());

        const std::string hexNonce = toHex(nonce);
        if (options.json) {
            nlohmann::json pcrValues = nlohmann::json::object();
            for (const auto &[pcr, value] : quote.pcrs)
                pcrValues[std::to_string(pcr)] = toHex(value);
            out << nlohmann::json{{"directory", outDirectory.string()},
                                  {"nonce", hexNonce},
                                  {"pcrs", pcrValues},
                                  {"clock", verified.clockInfo.clock},
                                  {"reset_count", verified.clockInfo.resetCount},
                                  {"restart_count", verified.clockInfo.restartCount}}
                       .dump(2)
                << "\n";
        } else {
            out << "Wrote quote.msg, quote.sig, quote.pcrs and ak.pub to " << outDirectory.string()
                << "\nCheck with: tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -f "
                   "quote.pcrs -g sha256 -q "
                << hexNonce << "\n";
        }
        return out.good() ? 0 : 1;
    } catch (const attestation::TpmError &e) {
        err << "vigilctl: " << e.what() << "\n";
    } catch (const attestation::EvidenceException &e) {
        err << "vigilctl: the TPM's quote does not verify ("
            << attestation::evidenceErrorName(e.error()) << "): " << e.what() << "\n";
    } catch (const std::exception &e) {
        err << "vigilctl: " << e.what() << "\n";
    }
    return 1;
}

} // namespace vigil::app
