#include "server/storage/sqlitecheckpointer.h"

namespace vigil::server::sqlite {

Checkpointer::Checkpointer(const std::string &path) : m_connection(path)
{
    configure(m_connection);
    // A connection learns that the file is in WAL mode from its first read; until then a
    // checkpoint request on it may do nothing.
    Query(m_connection, "SELECT count(*) FROM sqlite_schema", "starting the checkpointer").run();
    m_thread = std::thread([this] { run(); });
}

Checkpointer::~Checkpointer()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

int Checkpointer::walHook(void *self, sqlite3 *db, const char *name, int pages)
{
    auto *checkpointer = static_cast<Checkpointer *>(self);
    if (pages < checkpointer->m_requestedAt) // the log started afresh
        checkpointer->m_requestedAt = 0;
    if (pages >= hardLimitPages) {
        // Two checkpoints cannot run at once: wait for a background pass to finish rather
        // than fail with SQLITE_BUSY and let the log grow on.
        std::lock_guard<std::mutex> running(checkpointer->m_running);
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= checkpointer->m_requestedAt + thresholdPages ||
               pages >= hardLimitPages - thresholdPages) {
        checkpointer->m_requestedAt = pages;
        checkpointer->request();
    }
    return SQLITE_OK;
}

void Checkpointer::request()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_wanted = true;
    }
    m_wake.notify_one();
}

void Checkpointer::run()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || m_wanted; });
        if (m_stop)
            return;
        m_wanted = false;
        lock.unlock();
        {
            std::lock_guard<std::mutex> running(m_running);
            // Failures need no handling here: SQLITE_BUSY means another process is
            // checkpointing, and an I/O error shows up on the next write as well. The log
            // keeps growing meanwhile, and the next commit asks again.
            sqlite3_wal_checkpoint_v2(m_connection.db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                      nullptr, nullptr);
        }
        lock.lock();
    }
}

} // namespace vigil::server::sqlite
