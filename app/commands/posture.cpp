// `vigilctl posture`: this machine's security posture, as a table or JSON.
#include "app/commands/posturecollection.h"
#include "app/commands/posturetable.h"
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

#include <ostream>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

// Each collector has 5 s; they run side by side.
constexpr std::chrono::milliseconds postureTimeout{60000};

class PostureCommand : public cli::Command
{
public:
    PostureCommand()
    {
        m_name = u"posture"_s;
        m_synopsis = u"[--json] [--socket PATH]"_s;
        m_description = u"Collect and print this machine's security posture."_s;
        m_help = u"Runs every posture check on this machine (through vigild when it runs, "
                 "otherwise in-process) and prints one line per check; with --json, the "
                 "snapshot that reports carry."_s;
        m_options = {jsonOption(), socketOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const bool json = invocation.isSet(jsonOption());
        const auto print = [&](const posture::PostureSnapshot &snapshot) {
            if (json) {
                out << snapshot.toJson().dump(2) << "\n";
            } else {
                TableOptions table;
                table.color = colorOutput();
                out << formatPostureTable(snapshot, table);
            }
            return out.good() ? 0 : 1;
        };
        return askVigild(
            invocation, err,
            [&](ipcclient::VigildClient &vigild) {
                protocol::ipc::Request request;
                request.method = protocol::ipc::Method::Posture;
                const auto result = protocol::ipc::PostureResult::fromJson(
                    vigild.call(request, postureTimeout), "/result");
                if (!json)
                    return print(posture::PostureSnapshot::fromJson(result.snapshot));
                out << result.snapshot.dump(2) << "\n"; // as vigild sent it
                return out.good() ? 0 : 1;
            },
            InProcess{[&] { return print(collectPosture()); }, std::nullopt});
    }
};

} // namespace

std::unique_ptr<cli::Command> posture()
{
    return std::make_unique<PostureCommand>();
}

} // namespace vigil::app::commands
