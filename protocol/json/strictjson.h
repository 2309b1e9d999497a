#pragma once

// The JSON reader for everything that arrives from outside: JWS headers, JWT claim sets, DPoP
// proofs and API bodies. It builds the same nlohmann::json that nlohmann's own parser builds
// from the same text, but refuses what JOSE parsers may disagree on: a member name given twice
// in one object (nlohmann keeps the last; RFC 7515 section 5.2 says reject or keep the last,
// and parsers differ) and nesting past maxJsonDepth.
//
// Its own lexer, not nlohmann's, because nlohmann's reads a character at a time through an
// input adapter and appends each to a token buffer: that was about a tenth of the verifier's
// CPU per posture report, most of it in the long base64url strings of the report and its
// evidence. Here a string is copied a run at a time, stopping only at a quote, a backslash, a
// control character or a byte of a multi-byte UTF-8 sequence (which is validated).
// tests/fuzz/fuzz_json.cpp checks the two parsers agree on every input the fuzzer makes.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol {

inline constexpr int maxJsonDepth = 32;

// Parses text (RFC 8259, UTF-8 per RFC 3629, nothing but white space after the value) into out.
// Numbers come out as nlohmann's parser makes them: an integer as number_integer when negative
// and number_unsigned otherwise, as a double when it does not fit or has a fraction or
// exponent. A byte order mark is not JSON and is refused. Returns "" on success, otherwise what
// is wrong, worded to follow the name of the text ("is not valid UTF-8 JSON", "has the member
// name \"a\" more than once", "nests deeper than 32 levels"); out is then unspecified.
std::string parseStrictJson(std::string_view text, nlohmann::json &out);

// What the parse below refuses, apart, for a caller that words its own message (a file an
// administrator edits wants a line and column, a JSON pointer to a repeated member).
struct JsonFault
{
    enum class Kind
    {
        NotJson,       // not RFC 8259 JSON in UTF-8
        DuplicateName, // an object names a member twice
        TooDeep,       // arrays and objects nest past the limit
    };
    Kind kind;
    // RFC 6901 pointer to the value at fault: the repeated member, the array or object that
    // opens one level too many; for NotJson the innermost value being read.
    std::string pointer;
    // Where reading stopped, in bytes from the start of the text.
    std::size_t offset;
};

// The same parse, with arrays and objects nested at most maxDepth (<= maxJsonDepth) deep.
// Returns the fault, or nullopt when out holds the value.
std::optional<JsonFault> parseStrictJson(std::string_view text, nlohmann::json &out, int maxDepth);

// For files people edit (the verifier's policy, vigild's configuration):
// text without the UTF-8 byte order mark some editors start a file with,
std::string_view withoutByteOrderMark(std::string_view text);
// and "line L, column C" of a byte offset (a JsonFault's), counted from 1 as editors count them.
std::string textPosition(std::string_view text, std::size_t offset);

// A short rendering of an attacker-chosen string for an error message: the string in quotes
// when it is short and printable ASCII, otherwise its length or "(unprintable)".
std::string messageExcerpt(std::string_view value);

} // namespace vigil::protocol
