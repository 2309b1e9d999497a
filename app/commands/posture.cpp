// `vigilctl posture`: this machine's security posture, as a table or JSON.
#include "app/commands/posturecollection.h"
#include "app/commands/posturetable.h"
#include "app/commands/sharedoptions.h"

#include <ostream>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class PostureCommand : public cli::Command
{
public:
    PostureCommand()
    {
        m_name = u"posture"_s;
        m_synopsis = u"[--json]"_s;
        m_description = u"Collect and print this machine's security posture."_s;
        m_help = u"Runs every posture check on this machine and prints one line per check; "
                 "with --json, the snapshot that reports carry."_s;
        m_options = {jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        const auto snapshot = collectPosture();
        if (invocation.isSet(jsonOption())) {
            out << snapshot.toJson().dump(2) << "\n";
        } else {
            TableOptions table;
            table.color = colorOutput();
            out << formatPostureTable(snapshot, table);
        }
        return out.good() ? 0 : 1;
    }
};

} // namespace

std::unique_ptr<cli::Command> posture()
{
    return std::make_unique<PostureCommand>();
}

} // namespace vigil::app::commands
