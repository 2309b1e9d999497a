#include "protocol/rfc3339.h"

#include <cstdio>
#include <stdexcept>

namespace vigil::protocol {

namespace {

using std::chrono::system_clock;

// The last whole second a system_clock::time_point holds (2262-04-11T23:47:16Z with libstdc++'s
// nanosecond clock).
constexpr long long maxRepresentableSeconds =
    std::chrono::duration_cast<std::chrono::seconds>(
        system_clock::time_point::max().time_since_epoch())
        .count();

bool digits(std::string_view text, std::size_t from, std::size_t count, int &value)
{
    value = 0;
    for (std::size_t i = from; i < from + count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

} // namespace

std::string formatRfc3339(system_clock::time_point time)
{
    const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    if (seconds.time_since_epoch().count() < 0)
        throw std::out_of_range("time before 1970-01-01T00:00:00Z");
    const auto days = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::year_month_day date(days);
    const std::chrono::hh_mm_ss clock(seconds - days);
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(date.year()),
                  unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                  int(clock.minutes().count()), int(clock.seconds().count()));
    return text;
}

std::optional<system_clock::time_point> parseRfc3339(std::string_view text)
{
    // 0123456789012345678 9
    // YYYY-MM-DDTHH:MM:SS Z
    if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text[19] != 'Z')
        return std::nullopt;
    int year, month, day, hour, minute, second;
    if (!digits(text, 0, 4, year) || !digits(text, 5, 2, month) || !digits(text, 8, 2, day) ||
        !digits(text, 11, 2, hour) || !digits(text, 14, 2, minute) || !digits(text, 17, 2, second))
        return std::nullopt;
    if (year < 1970 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(year),
                                           std::chrono::month(unsigned(month)),
                                           std::chrono::day(unsigned(day))};
    if (!date.ok())
        return std::nullopt;
    const long long total = std::chrono::sys_days(date).time_since_epoch().count() * 86400LL +
                            hour * 3600LL + minute * 60LL + second;
    return fromNumericDate(total);
}

std::optional<system_clock::time_point> fromNumericDate(long long seconds)
{
    if (seconds < 0 || seconds > maxRepresentableSeconds)
        return std::nullopt;
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::seconds(seconds)));
}

long long toNumericDate(system_clock::time_point time)
{
    return std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count();
}

} // namespace vigil::protocol
