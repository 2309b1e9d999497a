#include "posture/collectors/patchlevelcollector.h"

#include "core/text.h"
#include "posture/collectors/packagetimes.h"
#include "posture/collectors/rebootrequirement.h"
#include "posture/host/changewatch.h"
#include "posture/posturelogging.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace vigil::posture {

namespace {

using json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

std::vector<std::filesystem::path> hostPaths(const CollectContext &context,
                                             const std::vector<std::string> &paths)
{
    std::vector<std::filesystem::path> out;
    for (const auto &path : paths)
        out.push_back(context.fs().hostPath(context.fs().canonicalPath(path).value_or(path)));
    return out;
}

void putTime(json &details, const std::string &key, const PackageTime &fact, TimePoint now)
{
    if (fact.time) {
        details[key] = toIso8601(*fact.time);
        // A time ahead of the clock (skew, restored backups) counts as "today".
        const auto age = std::chrono::floor<std::chrono::days>(now - *fact.time).count();
        details[key + "_age_days"] = std::max<long long>(0, age);
        details[key + "_source"] = fact.source;
    } else {
        details[key] = nullptr;
    }
    if (!fact.note.empty())
        details[key + "_note"] = fact.note;
}

json cappedList(const std::vector<std::string> &names)
{
    json list = json::array();
    for (std::size_t i = 0; i < names.size() && i < PatchLevelCollector::maxListedPackages; ++i)
        list.push_back(names[i]);
    return list;
}

std::string plural(std::size_t n, const std::string &word)
{
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

// What the collector and its query thread share. The thread fills in `result` once; whoever
// holds the last reference frees it, so neither side can outlive the other's memory.
struct PatchLevelCollector::Query
{
    std::mutex mutex;
    std::condition_variable finished;
    std::optional<PendingUpdates> result;
    std::chrono::system_clock::time_point startedAt; // the host's clock
};

PatchLevelCollector::PatchLevelCollector(ChangeDetection detection) : m_detection(detection) {}
// A query still running is stopped (its command's process group killed) and joined.
PatchLevelCollector::~PatchLevelCollector() = default;

PatchLevelCollector::Answer PatchLevelCollector::pendingUpdates(const CollectContext &context,
                                                                PackageManager manager,
                                                                const std::string &program)
{
    const auto now = context.host().clock().now();
    const std::string key = context.fs().root().string() + '\n' + std::string(toString(manager));
    bool changed = true;
    if (m_watch && m_watchKey == key) {
        if (m_watchWorking)
            changed = m_watch->changedSinceLastCheck();
        else // Only time can tell; a clock set back counts as expired too.
            changed =
                m_cache && (now - m_cacheAskedAt >= unwatchedCacheTtl || now < m_cacheAskedAt);
    }
    if (!changed && m_cache)
        return {m_cache, true, {}};
    if (changed) {
        // Rebuilt on every change so that repositories added since are watched too. Made
        // before asking so a change during the next query invalidates its answer.
        m_watch =
            std::make_unique<ChangeWatch>(hostPaths(context, packageWatchPaths(context, manager)));
        m_watchKey = key;
        // Without a working watch (no inotify, a path that can't be watched) a cache built on
        // it could go stale unnoticed: the TTL decides instead until the next rebuild.
        m_watchWorking = m_detection == ChangeDetection::Inotify && m_watch->isActive();
        m_cache.reset();
        // A query still running was asked before the change. It is not abandoned (that would
        // leave it running beside a new one, and one per collection while changes keep
        // coming): it is waited for, its answer dropped, and only then asked again.
        if (m_inFlight)
            m_inFlightOutdated = true;
    }

    for (;;) {
        if (!m_inFlight) {
            qCDebug(lcPosture, "asking %s for pending updates", program.c_str());
            auto query = std::make_shared<Query>();
            query->startedAt = context.host().clock().now();
            // Only shared ownership crosses into the thread: it must not see the context or the
            // host, which may be gone before it finishes.
            try {
                std::jthread thread([query, runner = context.host().sharedCommands(), manager,
                                     program](std::stop_token stop) {
                    auto pending = queryPendingUpdates(*runner, manager, program, queryTimeout,
                                                       std::move(stop));
                    // The packages' state is read when the query starts: that is when it was
                    // asked.
                    pending.queriedAt = toIso8601(query->startedAt);
                    {
                        const std::lock_guard lock(query->mutex);
                        query->result = std::move(pending);
                    }
                    query->finished.notify_all();
                });
                // No query is in flight, so the previous thread has finished: joining it is
                // immediate.
                m_queryThread = std::move(thread);
            } catch (const std::system_error &e) {
                PendingUpdates failed;
                failed.error = std::string("could not start a thread to ask it: ") + e.what();
                return {std::move(failed), false, {}};
            }
            m_inFlight = std::move(query);
            m_inFlightOutdated = false;
        }

        std::unique_lock lock(m_inFlight->mutex);
        m_inFlight->finished.wait_until(lock, context.deadline() - deadlineMargin,
                                        [&] { return m_inFlight->result.has_value(); });
        if (!m_inFlight->result)
            return {std::nullopt, false, m_inFlight->startedAt, m_inFlightOutdated};
        auto pending = std::move(*m_inFlight->result);
        const auto askedAt = m_inFlight->startedAt;
        lock.unlock();
        m_inFlight.reset();
        if (m_inFlightOutdated) {
            qCDebug(lcPosture, "dropped %s's answer: the package state changed while it ran",
                    program.c_str());
            continue; // now that it has ended, ask again, within what is left of the deadline
        }
        if (pending.error.empty()) {
            m_cache = pending;
            m_cacheAskedAt = askedAt;
        }
        // A failed answer is not kept: with no cache and no query running, the next collect
        // asks.
        return {std::move(pending), false, {}};
    }
}

CheckResult PatchLevelCollector::collect(const CollectContext &context)
{
    json details;
    const auto now = context.host().clock().now();
    const auto detection = detectPackageManager(context);

    details["package_manager"] =
        detection.manager ? json(std::string(toString(*detection.manager))) : json(nullptr);
    if (detection.manager) {
        details["package_manager_program"] = detection.program;
        details["package_database"] = detection.database;
    }

    const auto reboot = rebootRequirement(context, details);

    std::optional<PendingUpdates> pending;
    std::string unknownReason = detection.reason;
    if (detection.manager) {
        std::string zoneName;
        const auto zone = logTimeZone(context, zoneName);
        putTime(details, "last_refresh", lastRefresh(context, *detection.manager), now);
        details["max_list_age_days"] = maxListAgeDays;
        putTime(details, "last_upgrade", lastUpgrade(context, *detection.manager, zone), now);
        details["log_time_zone"] = zoneName;

        auto answer = pendingUpdates(context, *detection.manager, detection.program);
        pending = std::move(answer.pending);
        details["query_cached"] = answer.fromCache;
        details["query_in_progress"] = !pending;
        details["package_state_watched"] = m_watchWorking;
        if (!pending) {
            const auto running = std::chrono::floor<std::chrono::seconds>(
                context.host().clock().now() - answer.startedAt);
            details["query_started_at"] = toIso8601(answer.startedAt);
            details["query_outdated"] = answer.outdated;
            details["pending_updates"] = nullptr;
            details["security_updates"] = nullptr;
            const auto started = std::to_string(std::max<long long>(0, running.count()));
            const auto name = std::filesystem::path(detection.program).filename().string();
            unknownReason = answer.outdated
                                ? name + " is still computing pending updates (started " + started +
                                      " s ago, before the package state changed); it " +
                                      "is asked again once it finishes"
                                : name + " is still computing pending updates (started " + started +
                                      " s ago); the next collection will have them";
        } else if (!pending->error.empty()) {
            details["query_error"] = pending->error;
            unknownReason = "could not ask " + std::string(toString(*detection.manager)) +
                            " for pending updates: " + pending->error;
            details["pending_updates"] = nullptr;
            details["security_updates"] = nullptr;
            pending.reset();
        } else {
            details["queried_at"] = pending->queriedAt;
            details["pending_updates"] = pending->total;
            details["updates"] = cappedList(pending->names);
            details["updates_truncated"] = pending->names.size() > maxListedPackages;
            if (pending->security) {
                details["security_updates"] = *pending->security;
                details["security_updates_unit"] = pending->securityUnit;
                details["security_update_names"] = cappedList(pending->securityNames);
            } else {
                details["security_updates"] = nullptr;
                details["security_updates_unknown_reason"] = pending->securityUnknownReason;
            }
        }
    } else {
        details["pending_updates"] = nullptr;
        details["security_updates"] = nullptr;
    }

    const std::string upgrade =
        detection.manager ? upgradeCommand(*detection.manager) : std::string();
    const std::string rebootCommand = "sudo systemctl reboot";
    const bool securityPending = pending && pending->security.value_or(0) > 0;
    const bool rebootRequired = reboot.required.value_or(false);

    if (securityPending || rebootRequired) {
        std::vector<std::string> summary;
        std::string remediation;
        if (securityPending) {
            summary.push_back(plural(*pending->security, "security update") + " pending (" +
                              plural(pending->total, "update") + " in total)");
            remediation = "Install the pending updates: " + upgrade;
        }
        if (rebootRequired) {
            summary.push_back("reboot required: " + joined(reboot.reasons, "; "));
            remediation +=
                remediation.empty()
                    ? "Restart the computer to run the updated software: " + rebootCommand
                    : ", then restart the computer: " + rebootCommand;
        }
        if (!pending)
            summary.push_back("pending updates unknown: " + unknownReason);
        std::string text = joined(summary, "; ");
        text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
        return CheckResult::fail(std::string(id()), text, remediation, std::move(details));
    }
    if (!pending)
        return CheckResult::unknown(std::string(id()), unknownReason, std::move(details));
    if (!reboot.required)
        return CheckResult::unknown(std::string(id()), reboot.unknownReason, std::move(details));

    // Nothing pending according to lists that may be old: what was published since they were
    // refreshed is missing from the answer, so it is no pass. (A pending security update from
    // old lists is still pending, so fail above stands.)
    const auto refreshAge = details.find("last_refresh_age_days");
    if (refreshAge == details.end() || refreshAge->get<long long>() > maxListAgeDays) {
        const std::string refreshed = refreshAge != details.end()
                                          ? "package lists last refreshed " +
                                                std::to_string(refreshAge->get<long long>()) +
                                                " days ago"
                                          : "package lists: refresh time unknown";
        auto result = CheckResult::unknown(
            std::string(id()), refreshed + "; pending updates may be missing", std::move(details));
        result.summary += ". Refresh them: " + refreshCommand(*detection.manager);
        return result;
    }

    std::string summary = pending->total == 0 ? "No updates pending"
                                              : plural(pending->total, "update") +
                                                    " pending, none of them " + "security updates";
    if (!pending->security)
        summary = plural(pending->total, "update") +
                  " pending; pacman does not classify security updates";
    summary += ", no reboot required";
    return CheckResult::pass(std::string(id()), summary, std::move(details));
}

} // namespace vigil::posture
