#include "attestation/eventlogreplay.h"

#include "attestation/eventlogdetail.h"
#include "core/opensslptr.h"

#include <algorithm>
#include <array>
#include <openssl/evp.h>

namespace vigil::attestation {

namespace {

// The signature is 16 bytes including its terminating NUL.
constexpr std::array<std::uint8_t, 16> startupLocalitySignature{
    'S', 't', 'a', 'r', 't', 'u', 'p', 'L', 'o', 'c', 'a', 'l', 'i', 't', 'y', 0};

using EvpMdPtr = std::unique_ptr<EVP_MD, OpenSslDeleter<EVP_MD_free>>;

EvpMdPtr fetchDigest(std::uint16_t algorithm)
{
    const auto *known = eventlogdetail::knownAlgorithm(algorithm);
    if (!known)
        return nullptr;
    return EvpMdPtr(EVP_MD_fetch(nullptr, known->openSslName, nullptr));
}

// H(value || digest); nullopt only if OpenSSL fails.
std::optional<Bytes> extend(const EVP_MD *md, const Bytes &value, const Bytes &digest)
{
    EvpMdCtxPtr context(EVP_MD_CTX_new());
    Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
    unsigned int size = 0;
    if (!context || EVP_DigestInit_ex(context.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), value.data(), value.size()) != 1 ||
        EVP_DigestUpdate(context.get(), digest.data(), digest.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), out.data(), &size) != 1 || size != out.size())
        return std::nullopt;
    return out;
}

bool isStartupLocality(const EventLogEvent &event)
{
    return event.type == evNoAction && event.pcrIndex == 0 &&
           event.data.size() == startupLocalitySignature.size() + 1 &&
           std::equal(startupLocalitySignature.begin(), startupLocalitySignature.end(),
                      event.data.begin());
}

} // namespace

EventLogPcrBanks replayEventLog(const EventLog &log)
{
    std::map<std::uint16_t, EvpMdPtr> digests;
    EventLogPcrBanks banks;
    for (const auto &algorithm : log.algorithms) {
        if (auto md = fetchDigest(algorithm.id)) {
            digests.emplace(algorithm.id, std::move(md));
            banks[algorithm.id];
        }
    }

    bool pcr0Measured = false;
    for (const auto &event : log.events) {
        if (event.type == evNoAction) {
            // The locality TPM2_Startup came from is PCR 0's starting value; it is only
            // meaningful before anything was measured into PCR 0.
            if (isStartupLocality(event) && !pcr0Measured) {
                for (auto &[id, bank] : banks) {
                    Bytes initial(static_cast<std::size_t>(EVP_MD_get_size(digests.at(id).get())));
                    initial.back() = event.data.back();
                    bank[0] = std::move(initial);
                }
            }
            continue;
        }
        for (const auto &digest : event.digests) {
            const auto md = digests.find(digest.algorithm);
            if (md == digests.end())
                continue;
            auto &bank = banks[digest.algorithm];
            auto value = bank.find(event.pcrIndex);
            if (value == bank.end()) {
                value =
                    bank.emplace(event.pcrIndex,
                                 Bytes(static_cast<std::size_t>(EVP_MD_get_size(md->second.get()))))
                        .first;
            }
            if (auto next = extend(md->second.get(), value->second, digest.digest))
                value->second = std::move(*next);
        }
        if (event.pcrIndex == 0)
            pcr0Measured = true;
    }
    return banks;
}

protocol::PcrValues replaySha256(const EventLog &log)
{
    auto banks = replayEventLog(log);
    const auto sha256 = banks.find(tpmAlgSha256);
    return sha256 == banks.end() ? protocol::PcrValues{} : std::move(sha256->second);
}

} // namespace vigil::attestation
