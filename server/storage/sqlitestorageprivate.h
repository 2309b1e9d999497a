#pragma once

// SqliteStorage's insides, shared by the files that implement it (sqlitestorage.cpp for
// devices, sqliteuserstorage.cpp for users). Internal to server/storage.

#include "server/storage/sqlitecheckpointer.h"
#include "server/storage/sqliteconnection.h"
#include "server/storage/sqlitedatabasefile.h"
#include "server/storage/sqlitestorage.h"

#include <memory>
#include <mutex>
#include <sqlite3.h>
#include <type_traits>

namespace vigil::server {

class SqliteStorage::Private
{
public:
    explicit Private(const std::string &path) : m_connection(path)
    {
        sqlite::prepareSchema(m_connection);
        sqlite::configure(m_connection);
        m_checkpointer = std::make_unique<sqlite::Checkpointer>(path);
        sqlite3_wal_hook(m_connection.db(), &sqlite::Checkpointer::walHook, m_checkpointer.get());
    }
    ~Private() { sqlite3_wal_hook(m_connection.db(), nullptr, nullptr); }
    Private(const Private &) = delete;
    Private &operator=(const Private &) = delete;

    template <typename F> auto read(F &&function)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return function(m_connection);
    }

    // One transaction around function; committed when it returns, rolled back when it throws.
    template <typename F> auto write(const char *what, F &&function)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        sqlite::Transaction transaction(m_connection, what);
        if constexpr (std::is_void_v<decltype(function(m_connection))>) {
            function(m_connection);
            transaction.commit();
        } else {
            auto result = function(m_connection);
            transaction.commit();
            return result;
        }
    }

private:
    std::mutex m_mutex;
    sqlite::Connection m_connection;
    // Declared last: stopped before the serving connection closes (which checkpoints a last
    // time and removes the log).
    std::unique_ptr<sqlite::Checkpointer> m_checkpointer;
};

} // namespace vigil::server
