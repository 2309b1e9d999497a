#pragma once

#include "posture/collector.h"
#include "posture/parsers/packageupdates.h"

#include <QTimeZone>
#include <chrono>
#include <optional>
#include <string>

namespace vigil::posture {

// When a package manager last refreshed its package lists and last upgraded packages, from
// its logs where they record it and from file modification times otherwise.

struct PackageTime
{
    std::optional<std::chrono::system_clock::time_point> time; // nullopt: not found
    std::string source;                                        // the file the time was taken from
    std::string note;                                          // unreadable logs, fallbacks used
};

// The zone a log without offsets was written in: the target's /etc/localtime link or
// /etc/timezone; UTC when neither names a zone this machine knows. `name` says which.
QTimeZone logTimeZone(const CollectContext &context, std::string &name);

PackageTime lastRefresh(const CollectContext &context, PackageManager manager);

// `zone` is used for log lines that carry no UTC offset.
PackageTime lastUpgrade(const CollectContext &context, PackageManager manager,
                        const QTimeZone &zone);

} // namespace vigil::posture
