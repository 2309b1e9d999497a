#include "fixturecommandrunner.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace vigil::test {

namespace {

std::string readAll(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read fixture " + path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

} // namespace

FixtureCommandRunner::FixtureCommandRunner(const std::filesystem::path &directory)
{
    std::error_code ec;
    if (!std::filesystem::is_directory(directory, ec))
        return;
    for (const auto &entry : std::filesystem::directory_iterator(directory)) {
        if (entry.path().extension() != ".json")
            continue;
        const auto json = nlohmann::json::parse(readAll(entry.path()));
        posture::Command command;
        command.program = json.at("program").get<std::string>();
        command.arguments = json.value("arguments", std::vector<std::string>{});
        posture::CommandResult result;
        const auto outcome = json.value("outcome", std::string("exited"));
        if (outcome == "exited")
            result.outcome = posture::CommandResult::Outcome::Exited;
        else if (outcome == "timed_out")
            result.outcome = posture::CommandResult::Outcome::TimedOut;
        else if (outcome == "crashed")
            result.outcome = posture::CommandResult::Outcome::Crashed;
        else if (outcome == "failed_to_start")
            result.outcome = posture::CommandResult::Outcome::FailedToStart;
        else
            throw std::runtime_error("bad outcome in " + entry.path().string());
        result.exitCode = json.value("exit_code", 0);
        if (json.contains("stdout_file"))
            result.standardOutput = readAll(directory / json.at("stdout_file").get<std::string>());
        else
            result.standardOutput = json.value("stdout", std::string());
        result.standardError = json.value("stderr", std::string());
        result.error = json.value("error", std::string());
        add(command, std::move(result));
    }
}

std::string FixtureCommandRunner::key(const std::string &program,
                                      const std::vector<std::string> &args)
{
    std::string k = program;
    for (const auto &a : args)
        k += '\x1f' + a;
    return k;
}

void FixtureCommandRunner::add(const posture::Command &command, posture::CommandResult result)
{
    std::lock_guard lock(m_mutex);
    m_results[key(command.program, command.arguments)] = std::move(result);
}

posture::CommandResult FixtureCommandRunner::run(const posture::Command &command)
{
    std::lock_guard lock(m_mutex);
    m_history.push_back(command.toString());
    auto it = m_results.find(key(command.program, command.arguments));
    if (it == m_results.end()) {
        posture::CommandResult missing;
        missing.outcome = posture::CommandResult::Outcome::NotFound;
        missing.error = "no such file or directory";
        return missing;
    }
    return it->second;
}

std::vector<std::string> FixtureCommandRunner::history() const
{
    std::lock_guard lock(m_mutex);
    return m_history;
}

} // namespace vigil::test
