// `vigil-verifier devices list | show | revoke`: the enrolled devices.
#include "server/admin/admincommands.h"
#include "server/commands/commandoptions.h"

#include <chrono>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

const cli::Argument deviceId{u"ID"_s, u"The device's id, as devices list shows it."_s};

class DevicesListCommand : public cli::Command
{
public:
    DevicesListCommand()
    {
        m_name = u"devices list"_s;
        m_synopsis = u"--data DIR [--json]"_s;
        m_description = u"List the enrolled devices."_s;
        m_options = {dataOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &) override
    {
        return listDevices(*openStorage(invocation), invocation.isSet(jsonOption()), out);
    }
};

class DevicesShowCommand : public cli::Command
{
public:
    DevicesShowCommand()
    {
        m_name = u"devices show"_s;
        m_synopsis = u"--data DIR ID [--json]"_s;
        m_description = u"Show a device and its latest appraisals."_s;
        m_options = {dataOption(), jsonOption()};
        m_arguments = {deviceId};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return showDevice(*openStorage(invocation), invocation.argument(0),
                          invocation.isSet(jsonOption()), out, err);
    }
};

class DevicesRevokeCommand : public cli::Command
{
public:
    DevicesRevokeCommand()
    {
        m_name = u"devices revoke"_s;
        m_synopsis = u"--data DIR ID [--reason TEXT]"_s;
        m_description = u"Revoke a device: it gets no token from that moment."_s;
        m_options = {dataOption(), m_reason};
        m_arguments = {deviceId};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return revokeDevice(*openStorage(invocation), invocation.argument(0),
                            invocation.value(m_reason), std::chrono::system_clock::now(), out, err);
    }

private:
    const QCommandLineOption m_reason{u"reason"_s, u"Why, kept with the revocation."_s, u"TEXT"_s};
};

} // namespace

std::unique_ptr<cli::Command> devicesList()
{
    return std::make_unique<DevicesListCommand>();
}

std::unique_ptr<cli::Command> devicesShow()
{
    return std::make_unique<DevicesShowCommand>();
}

std::unique_ptr<cli::Command> devicesRevoke()
{
    return std::make_unique<DevicesRevokeCommand>();
}

} // namespace vigil::server::commands
