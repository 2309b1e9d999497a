#include "protocol/json/strictjson.h"

#include "protocol/json/objectreader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <locale.h>

namespace vigil::protocol {

namespace {

using json = nlohmann::json;

// Bytes that end a run of plain string content: control characters, '"', '\\', and every byte
// of a multi-byte UTF-8 sequence.
constexpr std::array<bool, 256> stopsStringRun = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 256; ++c)
        table[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    return table;
}();

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// Recursive descent over the text; the recursion is bounded by the depth limit.
class Reader
{
public:
    Reader(std::string_view text, int maxDepth)
        : m_begin(text.data()), m_next(text.data()), m_end(text.data() + text.size()),
          m_maxDepth(maxDepth)
    {
    }

    bool document(json &out)
    {
        skipSpace();
        if (!value(out, 0))
            return false;
        skipSpace();
        return m_next == m_end || invalid();
    }

    std::string failure;
    JsonFault fault{JsonFault::Kind::NotJson, {}, 0};

private:
    bool fail(JsonFault::Kind kind, std::string reason)
    {
        failure = std::move(reason);
        fault.kind = kind;
        fault.offset = static_cast<std::size_t>(m_next - m_begin);
        return false;
    }

    bool invalid() { return fail(JsonFault::Kind::NotJson, "is not valid UTF-8 JSON"); }

    // A value inside failed: the fault's pointer, built only now, gains the member or index
    // that leads to it.
    bool failedIn(std::string_view name)
    {
        fault.pointer.insert(0, detail::childPointer("", name));
        return false;
    }
    bool failedIn(std::size_t index)
    {
        fault.pointer.insert(0, detail::childPointer("", index));
        return false;
    }

    bool atEnd() const { return m_next == m_end; }

    void skipSpace()
    {
        while (m_next != m_end &&
               (*m_next == ' ' || *m_next == '\n' || *m_next == '\r' || *m_next == '\t'))
            ++m_next;
    }

    // depth: how many arrays and objects enclose the value.
    bool value(json &out, int depth)
    {
        if (atEnd())
            return invalid();
        switch (*m_next) {
        case '{':
            return object(out, depth);
        case '[':
            return array(out, depth);
        case '"': {
            std::string text;
            if (!string(text))
                return false;
            out = std::move(text);
            return true;
        }
        case 't':
            return literal("true", out, true);
        case 'f':
            return literal("false", out, false);
        case 'n':
            return literal("null", out, nullptr);
        default:
            return number(out);
        }
    }

    bool open(int depth)
    {
        if (depth < m_maxDepth)
            return true;
        return fail(JsonFault::Kind::TooDeep,
                    "nests deeper than " + std::to_string(m_maxDepth) + " levels");
    }

    bool object(json &out, int depth)
    {
        if (!open(depth))
            return false;
        ++m_next;
        out = json::object();
        auto &members = out.get_ref<json::object_t &>();
        skipSpace();
        if (!atEnd() && *m_next == '}') {
            ++m_next;
            return true;
        }
        for (;;) {
            if (atEnd() || *m_next != '"')
                return invalid();
            std::string name;
            if (!string(name))
                return false;
            // The name is checked before the colon, as nlohmann's SAX parser reports it: the
            // first fault in the text is the one named.
            const auto [member, added] = members.try_emplace(std::move(name));
            if (!added) {
                fail(JsonFault::Kind::DuplicateName,
                     "has the member name " + messageExcerpt(member->first) + " more than once");
                return failedIn(member->first);
            }
            skipSpace();
            if (atEnd() || *m_next != ':')
                return invalid();
            ++m_next;
            skipSpace();
            if (!value(member->second, depth + 1))
                return failedIn(member->first);
            skipSpace();
            if (atEnd())
                return invalid();
            if (*m_next == '}') {
                ++m_next;
                return true;
            }
            if (*m_next != ',')
                return invalid();
            ++m_next;
            skipSpace();
        }
    }

