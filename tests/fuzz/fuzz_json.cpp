#include "protocol/json/strictjson.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using nlohmann::json;

bool sameTypes(const json &a, const json &b)
{
    if (a.type() != b.type() || a.size() != b.size())
        return false;
    if (a.is_structured())
        for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
            if ((a.is_object() && x.key() != y.key()) || !sameTypes(*x, *y))
                return false;
    return true;
}

} // namespace

// Differential: the verifier's JSON reader against nlohmann's own parser, which it replaced on
// the hot path. Whatever one accepts the other accepts with the same value and number types;
// the only texts the strict reader may refuse that nlohmann takes are the ones it refuses on
// purpose (a repeated member name, nesting past the limit, a byte order mark, a NUL byte).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    json ours;
    std::string failure = vigil::protocol::parseStrictJson(text, ours);
    // The parse that tells its faults apart refuses the same texts.
    json again;
    if (vigil::protocol::parseStrictJson(text, again, vigil::protocol::maxJsonDepth).has_value() !=
        !failure.empty())
        std::abort();
    const json theirs = json::parse(text.begin(), text.end(), nullptr, false);
    if (failure.empty()) {
        if (theirs.is_discarded() || ours != theirs || !sameTypes(ours, theirs) ||
            ours.dump() != theirs.dump())
            std::abort();
    } else if (!theirs.is_discarded()) {
        // nlohmann's lexer takes a NUL byte between tokens for the end of the text; here it is
        // a byte after the value, and refused. Up to it, the two must agree.
        if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
            json prefix;
            failure = vigil::protocol::parseStrictJson(text.substr(0, nul), prefix);
            if (failure.empty()) {
                if (prefix != theirs || !sameTypes(prefix, theirs))
                    std::abort();
                return 0;
            }
        }
        const bool onPurpose = failure.starts_with("has the member name ") ||
                               failure.starts_with("nests deeper than ") ||
                               text.starts_with("\xEF\xBB\xBF");
        if (!onPurpose)
            std::abort();
    }
    return 0;
}
