#include "server/storage/sqliteconnection.h"

namespace vigil::server::sqlite {
namespace {

constexpr std::chrono::milliseconds busyTimeout{5000};

constexpr char sqlBegin[] = "BEGIN IMMEDIATE";
constexpr char sqlCommit[] = "COMMIT";
constexpr char sqlRollback[] = "ROLLBACK";

std::string damagedHint(int code)
{
    const int primary = code & 0xff;
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
        return " (the file is not a vigil-verifier database or is damaged: restore it from a "
               "backup or move it away)";
    return {};
}

} // namespace

Connection::Connection(const std::string &path) : m_path(path)
{
    sqlite3 *db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                       SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
                                   nullptr);
    m_db.reset(db);
    if (rc != SQLITE_OK) {
        if (!db)
            throw StorageError(path + ": cannot open: out of memory");
        fail(rc, "opening");
    }
    sqlite3_busy_timeout(db, static_cast<int>(busyTimeout.count()));
}

void Connection::fail(int code, const char *what) const
{
    throw StorageError(m_path + ": " + what + ": " + sqlite3_errmsg(m_db.get()) +
                       damagedHint(code));
}

void Connection::exec(const char *sql, const char *what)
{
    check(sqlite3_exec(m_db.get(), sql, nullptr, nullptr, nullptr), what);
}

sqlite3_stmt *Connection::prepared(const char *sql, const char *what)
{
    auto &slot = m_statements[sql];
    if (!slot) {
        sqlite3_stmt *statement = nullptr;
        const int rc =
            sqlite3_prepare_v3(m_db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
        if (rc != SQLITE_OK) {
            m_statements.erase(sql);
            fail(rc, what);
        }
        slot.reset(statement);
    }
    return slot.get();
}

void configure(Connection &connection)
{
    connection.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                    "configuring the connection");
}

Transaction::Transaction(Connection &connection, const char *what)
    : m_connection(connection), m_what(what)
{
    Query(connection, sqlBegin, what).run();
}

Transaction::~Transaction()
{
    if (!m_committed && !sqlite3_get_autocommit(m_connection.db())) {
        try {
            Query(m_connection, sqlRollback, m_what).run();
        } catch (const StorageError &) {
            // SQLite rolls back by itself when it cannot: nothing more to do here.
        }
    }
}

void Transaction::commit()
{
    Query(m_connection, sqlCommit, m_what).run();
    m_committed = true;
}

} // namespace vigil::server::sqlite
