#pragma once

#include "posture/collector.h"
#include "posture/parsers/packageupdates.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace vigil::posture {

// What Vigil knows about each supported package manager (apt, dnf, zypper, pacman): how to
// tell which one a system uses, which paths change when packages or package lists do, how to
// ask it for pending updates, and what a user runs to install them.

struct PackageManagerDetection
{
    std::optional<PackageManager> manager;
    std::string program;  // absolute path of the program that is run
    std::string database; // the package database that confirmed the manager is in use
    std::string reason;   // why none was found
};

// The first manager (in apt, dnf, zypper, pacman order) whose program is installed and whose
// package database is present.
PackageManagerDetection detectPackageManager(const CollectContext &context);

// The command a user runs to install pending updates ("sudo apt-get update && …").
const std::string &upgradeCommand(PackageManager manager);

// The command a user runs to refresh the package lists ("sudo apt-get update").
const std::string &refreshCommand(PackageManager manager);

// Paths on the target (not yet mapped to this machine) that change when packages are
// installed or package lists refreshed.
std::vector<std::string> packageWatchPaths(const CollectContext &context, PackageManager manager);

struct PendingUpdates
{
    std::string error; // why the package manager could not be asked; empty when it was
    std::size_t total = 0;
    std::optional<std::size_t> security;
    std::string securityUnknownReason;
    std::string securityUnit; // "packages" or, for zypper, "patches"
    std::vector<std::string> names;
    std::vector<std::string> securityNames;
    std::string queriedAt; // set by the caller: the query has no clock of its own
};

// Runs `program` (the detected manager's) through `runner`, all of its commands together
// limited to `timeout` (dnf and zypper run two in sequence; the second gets what is left) and
// stopped when `stop` is requested. Touches nothing but its arguments, so it may run on a
// thread that outlives a collection.
PendingUpdates queryPendingUpdates(CommandRunner &runner, PackageManager manager,
                                   const std::string &program, std::chrono::milliseconds timeout,
                                   std::stop_token stop = {});

} // namespace vigil::posture
