#include "protocol/jose/dpop.h"

#include "core/bytes.h"
#include "core/opensslptr.h"
#include "core/sha256.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"

#include <algorithm>
#include <array>
#include <openssl/rand.h>

namespace vigil::protocol {

namespace {

using Code = DpopError::Code;

DpopError invalid(const std::string &message)
{
    return DpopError(Code::InvalidProof, message);
}

DpopError replayed()
{
    return invalid("DPoP proof \"jti\" has already been used (replay)");
}

bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isUnreserved(char c)
{
    return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool isSubDelim(char c)
{
    return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

// RFC 3986 section 6.2.2.1 and 6.2.2.2: percent-encodings upper-case, unreserved ones decoded.
std::string normalisePath(std::string_view path)
{
    constexpr char hexDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '%') {
            const int high = i + 2 < path.size() ? hexDigitValue(path[i + 1]) : -1;
            const int low = i + 2 < path.size() ? hexDigitValue(path[i + 2]) : -1;
            if (high < 0 || low < 0)
                throw JoseError("URI path has a '%' that is not followed by two hex digits");
            const char decoded = static_cast<char>(high * 16 + low);
            if (isUnreserved(decoded)) {
                out.push_back(decoded);
            } else {
                out.push_back('%');
                out.push_back(hexDigits[high]);
                out.push_back(hexDigits[low]);
            }
            i += 2;
        } else if (isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/') {
            out.push_back(c);
        } else {
            throw JoseError("URI path has a character RFC 3986 does not allow there");
        }
    }
    return out;
}

// RFC 3986 section 5.2.4 for a path that is empty or starts with '/'.
std::string removeDotSegments(std::string_view input)
{
    std::string output;
    auto dropLastSegment = [&output] {
        const auto slash = output.rfind('/');
        output.erase(slash == std::string::npos ? 0 : slash);
    };
    while (!input.empty()) {
        if (input.starts_with("../")) {
            input.remove_prefix(3);
        } else if (input.starts_with("./")) {
            input.remove_prefix(2);
        } else if (input.starts_with("/./")) {
            input.remove_prefix(2);
        } else if (input == "/.") {
            input = "/";
        } else if (input.starts_with("/../")) {
            input.remove_prefix(3);
            dropLastSegment();
        } else if (input == "/..") {
            input = "/";
            dropLastSegment();
        } else if (input == "." || input == "..") {
            input = {};
        } else {
            const auto end = input.find('/', input.starts_with('/') ? 1 : 0);
            const auto segment = input.substr(0, end);
            output.append(segment);
            input.remove_prefix(segment.size());
        }
    }
    return output;
}

// The port without leading zeros, or "" for an empty or default port.
std::string normalisePort(std::string_view port, std::string_view scheme)
{
    if (port.empty())
        return {};
    if (!std::all_of(port.begin(), port.end(), isDigit))
        throw JoseError("URI port is not a decimal number");
    port.remove_prefix(std::min(port.find_first_not_of('0'), port.size() - 1));
    if (port.size() > 5 || std::stoul(std::string(port)) > 65535)
        throw JoseError("URI port is greater than 65535");
    if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443"))
        return {};
    return std::string(port);
}

std::string normaliseHost(std::string_view host)
{
    if (host.empty())
        throw JoseError("URI has no host");
    if (host.front() == '[') {
        // An IPv6 literal (RFC 3986 section 3.2.2); IPvFuture is not accepted.
        if (host.size() < 3 || host.back() != ']' ||
            !std::all_of(host.begin() + 1, host.end() - 1,
                         [](char c) { return hexDigitValue(c) >= 0 || c == ':' || c == '.'; }))
            throw JoseError("URI host is not a valid IPv6 literal");
        return lowered(host);
    }
    // Registered names and IPv4 addresses; percent-encoded or sub-delimiter hosts are not real
    // HTTP hosts and are refused rather than normalised.
    if (!std::all_of(host.begin(), host.end(), isUnreserved))
        throw JoseError("URI host has a character other than letters, digits, '-', '.', '_', '~'");
    return lowered(host);
}

std::string randomJti()
{
    std::array<std::uint8_t, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw KeyError("RAND_bytes failed: " + openSslError());
    return base64UrlEncode(bytes);
}

const std::string &requiredString(const nlohmann::json &claims, const char *name)
{
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_string())
        throw invalid(std::string("DPoP proof has no \"") + name + "\" string claim");
    return it->get_ref<const std::string &>();
}

} // namespace

