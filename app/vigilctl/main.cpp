// vigilctl: Vigil's command-line client. For now it runs the posture collectors in-process;
// once vigild exists it will ask the daemon over local IPC instead.
#include "host.h"
#include "postureengine.h"
#include "posturetable.h"
#include "standardcollectors.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>
#include <unistd.h>

namespace {

constexpr const char *usage = R"(Usage: vigilctl <command> [options]

Commands:
  posture [--json]   Collect and print this machine's security posture.

Options:
  --json             Print machine-readable JSON instead of a table.
  -h, --help         Show this help.
  --version          Show the version.

Exit status: 0 on success, 1 if the output could not be written, 2 on a usage error.
)";

int runPosture(bool json)
{
    auto host = std::make_shared<const vigil::posture::Host>(vigil::posture::Host::local());
    vigil::posture::PostureEngine engine(host, vigil::posture::standardCollectors());
    const auto snapshot = engine.collect();
    if (json) {
        std::cout << snapshot.toJson().dump(2) << "\n";
    } else {
        vigil::app::TableOptions options;
        options.color = ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
        std::cout << vigil::app::formatPostureTable(snapshot, options);
    }
    return std::cout.good() ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    std::string_view command;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::cout << usage;
            return 0;
        }
        if (arg == "--version") {
            std::cout << "vigilctl " VIGIL_VERSION "\n";
            return 0;
        }
        if (arg == "--json") {
            json = true;
        } else if (command.empty() && !arg.starts_with('-')) {
            command = arg;
        } else {
            std::cerr << "vigilctl: unexpected argument '" << arg << "'\n\n" << usage;
            return 2;
        }
    }
    if (command == "posture") {
        const int status = runPosture(json);
        // A slow check may still be finishing on a detached thread (a package-manager query
        // runs on past the report). Leave without running static destructors under it.
        std::cout.flush();
        std::_Exit(status);
    }
    if (command.empty())
        std::cerr << "vigilctl: no command given\n\n" << usage;
    else
        std::cerr << "vigilctl: unknown command '" << command << "'\n\n" << usage;
    return 2;
}
