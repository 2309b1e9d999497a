#include "attestation/tpmkdf.h"

#include "core/opensslptr.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <stdexcept>
#include <string>

namespace vigil::attestation {

namespace {

const char *digestName(TPM2_ALG_ID hashAlg)
{
    switch (hashAlg) {
    case TPM2_ALG_SHA1:
        return "SHA1";
    case TPM2_ALG_SHA256:
        return "SHA256";
    case TPM2_ALG_SHA384:
        return "SHA384";
    case TPM2_ALG_SHA512:
        return "SHA512";
    default:
        throw std::invalid_argument("TPM KDF: unsupported hash algorithm 0x" +
                                    toHex(Bytes{static_cast<std::uint8_t>(hashAlg >> 8),
                                                static_cast<std::uint8_t>(hashAlg)}));
    }
}

void checkBits(std::uint32_t bits)
{
    if (bits == 0 || bits % 8 != 0)
        throw std::invalid_argument("TPM KDF: output length must be a positive multiple of 8 "
                                    "bits, not " +
                                    std::to_string(bits));
}

void appendBe32(Bytes &out, std::uint32_t value)
{
    out.push_back(static_cast<std::uint8_t>(value >> 24));
    out.push_back(static_cast<std::uint8_t>(value >> 16));
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

void appendLabel(Bytes &out, std::string_view label)
{
    if (label.empty())
        return;
    out.insert(out.end(), label.begin(), label.end());
    out.push_back(0);
}

void append(Bytes &out, std::span<const std::uint8_t> bytes)
{
    out.insert(out.end(), bytes.begin(), bytes.end());
}

// The block inputs may hold a shared secret (KDFe's Z); wipe them before they are freed.
struct WipedBytes
{
    Bytes bytes;
    ~WipedBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

} // namespace

Bytes kdfa(TPM2_ALG_ID hashAlg, std::span<const std::uint8_t> key, std::string_view label,
           std::span<const std::uint8_t> contextU, std::span<const std::uint8_t> contextV,
           std::uint32_t bits)
{
    const char *digest = digestName(hashAlg);
    checkBits(bits);

    const EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac)
        throw std::runtime_error("TPM KDF: HMAC unavailable: " + openSslError());
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char *>(digest), 0),
        OSSL_PARAM_construct_end()};

    Bytes out;
    out.reserve(bits / 8 + EVP_MAX_MD_SIZE);
    WipedBytes block;
    for (std::uint32_t counter = 1; out.size() < bits / 8; ++counter) {
        block.bytes.clear();
        appendBe32(block.bytes, counter);
        appendLabel(block.bytes, label);
        append(block.bytes, contextU);
        append(block.bytes, contextV);
        appendBe32(block.bytes, bits);

        const EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
        unsigned char result[EVP_MAX_MD_SIZE];
        size_t length = 0;
        if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
            EVP_MAC_update(ctx.get(), block.bytes.data(), block.bytes.size()) != 1 ||
            EVP_MAC_final(ctx.get(), result, &length, sizeof result) != 1)
            throw std::runtime_error("TPM KDFa: HMAC failed: " + openSslError());
        out.insert(out.end(), result, result + length);
        OPENSSL_cleanse(result, sizeof result);
    }
    OPENSSL_cleanse(out.data() + bits / 8, out.size() - bits / 8);
    out.resize(bits / 8);
    return out;
}

Bytes kdfe(TPM2_ALG_ID hashAlg, std::span<const std::uint8_t> z, std::string_view label,
           std::span<const std::uint8_t> partyUInfo, std::span<const std::uint8_t> partyVInfo,
           std::uint32_t bits)
{
    const char *digest = digestName(hashAlg);
    checkBits(bits);

    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (!md)
        throw std::runtime_error(std::string("TPM KDFe: digest unavailable: ") + digest);

    Bytes out;
    out.reserve(bits / 8 + EVP_MAX_MD_SIZE);
    WipedBytes block;
    for (std::uint32_t counter = 1; out.size() < bits / 8; ++counter) {
        block.bytes.clear();
        appendBe32(block.bytes, counter);
        append(block.bytes, z);
        appendLabel(block.bytes, label);
        append(block.bytes, partyUInfo);
        append(block.bytes, partyVInfo);

        unsigned char result[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (EVP_Digest(block.bytes.data(), block.bytes.size(), result, &length, md, nullptr) != 1)
            throw std::runtime_error("TPM KDFe: hash failed: " + openSslError());
        out.insert(out.end(), result, result + length);
        OPENSSL_cleanse(result, sizeof result);
    }
    OPENSSL_cleanse(out.data() + bits / 8, out.size() - bits / 8);
    out.resize(bits / 8);
    return out;
}

} // namespace vigil::attestation
