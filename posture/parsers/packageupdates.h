#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::posture {

// Pure parsers for what package managers print about pending updates, and for their logs.
// Each one takes arbitrary bytes and either returns what it recognised or says why it could
// not: output that does not look like the expected format is an error, never "no updates".

enum class PackageManager
{
    Apt,
    Dnf,
    Zypper,
    Pacman
};

// "apt", "dnf", "zypper", "pacman".
std::string_view toString(PackageManager manager);

struct PackageUpdate
{
    std::string name;           // "libssl3", "kernel.x86_64", "openSUSE-SLE-15.6-2024-3800"
    std::string currentVersion; // empty when the output does not show it
    std::string newVersion;
    std::string source;    // apt origins, dnf/zypper repository
    bool security = false; // only meaningful where the format classifies updates
};

struct UpdateList
{
    std::vector<PackageUpdate> updates;
    std::string error; // empty when the output was understood

    bool ok() const { return error.empty(); }
    std::size_t securityCount() const;
};

// `apt-get -s dist-upgrade`: one "Inst name [current] (new origin, origin [arch])" line per
// package; security when any origin's suite ends in "-security". Requires apt's summary line
// ("N upgraded, N newly installed, …") so that truncated or foreign output is rejected.
UpdateList parseAptSimulation(std::string_view output);

// `dnf check-update` / `dnf5 check-upgrade` table ("name.arch  evr  repo", dnf4 wraps long
// names onto their own line). Only the first section counts: "Obsoleting packages" repeats
// packages already listed. An empty table is a valid "nothing pending".
UpdateList parseDnfUpdateTable(std::string_view output);

// `pacman -Qu`: "name old -> new" with an optional " [ignored]".
UpdateList parsePacmanUpgrades(std::string_view output);

// `zypper --xmlout list-updates` and `… list-patches`: <update> elements of the update-list
// (and blocked-update-list). Patches whose status is not "needed" are left out; a patch is a
// security update when its category is "security". A <message type="error"> is an error.
UpdateList parseZypperUpdates(std::string_view xml);

// A wall-clock time as a log wrote it; the offset is known only when the log records it.
struct LogTimestamp
{
    int year = 0;
    int month = 0;
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    std::optional<int> utcOffsetMinutes;
};

// Newest " upgrade " line of /var/log/dpkg.log ("2026-11-24 16:06:08 upgrade pkg:amd64 a b").
std::optional<LogTimestamp> lastDpkgUpgrade(std::string_view log);
// Newest "[ALPM] upgraded" line of /var/log/pacman.log ("[2026-11-20T10:15:32+0100] …", or the
// pre-5.2 "[2019-01-01 10:00]" form without an offset).
std::optional<LogTimestamp> lastPacmanUpgrade(std::string_view log);
// Newest "|install|" line of /var/log/zypp/history ("2026-11-20 10:15:32|install|name|…").
std::optional<LogTimestamp> lastZyppInstall(std::string_view log);

} // namespace vigil::posture
