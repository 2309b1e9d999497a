#include "app/client/verifierclient.h"

#include "app/applogging.h"
#include "attestation/tpm/endorsementkey.h"
#include "attestation/tpm/tpmidentity.h"
#include "core/sha256.h"
#include "protocol/jose/dpop.h"
#include "protocol/posturereport.h"

namespace vigil::app {

namespace {

// Reports live five minutes: long enough for a slow link, short enough that a captured one is
// soon useless (the nonce makes it single-use anyway).
constexpr std::chrono::seconds reportLifetime{300};

std::string problemMessage(const protocol::Problem &problem)
{
    std::string message = problem.code + ": " + problem.detail;
    if (!problem.field.empty())
        message += " (at " + problem.field + ")";
    if (!problem.evidenceError.empty())
        message += " (evidence error " + problem.evidenceError + ")";
    return message;
}

// "application/json; charset=utf-8" -> "application/json"
std::string mediaType(const std::string &contentType)
{
    std::string type = contentType.substr(0, contentType.find(';'));
    while (!type.empty() && type.back() == ' ')
        type.pop_back();
    for (char &c : type)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return type;
}

std::optional<int> retryAfter(const HttpsResponse &response)
{
    const auto it = response.headers.find("retry-after");
    if (it == response.headers.end() || it->second.empty() || it->second.size() > 6)
        return std::nullopt;
    int seconds = 0;
    for (char c : it->second) {
        if (c < '0' || c > '9')
            return std::nullopt;
        seconds = seconds * 10 + (c - '0');
    }
    return seconds;
}

// T::fromJson with the contract's errors turned into InvalidResponseError naming the request.
template <typename T> T parseAnswer(const nlohmann::json &body, const std::string &request)
{
    try {
        return T::fromJson(body);
    } catch (const protocol::MessageError &e) {
        throw InvalidResponseError("the verifier's answer to " + request +
                                   " breaks the protocol: " + e.what());
    }
}

} // namespace

VerifierError::VerifierError(protocol::Problem problem, std::optional<int> retryAfterSeconds)
    : std::runtime_error(problemMessage(problem)), m_problem(std::move(problem)),
      m_retryAfter(retryAfterSeconds)
{
}

VerifierClient::VerifierClient(std::string baseUrl, std::filesystem::path caFile,
                               protocol::DeviceKey &key, attestation::TpmIdentity *identity,
                               HttpsTransportOptions transport, Now now)
    : m_baseUrl(std::move(baseUrl)), m_key(key), m_identity(identity), m_now(std::move(now))
{
    while (m_baseUrl.ends_with('/'))
        m_baseUrl.pop_back();
    // normaliseHtu accepts exactly the absolute URLs a proof can name; the scheme must be https.
    try {
        if (!protocol::normaliseHtu(m_baseUrl).starts_with("https://"))
            throw std::invalid_argument("the verifier URL '" + m_baseUrl +
                                        "' is not https://; Vigil talks to its verifier over "
                                        "HTTPS only");
    } catch (const protocol::JoseError &e) {
        throw std::invalid_argument("the verifier URL '" + m_baseUrl +
                                    "' is not usable: " + e.what());
    }
    if (m_baseUrl.find_first_of("?#") != std::string::npos)
        throw std::invalid_argument("the verifier URL '" + m_baseUrl +
                                    "' must not have a query or fragment");
    if (!m_now)
        m_now = [] { return std::chrono::system_clock::now(); };
    m_transport = std::make_unique<HttpsTransport>(std::move(caFile), transport);
}

VerifierClient::~VerifierClient() = default;

long VerifierClient::connectionsOpened() const
{
    return m_transport->connectionsOpened();
}

std::string VerifierClient::dpopProof(const std::string &method, const std::string &url,
                                      const std::optional<std::string> &accessToken)
{
    protocol::DpopProofRequest request;
    request.htm = method;
    request.htu = url;
    request.iat = m_now();
    request.accessToken = accessToken;
    return protocol::createDpopProof(m_key, request);
}

nlohmann::json VerifierClient::exchange(const std::string &method, const std::string &path,
                                        const std::optional<nlohmann::json> &body, bool proof,
                                        const std::optional<std::string> &accessToken,
                                        long expectedStatus)
{
    const std::string url = m_baseUrl + path;
    const std::string request = method + " " + url;
    std::vector<std::string> headers = {"Accept: application/json, application/problem+json"};
    if (accessToken)
        headers.push_back("Authorization: DPoP " + *accessToken);
    if (proof)
        headers.push_back("DPoP: " + dpopProof(method, url, accessToken));
    const HttpsResponse response =
        body ? m_transport->post(url, body->dump(), headers) : m_transport->get(url, headers);

    const std::string type = mediaType(response.contentType);
    if (response.status >= 400 && type == protocol::problemContentType) {
        protocol::Problem problem;
        try {
            problem = protocol::Problem::fromJson(protocol::parseJsonBody(response.body));
        } catch (const protocol::MessageError &e) {
            throw InvalidResponseError("the verifier answered " + request + " with HTTP " +
                                       std::to_string(response.status) +
                                       " and a malformed problem document: " + e.what());
        }
        qCDebug(lcApp, "%s: the verifier refused with %s", request.c_str(), problem.code.c_str());
        throw VerifierError(std::move(problem), retryAfter(response));
    }
    if (response.status != expectedStatus)
        throw InvalidResponseError(
            "the verifier answered " + request + " with HTTP " + std::to_string(response.status) +
            (type.empty() ? std::string() : " (" + type + ")") + " where " +
            std::to_string(expectedStatus) + " or a problem document was expected");
    if (expectedStatus == 204)
        return nullptr; // No Content
    if (type != "application/json")
        throw InvalidResponseError("the verifier's answer to " + request + " is " +
                                   (type.empty() ? std::string("untyped") : type) +
                                   ", not application/json");
    try {
        return protocol::parseJsonBody(response.body);
    } catch (const protocol::MessageError &e) {
        throw InvalidResponseError("the verifier's answer to " + request +
                                   " is not valid JSON: " + e.what());
    }
}

protocol::EnrollmentComplete VerifierClient::enroll(const std::string &enrollmentToken,
                                                    const std::string &hostname)
{
    protocol::EnrollmentRequest request;
    request.enrollmentToken = enrollmentToken;
    request.hostname = hostname;
    request.deviceKey = m_key.publicJwk();
    request.assurance = m_key.assurance();
    attestation::EkType ekType = attestation::EkType::Rsa2048;
    if (m_identity) {
        const attestation::EndorsementKey ek = attestation::readEndorsementKey(m_identity->tpm());
        ekType = ek.type;
        protocol::TpmEnrollment tpm;
        tpm.ekPublic = ek.publicArea;
        tpm.ekCertificate = ek.certificate;
        tpm.akPublic = m_identity->attestationKeyPublic();
        tpm.deviceKeyPublic = m_identity->deviceKeyPublic();
        // Binds the certify to this enrollment: a certify captured elsewhere does not fit.
        tpm.deviceKeyCertify = m_identity->certifyDeviceKey(sha256(enrollmentToken));
        request.tpm = std::move(tpm);
    }

    const std::string path = "/v1/enrollments";
    const nlohmann::json answer = exchange("POST", path, request.toJson(), true, {}, 201);
    protocol::EnrollmentComplete complete;
    if (m_identity) {
        const auto challenge =
            parseAnswer<protocol::EnrollmentChallenge>(answer, "POST " + m_baseUrl + path);
        protocol::ActivationRequest activation;
        activation.secret = m_identity->activateCredential(ekType, challenge.credential);
        const std::string activationPath = path + "/" + challenge.enrollmentId + "/activation";
        complete = parseAnswer<protocol::EnrollmentComplete>(
            exchange("POST", activationPath, activation.toJson(), true, {}, 200),
            "POST " + m_baseUrl + activationPath);
    } else {
        complete = parseAnswer<protocol::EnrollmentComplete>(answer, "POST " + m_baseUrl + path);
    }
    if (complete.assurance != m_key.assurance())
        throw InvalidResponseError(
            "the verifier enrolled this device with assurance '" +
            std::string(protocol::assuranceName(complete.assurance)) + "', not the '" +
            std::string(protocol::assuranceName(m_key.assurance())) + "' it asked for");
    m_deviceId = complete.deviceId;
    return complete;
}

protocol::NonceResponse VerifierClient::nonce()
{
    const std::string path = "/v1/nonces";
    return parseAnswer<protocol::NonceResponse>(
        exchange("POST", path, protocol::NonceRequest{}.toJson(), true, {}, 200),
        "POST " + m_baseUrl + path);
}

protocol::Appraisal VerifierClient::report(const nlohmann::json &posture, const std::string &nonce,
                                           const std::vector<unsigned> &pcrs)
{
    if (m_deviceId.empty())
        throw std::logic_error("VerifierClient::report needs the device id (enroll or "
                               "setDeviceId first)");
    protocol::PostureReport report;
    report.nonce = nonce;
    report.iat = m_now();
    report.exp = report.iat + reportLifetime;
    report.jti = protocol::randomJti();
    report.ueid = protocol::ueidForKey(m_key.publicKey());
    report.swversion = VIGIL_VERSION;
    report.posture = posture;
    if (m_identity) {
        const auto nonceBytes = base64UrlDecode(nonce);
        if (!nonceBytes)
            throw InvalidResponseError("the verifier's nonce is not base64url");
        report.tpm = protocol::TpmClaims{m_identity->quote(*nonceBytes, pcrs), std::nullopt};
    }
    protocol::ReportRequest request;
    request.report = protocol::signPostureReport(report, m_deviceId, m_key);

    const std::string path = "/v1/reports";
    // No DPoP proof: the report is itself signed by the device key and answers a nonce.
    return parseAnswer<protocol::Appraisal>(
        exchange("POST", path, request.toJson(), false, {}, 200), "POST " + m_baseUrl + path);
}

protocol::TokenResponse VerifierClient::token()
{
    const std::string path = "/v1/tokens";
    return parseAnswer<protocol::TokenResponse>(
        exchange("POST", path, protocol::TokenRequest{}.toJson(), true, {}, 200),
        "POST " + m_baseUrl + path);
}

protocol::WhoAmI VerifierClient::whoami(const std::string &accessToken)
{
    const std::string path = "/v1/whoami";
    return parseAnswer<protocol::WhoAmI>(
        exchange("GET", path, std::nullopt, true, accessToken, 200), "GET " + m_baseUrl + path);
}

protocol::Health VerifierClient::health()
{
    const std::string path = "/v1/health";
    return parseAnswer<protocol::Health>(exchange("GET", path, std::nullopt, false, {}, 200),
                                         "GET " + m_baseUrl + path);
}

std::string VerifierClient::userPath(const std::string &userId, const std::string &rest)
{
    return "/v1/users/" + userId + rest;
}

protocol::UserEnrollmentResponse
VerifierClient::enrollUser(const protocol::UserEnrollmentRequest &request)
{
    const std::string path = "/v1/users/enrollments";
    return parseAnswer<protocol::UserEnrollmentResponse>(
        exchange("POST", path, request.toJson(), true, {}, 201), "POST " + m_baseUrl + path);
}

protocol::TotpEnrollment VerifierClient::beginTotp(const std::string &userId,
                                                   const std::string &userProof)
{
    const std::string path = userPath(userId, "/totp");
    return parseAnswer<protocol::TotpEnrollment>(
        exchange("POST", path, protocol::UserProofBody{userProof}.toJson(), true, {}, 201),
        "POST " + m_baseUrl + path);
}

protocol::RecoveryCodes VerifierClient::activateTotp(const std::string &userId,
                                                     const protocol::TotpActivationRequest &request)
{
    const std::string path = userPath(userId, "/totp/activation");
    return parseAnswer<protocol::RecoveryCodes>(
        exchange("POST", path, request.toJson(), true, {}, 200), "POST " + m_baseUrl + path);
}

protocol::RecoveryCodes VerifierClient::newRecoveryCodes(const std::string &userId,
                                                         const std::string &userProof)
{
    const std::string path = userPath(userId, "/recovery-codes");
    return parseAnswer<protocol::RecoveryCodes>(
        exchange("POST", path, protocol::UserProofBody{userProof}.toJson(), true, {}, 200),
        "POST " + m_baseUrl + path);
}

protocol::UserSession VerifierClient::signInUser(const std::string &userId,
                                                 const protocol::SignInRequest &request)
{
    const std::string path = userPath(userId, "/sessions");
    return parseAnswer<protocol::UserSession>(
        exchange("POST", path, request.toJson(), true, {}, 201), "POST " + m_baseUrl + path);
}

protocol::TokenResponse VerifierClient::userToken(const std::string &userId,
                                                  const std::string &session)
{
    const std::string path = userPath(userId, "/tokens");
    return parseAnswer<protocol::TokenResponse>(
        exchange("POST", path, protocol::SessionRequest{session}.toJson(), true, {}, 200),
        "POST " + m_baseUrl + path);
}

void VerifierClient::revokeUserSession(const std::string &userId, const std::string &session)
{
    const std::string path = userPath(userId, "/sessions/revocation");
    (void)exchange("POST", path, protocol::SessionRequest{session}.toJson(), true, {}, 204);
}

} // namespace vigil::app
