#pragma once

// What opening vigil-verifier's SQLite file involves besides the connection: the file's owner and
// mode (it holds device key bindings and token hashes), our application id, write-ahead
// logging and the schema migrations. Internal to server/.

#include "server/storage/sqliteconnection.h"

#include <string>

namespace vigil::server::sqlite {

// Creates path (mode 0600, never through a symbolic link) unless it exists.
void createPrivateFile(const std::string &path);
// Throws StorageError, with the command that fixes it, unless path is a regular file (not a
// symbolic link) owned by the effective user and closed to group and others; a missing file
// passes unless mustExist.
void checkPrivateFile(const std::string &path, bool mustExist);

// Refuses a SQLite file of another program or of a newer vigil-verifier, gives a new file our
// application id, turns on write-ahead logging and runs the migrations it lacks.
void prepareSchema(Connection &connection);
// The schema version this build writes.
int latestSchemaVersion();

} // namespace vigil::server::sqlite
