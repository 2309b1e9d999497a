#pragma once

// Protocol step 1, device enrollment: the enrollment token, the TPM's evidence (EK certificate
// chain, AK attributes, the AK's certification of the device key) and the MakeCredential
// challenge whose answer proves the EK and the AK live in one TPM. Software-key devices skip
// the TPM part when the policy accepts them.

#include "core/bytes.h"
#include "protocol/evidence.h"
#include "protocol/jose/devicekey.h"
#include "server/http/httpmessage.h"
#include "server/storage/storage.h"

#include <nlohmann/json.hpp>

namespace vigil::protocol {
struct TpmEnrollment;
}

namespace vigil::server {

struct ServiceContext;
struct Policy;

class EnrollmentHandler
{
public:
    explicit EnrollmentHandler(ServiceContext &context);

    // POST /v1/enrollments
    HttpResponse enroll(const HttpRequest &request);
    // POST /v1/enrollments/{id}/activation
    HttpResponse activate(const HttpRequest &request, const std::string &enrollmentId);

private:
    protocol::CredentialChallenge checkTpmEvidence(const protocol::TpmEnrollment &tpm,
                                                      const protocol::EcPublicKey &deviceKey,
                                                      const Bytes &tokenHash,
                                                      const Bytes &secret,
                                                      TimePoint now);
    nlohmann::json completion(const Device &device, const Policy &policy);

    ServiceContext &m_context;
};

} // namespace vigil::server
