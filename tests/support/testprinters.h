#pragma once

// Lets QCOMPARE print Vigil's and the standard library's types when a comparison fails.

#include "posture/checkresult.h"

#include <QtTest>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

Q_DECLARE_METATYPE(vigil::posture::CheckStatus)

namespace QTest {

template <> inline char *toString(const vigil::posture::CheckStatus &status)
{
    return qstrdup(std::string(vigil::posture::statusName(status)).c_str());
}

template <> inline char *toString(const std::string &text)
{
    return qstrdup(("\"" + text + "\"").c_str());
}

template <> inline char *toString(const nlohmann::json &json)
{
    return qstrdup(json.dump().c_str());
}

template <> inline char *toString(const std::vector<std::string> &list)
{
    nlohmann::json json = list;
    return qstrdup(json.dump().c_str());
}

// std::string against a literal, and a JSON value against a literal or a number.
inline bool qCompare(const std::string &t1, const char *t2, const char *actual,
                     const char *expected, const char *file, int line)
{
    return qCompare(t1, std::string(t2), actual, expected, file, line);
}

template <typename T>
requires(!std::is_same_v<T, nlohmann::json>) inline bool qCompare(const nlohmann::json &t1,
                                                                  const T &t2, const char *actual,
                                                                  const char *expected,
                                                                  const char *file, int line)
{
    return qCompare(t1, nlohmann::json(t2), actual, expected, file, line);
}

} // namespace QTest
