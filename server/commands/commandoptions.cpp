#include "server/commands/commandoptions.h"

#include "server/admin/datadirectory.h"

#include <cstdlib>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

QCommandLineOption dataOption()
{
    return QCommandLineOption(
        u"data"_s, u"The verifier's data directory (also $VIGIL_VERIFIER_DATA)."_s, u"DIR"_s);
}

QCommandLineOption jsonOption()
{
    return QCommandLineOption(u"json"_s, u"Print machine-readable JSON."_s);
}

std::filesystem::path dataDirectory(const cli::Invocation &invocation)
{
    std::string dir = invocation.value(dataOption());
    if (dir.empty())
        if (const char *env = std::getenv("VIGIL_VERIFIER_DATA"))
            dir = env;
    if (dir.empty())
        throw cli::UsageError("no data directory: give --data DIR or set VIGIL_VERIFIER_DATA");
    return dir;
}

std::unique_ptr<SqliteStorage> openStorage(const cli::Invocation &invocation)
{
    return SqliteStorage::open(DataDirectory::open(dataDirectory(invocation)).database());
}

} // namespace vigil::server::commands