    bool array(json &out, int depth)
    {
        if (!open(depth))
            return false;
        ++m_next;
        out = json::array();
        auto &items = out.get_ref<json::array_t &>();
        skipSpace();
        if (!atEnd() && *m_next == ']') {
            ++m_next;
            return true;
        }
        for (;;) {
            // The reference is used up before the next emplace_back can move the items.
            if (!value(items.emplace_back(), depth + 1))
                return failedIn(items.size() - 1);
            skipSpace();
            if (atEnd())
                return invalid();
            if (*m_next == ']') {
                ++m_next;
                return true;
            }
            if (*m_next != ',')
                return invalid();
            ++m_next;
            skipSpace();
        }
    }

    template <typename Value> bool literal(std::string_view word, json &out, Value value)
    {
        if (static_cast<std::size_t>(m_end - m_next) < word.size() ||
            std::memcmp(m_next, word.data(), word.size()) != 0)
            return invalid();
        m_next += word.size();
        out = value;
        return true;
    }

    // RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    bool number(json &out)
    {
        const char *start = m_next;
        bool integral = true;
        if (*m_next == '-')
            ++m_next;
        if (atEnd() || !isDigit(*m_next))
            return invalid();
        if (*m_next == '0')
            ++m_next;
        else
            skipDigits();
        if (!atEnd() && *m_next == '.') {
            integral = false;
            ++m_next;
            if (atEnd() || !isDigit(*m_next))
                return invalid();
            skipDigits();
        }
        if (!atEnd() && (*m_next == 'e' || *m_next == 'E')) {
            integral = false;
            ++m_next;
            if (!atEnd() && (*m_next == '+' || *m_next == '-'))
                ++m_next;
            if (atEnd() || !isDigit(*m_next))
                return invalid();
            skipDigits();
        }
        if (integral) {
            if (*start == '-') {
                std::int64_t signedValue = 0;
                if (std::from_chars(start, m_next, signedValue).ec == std::errc()) {
                    out = signedValue;
                    return true;
                }
            } else {
                std::uint64_t unsignedValue = 0;
                if (std::from_chars(start, m_next, unsignedValue).ec == std::errc()) {
                    out = unsignedValue;
                    return true;
                }
            }
        }
        // As nlohmann does, with strtod: a magnitude too large for a double is refused, one too
        // small becomes 0. In the C locale, whatever locale the process runs in.
        static const locale_t cLocale = newlocale(LC_ALL_MASK, "C", nullptr);
        if (cLocale == locale_t{})
            return invalid(); // out of memory at the first number ever read
        const std::string digits(start, m_next);
        const double value = strtod_l(digits.c_str(), nullptr, cLocale);
        if (!std::isfinite(value)) {
            m_next = start; // the fault is the number, not what follows it
            return invalid();
        }
        out = value;
        return true;
    }

    void skipDigits()
    {
        while (!atEnd() && isDigit(*m_next))
            ++m_next;
    }

    bool string(std::string &out)
    {
        ++m_next;
        for (;;) {
            const char *run = m_next;
            while (m_next != m_end && !stopsStringRun[static_cast<unsigned char>(*m_next)])
                ++m_next;
            out.append(run, m_next);
            if (atEnd())
                return invalid();
            const auto c = static_cast<unsigned char>(*m_next);
            if (c == '"') {
                ++m_next;
                return true;
            }
            if (c < 0x20)
                return invalid();
            if (!(c == '\\' ? escape(out) : utf8Sequence(out)))
                return invalid();
        }
    }

    bool escape(std::string &out)
    {
        ++m_next;
        if (atEnd())
            return false;
        switch (*m_next++) {
        case '"':
            out += '"';
            return true;
        case '\\':
            out += '\\';
            return true;
        case '/':
            out += '/';
            return true;
        case 'b':
            out += '\b';
            return true;
        case 'f':
            out += '\f';
            return true;
        case 'n':
            out += '\n';
            return true;
        case 'r':
            out += '\r';
            return true;
        case 't':
            out += '\t';
            return true;
        case 'u':
            break;
        default:
            return false;
        }
        long codePoint = hex4();
        if (codePoint >= 0xDC00 && codePoint <= 0xDFFF)
            return false; // a low surrogate without its high one
        if (codePoint >= 0xD800 && codePoint <= 0xDBFF) {
            if (m_end - m_next < 2 || m_next[0] != '\\' || m_next[1] != 'u')
                return false;
            m_next += 2;
            const long low = hex4();
            if (low < 0xDC00 || low > 0xDFFF)
                return false;
            codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (low - 0xDC00);
        }
        if (codePoint < 0)
            return false;
        appendUtf8(out, static_cast<std::uint32_t>(codePoint));
        return true;
    }

