#pragma once

// Shared by the protocol tests: the example bodies in tests/fixtures/protocol/ (which
// docs/protocol.md quotes), one-member mutations of them, the MessageError they cause, and the
// pieces of hand-built compact JWSs.

#include "core/bytes.h"
#include "protocol/problem.h"
#include "testprinters.h"

#include <QByteArray>
#include <QTest>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol::test {

// base64url of text: one part of a hand-built compact JWS.
inline std::string enc(std::string_view text)
{
    return base64UrlEncode(toBytes(text));
}

// A compact serialisation cut at every '.', however many parts it has.
inline std::vector<std::string> split(const std::string &compact)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = compact.find('.', start);
        parts.push_back(compact.substr(start, dot - start));
        if (dot == std::string::npos)
            return parts;
        start = dot + 1;
    }
}

// tests/fixtures/protocol/<fileName>, as it is.
inline std::string fileText(const std::string &fileName)
{
    const std::string path = std::string(VIGIL_FIXTURES_DIR) + "/protocol/" + fileName;
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

inline std::string trimmed(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    return text;
}

inline std::string fixtureText(const std::string &name)
{
    return fileText(name + ".json");
}

inline nlohmann::json fixture(const std::string &name)
{
    return nlohmann::json::parse(fixtureText(name));
}

// body with the member at pointer removed (value nullopt) or set to value (replaced, or added
// when absent).
inline nlohmann::json mutated(const nlohmann::json &body, const std::string &pointer,
                              const std::optional<nlohmann::json> &value)
{
    const nlohmann::json::json_pointer at(pointer);
    nlohmann::json operation = {{"path", pointer}};
    if (!value)
        operation["op"] = "remove";
    else
        operation.update({{"op", body.contains(at) ? "replace" : "add"}, {"value", *value}});
    return body.patch(nlohmann::json::array({operation}));
}

struct Rejection
{
    bool thrown = false;
    std::string field;
    std::string message;
    MessageError::Kind kind = MessageError::Kind::Malformed;
    std::string other; // another exception's message
};

inline Rejection rejectionOf(const std::function<void()> &call)
{
    Rejection rejection;
    try {
        call();
    } catch (const MessageError &e) {
        rejection.thrown = true;
        rejection.field = e.field();
        rejection.message = e.what();
        rejection.kind = e.kind();
    } catch (const std::exception &e) {
        rejection.other = e.what();
    }
    return rejection;
}

} // namespace vigil::protocol::test

// The call must throw MessageError with exactly this field and message.
#define QCOMPARE_REJECTION(call, expectedField, expectedMessage)                                   \
    do {                                                                                           \
        const auto rejection_ = vigil::protocol::test::rejectionOf([&] { (void)(call); });         \
        QVERIFY2(rejection_.thrown, rejection_.other.empty()                                       \
                                        ? "no exception"                                           \
                                        : ("other exception: " + rejection_.other).c_str());       \
        QCOMPARE(QByteArray::fromStdString(rejection_.field), QByteArray(expectedField));          \
        QCOMPARE(QByteArray::fromStdString(rejection_.message), QByteArray(expectedMessage));      \
    } while (false)