std::string accessTokenHash(std::string_view accessToken)
{
    return base64UrlEncode(sha256(accessToken));
}

std::string normaliseHtu(std::string_view uri)
{
    if (!std::all_of(uri.begin(), uri.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
        throw JoseError("URI has a space, control or non-ASCII character");
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos)
        throw JoseError("URI has no scheme");
    const std::string scheme = lowered(uri.substr(0, colon));
    if (scheme != "http" && scheme != "https")
        throw JoseError("URI scheme is not http or https");
    std::string_view rest = uri.substr(colon + 1);
    if (!rest.starts_with("//"))
        throw JoseError("URI has no authority (\"//host\")");
    rest.remove_prefix(2);

    // Query and fragment are not part of htu (RFC 9449 section 4.2).
    rest = rest.substr(0, rest.find_first_of("?#"));
    const auto pathStart = std::min(rest.find('/'), rest.size());
    const std::string_view authority = rest.substr(0, pathStart);
    const std::string_view path = rest.substr(pathStart);

    if (authority.find('@') != std::string_view::npos)
        throw JoseError("URI has userinfo, which HTTP URIs must not carry");
    std::string_view host = authority;
    std::string_view port;
    const auto portColon =
        authority.starts_with('[') ? authority.find(':', authority.find(']')) : authority.find(':');
    if (portColon != std::string_view::npos) {
        host = authority.substr(0, portColon);
        port = authority.substr(portColon + 1);
    }

    std::string out = scheme + "://" + normaliseHost(host);
    const std::string normalisedPort = normalisePort(port, scheme);
    if (!normalisedPort.empty())
        out += ":" + normalisedPort;
    const std::string normalisedPath = removeDotSegments(normalisePath(path));
    out += normalisedPath.empty() ? "/" : normalisedPath;
    return out;
}

std::string createDpopProof(DeviceKey &key, const DpopProofRequest &request)
{
    if (request.htm.empty())
        throw JoseError("DPoP proof needs an HTTP method (htm)");
    if (request.jti.size() > maxDpopJtiLength)
        throw JoseError("DPoP proof \"jti\" must be 1 to 256 bytes");
    nlohmann::json claims{
        {"jti", request.jti.empty() ? randomJti() : request.jti},
        {"htm", request.htm},
        {"htu", normaliseHtu(request.htu)},
        {"iat", std::chrono::floor<std::chrono::seconds>(request.iat.time_since_epoch()).count()}};
    if (request.accessToken)
        claims["ath"] = accessTokenHash(*request.accessToken);
    if (request.nonce)
        claims["nonce"] = *request.nonce;
    const nlohmann::json header{{"typ", dpopProofType}, {"jwk", key.publicJwk()}};
    return signJws(header, claims.dump(), key);
}

DpopValidator::DpopValidator(DpopValidatorOptions options)
    : m_options(options), m_seen(options.maxJtis)
{
    m_options.iatWindow = std::max(m_options.iatWindow, std::chrono::seconds(0));
}

std::size_t DpopValidator::cachedJtis(std::chrono::system_clock::time_point now)
{
    return m_seen.live(epochSeconds(now));
}

ValidatedDpop DpopValidator::validate(std::string_view proof, std::string_view htm,
                                      std::string_view htu,
                                      std::chrono::system_clock::time_point now,
                                      const std::optional<std::string> &accessToken,
                                      const std::optional<std::string> &expectedNonce)
{
    ValidatedDpop result = check(proof, htm, htu, now, accessToken, expectedNonce);
    recordUse(result, now);
    return result;
}

ValidatedDpop DpopValidator::check(std::string_view proof, std::string_view htm,
                                   std::string_view htu, std::chrono::system_clock::time_point now,
                                   const std::optional<std::string> &accessToken,
                                   const std::optional<std::string> &expectedNonce) const
{
    // The request URI is built from the client's request target, so it is outside input too.
    std::string expectedHtu;
    try {
        expectedHtu = normaliseHtu(htu);
    } catch (const JoseError &e) {
        throw invalid(std::string("DPoP request URI: ") + e.what());
    }

    Jws jws;
    try {
        jws = parseJws(proof, maxDpopProofLength);
    } catch (const JoseError &e) {
        throw invalid(std::string("DPoP proof: ") + e.what());
    }
    const auto typ = jws.header.find("typ");
    if (typ == jws.header.end())
        throw invalid("DPoP proof header has no \"typ\"");
    if (!typMatches(typ->get_ref<const std::string &>(), dpopProofType))
        throw invalid("DPoP proof header \"typ\" is not \"dpop+jwt\"");
    const auto jwk = jws.header.find("jwk");
    if (jwk == jws.header.end())
        throw invalid("DPoP proof header has no \"jwk\"");
    ValidatedDpop result;
    try {
        result.key = parseEcPublicJwk(*jwk);
    } catch (const JwkError &e) {
        throw invalid(std::string("DPoP proof header \"jwk\": ") + e.what());
    }
    if (!verifyJws(jws, result.key))
        throw invalid("DPoP proof signature does not verify with its \"jwk\"");

    nlohmann::json claims;
    try {
        claims = parseJsonObject(jws.payload, "DPoP proof claim set");
    } catch (const JoseError &e) {
        throw invalid(e.what());
    }
    result.jti = requiredString(claims, "jti");
    if (result.jti.empty() || result.jti.size() > maxDpopJtiLength)
        throw invalid("DPoP proof \"jti\" must be 1 to 256 bytes");
    const std::string &proofHtm = requiredString(claims, "htm");
    const std::string &proofHtu = requiredString(claims, "htu");
    const auto iatClaim = claims.find("iat");
    if (iatClaim == claims.end())
        throw invalid("DPoP proof has no \"iat\" claim");
    double &iat = result.iat;
    try {
        iat = numericDate(*iatClaim, "iat");
    } catch (const JwtError &) {
        throw invalid("DPoP proof \"iat\" is not a NumericDate (a number of seconds from 0 to "
                      "2^53)");
    }

    if (proofHtm != htm)
        throw invalid("DPoP proof \"htm\" does not match the request method");
    std::string normalisedProofHtu;
    try {
        normalisedProofHtu = normaliseHtu(proofHtu);
    } catch (const JoseError &e) {
        throw invalid(std::string("DPoP proof \"htu\": ") + e.what());
    }
    if (normalisedProofHtu != expectedHtu)
        throw invalid("DPoP proof \"htu\" does not match the request URI");

    if (expectedNonce) {
        const auto nonce = claims.find("nonce");
        if (nonce == claims.end())
            throw DpopError(Code::UseNonce, "DPoP proof has no \"nonce\"; the server requires one");
        if (!nonce->is_string() ||
            !constantTimeEqual(toBytes(nonce->get_ref<const std::string &>()),
                               toBytes(*expectedNonce)))
            throw DpopError(Code::UseNonce, "DPoP proof \"nonce\" is not the current server nonce");
    }

    const double nowSeconds = epochSeconds(now);
    const auto window = static_cast<double>(m_options.iatWindow.count());
    if (iat < nowSeconds - window)
        throw invalid("DPoP proof \"iat\" is too old");
    if (iat > nowSeconds + window)
        throw invalid("DPoP proof \"iat\" is too far in the future");

    if (accessToken) {
        const auto ath = claims.find("ath");
        if (ath == claims.end())
            throw invalid("DPoP proof has no \"ath\" claim for the access token");
        if (!ath->is_string() || !constantTimeEqual(toBytes(ath->get_ref<const std::string &>()),
                                                    toBytes(accessTokenHash(*accessToken))))
            throw invalid("DPoP proof \"ath\" does not match the access token");
    }

    result.jkt = jwkThumbprint(result.key);
    if (m_seen.contains(result.jkt, result.jti))
        throw replayed();
    return result;
}

void DpopValidator::recordUse(const ValidatedDpop &proof, std::chrono::system_clock::time_point now)
{
    const auto window = static_cast<double>(m_options.iatWindow.count());
    switch (m_seen.record(proof.jkt, proof.jti, proof.iat + window, epochSeconds(now))) {
    case ReplayCache::Outcome::Recorded:
        return;
    case ReplayCache::Outcome::Replayed:
        throw replayed();
    case ReplayCache::Outcome::Full:
        // Forgetting a live jti would let its proof be replayed, so a full cache refuses.
        throw invalid("DPoP replay cache is full of live proofs; proof refused");
    }
}

} // namespace vigil::protocol