    // The four hex digits after "\u", or -1.
    long hex4()
    {
        if (m_end - m_next < 4)
            return -1;
        long value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *m_next++;
            int digit;
            if (c >= '0' && c <= '9')
                digit = c - '0';
            else if (c >= 'a' && c <= 'f')
                digit = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                digit = c - 'A' + 10;
            else
                return -1;
            value = value * 16 + digit;
        }
        return value;
    }

    static void appendUtf8(std::string &out, std::uint32_t codePoint)
    {
        if (codePoint < 0x80) {
            out += static_cast<char>(codePoint);
        } else if (codePoint < 0x800) {
            out += static_cast<char>(0xC0 | (codePoint >> 6));
            out += static_cast<char>(0x80 | (codePoint & 0x3F));
        } else if (codePoint < 0x10000) {
            out += static_cast<char>(0xE0 | (codePoint >> 12));
            out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (codePoint & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (codePoint >> 18));
            out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (codePoint & 0x3F));
        }
    }

    // One multi-byte sequence, well-formed as RFC 3629 section 4 defines it: no overlong forms,
    // no surrogates, nothing above U+10FFFF.
    bool utf8Sequence(std::string &out)
    {
        const auto lead = static_cast<unsigned char>(*m_next);
        int continuation;
        unsigned char secondLow = 0x80, secondHigh = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuation = 2;
            if (lead == 0xE0)
                secondLow = 0xA0;
            else if (lead == 0xED)
                secondHigh = 0x9F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuation = 3;
            if (lead == 0xF0)
                secondLow = 0x90;
            else if (lead == 0xF4)
                secondHigh = 0x8F;
        } else {
            return false;
        }
        if (m_end - m_next <= continuation)
            return false;
        for (int i = 1; i <= continuation; ++i) {
            const auto byte = static_cast<unsigned char>(m_next[i]);
            const unsigned char low = i == 1 ? secondLow : 0x80;
            const unsigned char high = i == 1 ? secondHigh : 0xBF;
            if (byte < low || byte > high)
                return false;
        }
        out.append(m_next, m_next + continuation + 1);
        m_next += continuation + 1;
        return true;
    }

    const char *const m_begin;
    const char *m_next;
    const char *const m_end;
    const int m_maxDepth;
};

} // namespace

std::string parseStrictJson(std::string_view text, nlohmann::json &out)
{
    Reader reader(text, maxJsonDepth);
    if (!reader.document(out))
        return reader.failure;
    return {};
}

std::string_view withoutByteOrderMark(std::string_view text)
{
    constexpr std::string_view byteOrderMark = "\xEF\xBB\xBF";
    if (text.starts_with(byteOrderMark))
        text.remove_prefix(byteOrderMark.size());
    return text;
}

std::string textPosition(std::string_view text, std::size_t offset)
{
    const auto before = text.substr(0, offset);
    const auto lineStart = before.rfind('\n');
    const auto column = lineStart == std::string_view::npos ? offset + 1 : offset - lineStart;
    return "line " + std::to_string(std::count(before.begin(), before.end(), '\n') + 1) +
           ", column " + std::to_string(column);
}

std::optional<JsonFault> parseStrictJson(std::string_view text, nlohmann::json &out, int maxDepth)
{
    Reader reader(text, maxDepth);
    if (!reader.document(out))
        return std::move(reader.fault);
    return std::nullopt;
}

std::string messageExcerpt(std::string_view value)
{
    // Appended piece by piece: GCC 12 warns wrongly (-Wrestrict, its bug 105329) about
    // "literal" + std::string inlined here.
    constexpr std::size_t maxShown = 32;
    std::string shown;
    if (value.size() > maxShown) {
        shown += '(';
        shown += std::to_string(value.size());
        shown += " bytes)";
        return shown;
    }
    for (char c : value)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return "(unprintable)";
    shown += '"';
    shown += value;
    shown += '"';
    return shown;
}

} // namespace vigil::protocol
