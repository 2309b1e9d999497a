#pragma once

// The SQLite plumbing under SqliteStorage: a connection with its cached statements, one use of a
// statement (Query), and a transaction. Internal to server/.

#include "server/storage/storage.h"

#include <memory>
#include <optional>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vigil::server::sqlite {

inline std::int64_t unixSeconds(TimePoint time)
{
    return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

inline TimePoint fromUnixSeconds(std::int64_t seconds)
{
    return TimePoint(std::chrono::seconds(seconds));
}

// One sqlite3 handle on path, opened read-write (never created: the file is created with its
// mode first), never through a symbolic link, with extended result codes and a busy timeout
// that keeps other processes (the admin CLI) and this one apart. Failures throw StorageError
// naming the file and what was being done.
class Connection
{
public:
    explicit Connection(const std::string &path);

    sqlite3 *db() const { return m_db.get(); }
    const std::string &path() const { return m_path; }

    [[noreturn]] void fail(int code, const char *what) const;
    void check(int rc, const char *what) const
    {
        if (rc != SQLITE_OK)
            fail(rc, what);
    }

    // For pragmas and migrations: any number of statements, results ignored.
    void exec(const char *sql, const char *what);

    // The statement for sql, prepared on first use and kept; found again by sql's address, so
    // sql must be a string literal or otherwise outlive the connection.
    sqlite3_stmt *prepared(const char *sql, const char *what);

    int changes() const { return sqlite3_changes(m_db.get()); }

private:
    struct DatabaseDeleter
    {
        void operator()(sqlite3 *db) const { sqlite3_close_v2(db); }
    };
    struct StatementDeleter
    {
        void operator()(sqlite3_stmt *statement) const { sqlite3_finalize(statement); }
    };

    std::string m_path;
    std::unique_ptr<sqlite3, DatabaseDeleter> m_db;
    // Declared after m_db: statements are finalised before the connection closes.
    std::unordered_map<const char *, std::unique_ptr<sqlite3_stmt, StatementDeleter>> m_statements;
};

// Connection settings that live per connection rather than in the file.
void configure(Connection &connection);

// One use of a cached statement: binds in order, steps, and resets on the way out so that no
// statement keeps a read transaction open.
class Query
{
public:
    Query(Connection &connection, const char *sql, const char *what)
        : m_connection(connection), m_statement(connection.prepared(sql, what)), m_what(what)
    {
    }
    ~Query()
    {
        sqlite3_reset(m_statement);
        sqlite3_clear_bindings(m_statement);
    }
    Query(const Query &) = delete;
    Query &operator=(const Query &) = delete;

    // Bound values are not copied: they must outlive the query, hence no temporaries.
    Query &bind(std::string_view text)
    {
        // A null pointer would bind NULL rather than the empty string.
        check(sqlite3_bind_text(m_statement, ++m_parameter, text.empty() ? "" : text.data(),
                                static_cast<int>(text.size()), SQLITE_STATIC));
        return *this;
    }
    Query &bind(const std::string &text) { return bind(std::string_view(text)); }
    Query &bind(std::string &&) = delete;
    Query &bind(const Bytes &bytes)
    {
        if (bytes.empty())
            check(sqlite3_bind_zeroblob(m_statement, ++m_parameter, 0));
        else
            check(sqlite3_bind_blob(m_statement, ++m_parameter, bytes.data(),
                                    static_cast<int>(bytes.size()), SQLITE_STATIC));
        return *this;
    }
    Query &bind(Bytes &&) = delete;
    Query &bind(std::int64_t value)
    {
        check(sqlite3_bind_int64(m_statement, ++m_parameter, value));
        return *this;
    }
    Query &bind(std::nullopt_t)
    {
        check(sqlite3_bind_null(m_statement, ++m_parameter));
        return *this;
    }
    Query &bind(TimePoint time) { return bind(unixSeconds(time)); }
    Query &bind(const std::optional<TimePoint> &time)
    {
        return time ? bind(*time) : bind(std::nullopt);
    }
    // TPM counters, or three NULLs. The clock is a uint64 stored bit for bit in SQLite's signed
    // 64-bit integer: only equality is ever asked of it.
    Query &bind(const std::optional<TpmCounters> &counters)
    {
        if (!counters)
            return bind(std::nullopt).bind(std::nullopt).bind(std::nullopt);
        return bind(static_cast<std::int64_t>(counters->clock))
            .bind(static_cast<std::int64_t>(counters->resetCount))
            .bind(static_cast<std::int64_t>(counters->restartCount));
    }

    // True while there is a row.
    bool step()
    {
        const int rc = sqlite3_step(m_statement);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        m_connection.fail(rc, m_what);
    }
    void run()
    {
        while (step()) {
        }
    }

    bool isNull(int column) const
    {
        return sqlite3_column_type(m_statement, column) == SQLITE_NULL;
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(m_statement, column); }
    std::string text(int column) const
    {
        const auto *data = sqlite3_column_text(m_statement, column);
        const int size = sqlite3_column_bytes(m_statement, column);
        return data ? std::string(reinterpret_cast<const char *>(data), size) : std::string();
    }
    Bytes blob(int column) const
    {
        const auto *data =
            static_cast<const std::uint8_t *>(sqlite3_column_blob(m_statement, column));
        const int size = sqlite3_column_bytes(m_statement, column);
        return data ? Bytes(data, data + size) : Bytes();
    }
    TimePoint time(int column) const { return fromUnixSeconds(integer(column)); }
    std::optional<TimePoint> optionalTime(int column) const
    {
        if (isNull(column))
            return std::nullopt;
        return time(column);
    }
    std::optional<TpmCounters> counters(int column) const
    {
        if (isNull(column))
            return std::nullopt;
        return TpmCounters{static_cast<std::uint64_t>(integer(column)),
                           static_cast<std::uint32_t>(integer(column + 1)),
                           static_cast<std::uint32_t>(integer(column + 2))};
    }

private:
    void check(int rc)
    {
        if (rc != SQLITE_OK)
            m_connection.fail(rc, m_what);
    }

    Connection &m_connection;
    sqlite3_stmt *m_statement;
    const char *m_what;
    int m_parameter = 0;
};

// BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads before it writes
// never has to give up with SQLITE_BUSY_SNAPSHOT halfway; rolled back unless committed.
class Transaction
{
public:
    Transaction(Connection &connection, const char *what);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    void commit();

private:
    Connection &m_connection;
    const char *m_what;
    bool m_committed = false;
};

} // namespace vigil::server::sqlite
