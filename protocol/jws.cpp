#include "jws.h"

#include "ecdsasignature.h"
#include "jwk.h"
#include "tpmalgorithm.h"

#include <vector>

namespace vigil::protocol {

namespace {

using attestation::Bytes;

constexpr std::size_t signatureSize = 64;

// A short, printable rendering of an attacker-chosen string for an error message.
std::string printable(std::string_view value)
{
    constexpr std::size_t maxShown = 32;
    if (value.size() > maxShown)
        return "(" + std::to_string(value.size()) + " bytes)";
    for (char c : value)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return "(unprintable)";
    return "\"" + std::string(value) + "\"";
}

std::string encode(std::string_view text)
{
    return attestation::base64UrlEncode(
        std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
}

Bytes digestOf(std::string_view text)
{
    return attestation::tpmHash(
        EVP_sha256(), std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
}

Bytes decodePart(std::string_view part, const char *name)
{
    auto decoded = attestation::base64UrlDecode(part);
    if (!decoded)
        throw JoseError(std::string("JWS ") + name + " is not unpadded base64url");
    return std::move(*decoded);
}

// Builds the document as nlohmann's own parser does, but refuses what JOSE parsers may disagree
// on: nlohmann keeps the last of duplicate members, and deep nesting costs stack. The object
// under construction is its own record of the member names seen, so a duplicate costs one map
// lookup. (A parser callback did the same with a set of names per object; parsing this way
// takes about a sixth less of the verifier's time.)
class StrictJsonBuilder
{
public:
    using json = nlohmann::json;

    nlohmann::json take() { return std::move(m_root); }
    const std::string &failure() const { return m_failure; }

    bool null() { return place(nullptr); }
    bool boolean(bool value) { return place(value); }
    bool number_integer(json::number_integer_t value) { return place(value); }
    bool number_unsigned(json::number_unsigned_t value) { return place(value); }
    bool number_float(json::number_float_t value, const json::string_t &) { return place(value); }
    bool string(json::string_t &value) { return place(std::move(value)); }
    bool binary(json::binary_t &) { return fail("holds binary data"); } // not in JSON text

    bool start_object(std::size_t) { return open(json::value_t::object); }
    bool start_array(std::size_t) { return open(json::value_t::array); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(json::string_t &name)
    {
        auto &members = m_open.back()->get_ref<json::object_t &>();
        const auto [member, added] = members.try_emplace(std::move(name));
        if (!added)
            return fail("has the member name " + printable(member->first) + " more than once");
        m_member = &member->second;
        return true;
    }

    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &)
    {
        return fail("is not valid UTF-8 JSON");
    }

private:
    template<typename Value>
    bool place(Value &&value)
    {
        slot() = json(std::forward<Value>(value));
        return true;
    }

    // Where the next value goes: the root, the end of the open array, or the member whose
    // name was just read.
    json &slot()
    {
        if (m_open.empty())
            return m_root;
        json &container = *m_open.back();
        if (container.is_array())
            return container.get_ref<json::array_t &>().emplace_back();
        return *m_member;
    }

    bool open(json::value_t type)
    {
        if (m_open.size() >= static_cast<std::size_t>(maxJsonDepth))
            return fail("nests deeper than " + std::to_string(maxJsonDepth) + " levels");
        json &container = slot();
        container = json(type);
        m_open.push_back(&container);
        return true;
    }

    bool close()
    {
        m_open.pop_back();
        return true;
    }

    bool fail(std::string reason)
    {
        m_failure = std::move(reason);
        return false;
    }

    json m_root;
    std::vector<json *> m_open;
    json *m_member = nullptr;
    std::string m_failure;
};

} // namespace

nlohmann::json parseJsonObject(std::string_view text, std::string_view what)
{
    if (text.starts_with("\xEF\xBB\xBF"))
        throw JoseError(std::string(what) + " starts with a byte order mark");
    StrictJsonBuilder builder;
    if (!nlohmann::json::sax_parse(text.begin(), text.end(), &builder))
        throw JoseError(std::string(what) + " " + builder.failure());
    nlohmann::json json = builder.take();
    if (!json.is_object())
        throw JoseError(std::string(what) + " is not a JSON object");
    return json;
}

std::string signJws(nlohmann::json header, std::string_view payload, attestation::DeviceKey &signer)
{
    if (!header.is_object())
        throw JoseError("JWS header is not a JSON object");
    if (header.contains("crit"))
        throw JoseError("JWS header has \"crit\"; no JWS extension is understood");
    header["alg"] = "ES256";
    std::string headerText;
    try {
        headerText = header.dump();
    } catch (const nlohmann::json::exception &) {
        throw JoseError("JWS header is not valid UTF-8 JSON");
    }
    std::string signingInput = encode(headerText) + "." + encode(payload);
    const Bytes signature = signer.sign(digestOf(signingInput));
    if (signature.size() != signatureSize)
        throw attestation::KeyError("the signer returned a " + std::to_string(signature.size()) +
                                    "-byte signature; ES256 needs 64 bytes r||s");
    return signingInput + "." + attestation::base64UrlEncode(signature);
}

Jws parseJws(std::string_view compact, std::size_t maxLength)
{
    if (compact.size() > maxLength)
        throw JoseError("JWS is " + std::to_string(compact.size()) + " bytes; the limit is " +
                        std::to_string(maxLength));
    const auto first = compact.find('.');
    const auto second = first == std::string_view::npos ? first : compact.find('.', first + 1);
    if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos)
        throw JoseError("JWS compact serialisation must have exactly 3 parts separated by '.'");

    const std::string_view headerPart = compact.substr(0, first);
    const std::string_view payloadPart = compact.substr(first + 1, second - first - 1);
    const std::string_view signaturePart = compact.substr(second + 1);

    const Bytes headerBytes = decodePart(headerPart, "header");
    Jws jws;
    jws.header = parseJsonObject(
        std::string_view(reinterpret_cast<const char *>(headerBytes.data()), headerBytes.size()),
        "JWS header");

    // The algorithm is decided before anything else is looked at, and only ES256 passes.
    const auto alg = jws.header.find("alg");
    if (alg == jws.header.end())
        throw JoseError("JWS header has no \"alg\"");
    if (!alg->is_string())
        throw JoseError("JWS header \"alg\" is not a string");
    if (alg->get_ref<const std::string &>() != "ES256")
        throw JoseError("JWS algorithm " + printable(alg->get_ref<const std::string &>()) +
                        " is not accepted; only \"ES256\" is");
    if (jws.header.contains("crit"))
        throw JoseError("JWS header has \"crit\"; no JWS extension is understood");
    for (const char *name : {"typ", "cty", "kid"}) {
        const auto it = jws.header.find(name);
        if (it != jws.header.end() && !it->is_string())
            throw JoseError(std::string("JWS header \"") + name + "\" is not a string");
    }

    const Bytes payloadBytes = decodePart(payloadPart, "payload");
    jws.payload.assign(payloadBytes.begin(), payloadBytes.end());
    jws.signature = decodePart(signaturePart, "signature");
    if (jws.signature.size() != signatureSize)
        throw JoseError("JWS signature is " + std::to_string(jws.signature.size()) +
                        " bytes; ES256 needs 64 bytes r||s");
    jws.signingInput = std::string(compact.substr(0, second));
    return jws;
}

namespace {

bool stillEs256(const Jws &jws)
{
    const auto alg = jws.header.find("alg");
    return jws.header.is_object() && alg != jws.header.end() && *alg == "ES256" &&
           !jws.header.contains("crit") && jws.signature.size() == signatureSize;
}

} // namespace

bool verifyJws(const Jws &jws, const attestation::EcPublicKey &key)
{
    return verifyJws(jws, attestation::toEvpPkey(key).get());
}

bool verifyJws(const Jws &jws, EVP_PKEY *key)
{
    return stillEs256(jws) &&
           attestation::verifyEs256(key, digestOf(jws.signingInput), jws.signature);
}

} // namespace vigil::protocol
