#pragma once

#include "server/storage/sqliteconnection.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace vigil::server::sqlite {

// Copies the write-ahead log back into the database file on a connection and thread of its
// own. SQLite's automatic checkpoint would run inside the COMMIT that crosses the threshold,
// under SqliteStorage's mutex, and every request would wait while it copies up to 1,000 pages and
// syncs twice. A passive checkpoint takes no lock that writers need.
//
// Under steady writes a concurrent checkpoint never quite catches up (frames keep arriving
// while it syncs and copies), and SQLite starts the log afresh only after one that copied
// everything: left alone the log grew to 200 MB in bench_storage. So past hardLimitPages the
// serving connection checkpoints itself, as SQLite's automatic checkpoint would, but by then
// only the frames written since the last background pass are left to copy.
//
// A background pass starts once per thresholdPages new frames, not after every commit past the
// threshold. The verifier rewrites the same few pages in every report (the device row, its
// nonces, the ends of the audit table and its indexes); a pass copies each page once however
// many frames hold it, so passes over 1,000 frames copy a fraction of what passes over a few
// dozen did. Passing after every commit, the checkpointer was 7 % of the verifier's CPU. Only
// in the last thresholdPages before the hard limit does every commit ask for a pass, so that
// the one the serving connection runs there has little left to copy under the mutex.
class Checkpointer
{
public:
    // SQLite's default automatic checkpoint threshold: about 4 MiB of log.
    static constexpr int thresholdPages = 1000;
    static constexpr int hardLimitPages = 10 * thresholdPages;

    // Opens a connection of its own on path and starts the thread.
    explicit Checkpointer(const std::string &path);
    ~Checkpointer();
    Checkpointer(const Checkpointer &) = delete;
    Checkpointer &operator=(const Checkpointer &) = delete;

    // Installed with sqlite3_wal_hook on the serving connection (replacing its automatic
    // checkpoint): called after each commit, outside the transaction, with the number of pages
    // in the log.
    static int walHook(void *self, sqlite3 *db, const char *name, int pages);

private:
    void request();
    void run();

    Connection m_connection;
    int m_requestedAt = 0; // log pages at the last request; walHook's alone, under the mutex
                           // of the serving connection
    std::mutex m_running;  // held while a checkpoint runs, in either thread
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_wanted = false;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace vigil::server::sqlite
