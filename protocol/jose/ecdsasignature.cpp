#include "protocol/jose/ecdsasignature.h"

#include "core/opensslptr.h"
#include "protocol/jose/jwk.h"

#include <algorithm>
#include <array>
#include <string>

namespace vigil::protocol {

namespace {

constexpr std::size_t scalarSize = 32;

// The order n of the P-256 base point (SEC 2 section 2.4.2), big-endian.
constexpr std::array<std::uint8_t, scalarSize> p256Order{
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

// Scalars here are public signature values, so ordinary comparisons are fine.
void requireInRange(std::span<const std::uint8_t> scalar, const char *name)
{
    if (std::all_of(scalar.begin(), scalar.end(), [](std::uint8_t b) { return b == 0; }))
        throw SignatureError(std::string("ECDSA signature ") + name + " is zero");
    if (!std::lexicographical_compare(scalar.begin(), scalar.end(), p256Order.begin(),
                                      p256Order.end()))
        throw SignatureError(std::string("ECDSA signature ") + name +
                             " is not less than the P-256 group order");
}

// Reads one DER INTEGER at der[offset] into out (32 bytes, left-padded) and advances offset.
void readInteger(std::span<const std::uint8_t> der, std::size_t &offset, const char *name,
                 std::uint8_t *out)
{
    const std::string what = std::string("ECDSA signature DER: ") + name;
    if (der.size() - offset < 2)
        throw SignatureError(what + " is truncated");
    if (der[offset] != 0x02)
        throw SignatureError(what + " is not an INTEGER");
    const std::size_t length = der[offset + 1];
    if (length & 0x80)
        throw SignatureError(what + " uses a long-form length");
    offset += 2;
    if (length == 0)
        throw SignatureError(what + " is empty");
    if (der.size() - offset < length)
        throw SignatureError(what + " is truncated");
    auto value = der.subspan(offset, length);
    offset += length;
    if (value[0] & 0x80)
        throw SignatureError(what + " is negative");
    if (value.size() > 1 && value[0] == 0x00 && !(value[1] & 0x80))
        throw SignatureError(what + " is not minimally encoded");
    if (value[0] == 0x00 && value.size() > 1)
        value = value.subspan(1);
    if (value.size() > scalarSize)
        throw SignatureError(what + " is longer than 32 bytes");
    std::fill(out, out + scalarSize - value.size(), 0);
    std::copy(value.begin(), value.end(), out + scalarSize - value.size());
}

void writeInteger(std::span<const std::uint8_t> scalar, Bytes &out)
{
    auto first = std::find_if(scalar.begin(), scalar.end(), [](std::uint8_t b) { return b != 0; });
    // requireInRange has excluded zero, so first points at a byte.
    const bool signByte = *first & 0x80;
    const auto length = std::size_t(scalar.end() - first) + (signByte ? 1 : 0);
    out.push_back(0x02);
    out.push_back(static_cast<std::uint8_t>(length));
    if (signByte)
        out.push_back(0x00);
    out.insert(out.end(), first, scalar.end());
}

} // namespace

Bytes ecdsaDerToRaw(std::span<const std::uint8_t> der)
{
    if (der.size() < 2)
        throw SignatureError("ECDSA signature DER is truncated");
    if (der[0] != 0x30)
        throw SignatureError("ECDSA signature DER is not a SEQUENCE");
    // The largest P-256 signature is 72 bytes, so DER requires the short length form.
    if (der[1] & 0x80)
        throw SignatureError("ECDSA signature DER uses a long-form length");
    const std::size_t length = der[1];
    if (der.size() - 2 < length)
        throw SignatureError("ECDSA signature DER is truncated");
    if (der.size() - 2 > length)
        throw SignatureError("ECDSA signature DER has trailing bytes");

    Bytes raw(2 * scalarSize);
    std::size_t offset = 2;
    readInteger(der, offset, "r", raw.data());
    readInteger(der, offset, "s", raw.data() + scalarSize);
    if (offset != der.size())
        throw SignatureError("ECDSA signature DER has bytes after s");
    requireInRange(std::span(raw).first(scalarSize), "r");
    requireInRange(std::span(raw).last(scalarSize), "s");
    return raw;
}

Bytes ecdsaRawToDer(std::span<const std::uint8_t> raw)
{
    if (raw.size() != 2 * scalarSize)
        throw SignatureError("ES256 signature is " + std::to_string(raw.size()) +
                             " bytes; r||s is 64");
    const auto r = raw.first(scalarSize);
    const auto s = raw.last(scalarSize);
    requireInRange(r, "r");
    requireInRange(s, "s");
    Bytes integers;
    writeInteger(r, integers);
    writeInteger(s, integers);
    Bytes der{0x30, static_cast<std::uint8_t>(integers.size())};
    der.insert(der.end(), integers.begin(), integers.end());
    return der;
}

bool verifyEs256(const EcPublicKey &key, std::span<const std::uint8_t> digest,
                 std::span<const std::uint8_t> rawSignature)
{
    return verifyEs256(toEvpPkey(key).get(), digest, rawSignature);
}

bool verifyEs256(EVP_PKEY *pkey, std::span<const std::uint8_t> digest,
                 std::span<const std::uint8_t> rawSignature)
{
    if (digest.size() != scalarSize)
        throw SignatureError("ES256 digest is " + std::to_string(digest.size()) +
                             " bytes; SHA-256 is 32");
    Bytes der;
    try {
        der = ecdsaRawToDer(rawSignature);
    } catch (const SignatureError &) {
        return false;
    }
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0)
        throw KeyError("cannot set up ECDSA verification: " + openSslError());
    const int result =
        EVP_PKEY_verify(ctx.get(), der.data(), der.size(), digest.data(), digest.size());
    if (result != 1)
        openSslError(); // a bad signature leaves an error on the queue; do not leak it
    return result == 1;
}

} // namespace vigil::protocol
