#pragma once

// The HTTP exchange as the verifier's handlers see it, independent of the server library, so
// that handlers are tested and benchmarked without sockets and the library can be replaced.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::server {

struct HttpRequest
{
    std::string method;
    std::string path; // without the query string
    std::map<std::string, std::string> headers; // names in lower case
    std::string body;
    std::string peerAddress;

    // The header's value, or "" when absent.
    std::string header(const std::string &lowerCaseName) const
    {
        const auto it = headers.find(lowerCaseName);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct HttpResponse
{
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

} // namespace vigil::server
