#include "posture/parsers/versioncompare.h"

#include <string>

namespace vigil::posture {

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isAlnum(char c)
{
    return isDigit(c) || isAlpha(c);
}

int sign(int value)
{
    return value < 0 ? -1 : (value > 0 ? 1 : 0);
}

} // namespace

int compareVersions(std::string_view a, std::string_view b)
{
    if (a == b)
        return 0;
    std::size_t i = 0;
    std::size_t j = 0;
    const auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
    while (i < a.size() || j < b.size()) {
        while (i < a.size() && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^')
            ++i;
        while (j < b.size() && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^')
            ++j;

        const char ca = at(a, i);
        const char cb = at(b, j);
        if (ca == '~' || cb == '~') {
            if (ca != '~')
                return 1;
            if (cb != '~')
                return -1;
            ++i;
            ++j;
            continue;
        }
        // '^' marks a post-release snapshot: newer than the bare version, older than the next
        // segment of it.
        if (ca == '^' || cb == '^') {
            if (i >= a.size())
                return -1;
            if (j >= b.size())
                return 1;
            if (ca != '^')
                return 1;
            if (cb != '^')
                return -1;
            ++i;
            ++j;
            continue;
        }
        if (i >= a.size() || j >= b.size())
            break;

        const std::size_t startA = i;
        const std::size_t startB = j;
        const bool numeric = isDigit(a[i]);
        const auto sameKind = [numeric](char c) { return numeric ? isDigit(c) : isAlpha(c); };
        while (i < a.size() && sameKind(a[i]))
            ++i;
        while (j < b.size() && sameKind(b[j]))
            ++j;
        std::string_view segA = a.substr(startA, i - startA);
        std::string_view segB = b.substr(startB, j - startB);
        // A numeric segment is newer than an alphabetic one in the same place.
        if (segB.empty())
            return numeric ? 1 : -1;
        if (numeric) {
            while (segA.size() > 1 && segA.front() == '0')
                segA.remove_prefix(1);
            while (segB.size() > 1 && segB.front() == '0')
                segB.remove_prefix(1);
            if (segA.size() != segB.size())
                return segA.size() > segB.size() ? 1 : -1;
        }
        if (const int rc = segA.compare(segB); rc != 0)
            return sign(rc);
    }
    const bool restA = i < a.size();
    const bool restB = j < b.size();
    if (!restA && !restB)
        return 0;
    return restA ? 1 : -1;
}

std::string_view kernelFlavour(std::string_view release)
{
    const std::string_view full = release;
    std::string_view plusPart;
    if (const auto plus = release.find('+'); plus != std::string_view::npos) {
        plusPart = release.substr(plus);
        release = release.substr(0, plus);
    }
    // Segments after the last one that starts with a digit name the flavour; the first
    // segment is always the upstream version.
    std::size_t flavourStart = std::string_view::npos;
    for (auto pos = release.find('-'); pos != std::string_view::npos;
         pos = release.find('-', pos + 1)) {
        const std::size_t segmentStart = pos + 1;
        if (segmentStart < release.size() && isDigit(release[segmentStart]))
            flavourStart = std::string_view::npos;
        else if (flavourStart == std::string_view::npos)
            flavourStart = segmentStart;
    }
    if (flavourStart == std::string_view::npos || flavourStart >= release.size())
        return plusPart;
    return full.substr(flavourStart);
}

} // namespace vigil::posture
