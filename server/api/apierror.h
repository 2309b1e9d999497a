#pragma once

// An API failure on its way to becoming an RFC 9457 problem response. Handlers throw it; the
// service turns it into problem+json in one place, with the status and title that
// protocol::problemTypes() gives the code.

#include <stdexcept>
#include <string>

namespace vigil::server {

class ApiError : public std::runtime_error
{
public:
    ApiError(std::string code, const std::string &detail, std::string field = {},
             std::string evidenceError = {})
        : std::runtime_error(detail), m_code(std::move(code)), m_field(std::move(field)),
          m_evidenceError(std::move(evidenceError))
    {
    }

    const std::string &code() const { return m_code; }
    const std::string &field() const { return m_field; }
    const std::string &evidenceError() const { return m_evidenceError; }

    // Seconds for a Retry-After header (rate limiting), 0 for none.
    int retryAfterSeconds = 0;

private:
    std::string m_code;
    std::string m_field;
    std::string m_evidenceError;
};

} // namespace vigil::server
