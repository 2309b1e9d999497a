#pragma once

#include <QByteArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace vigil::test {

// The built vigild as a separate process, with its configuration written to
// <directory>/vigild.json and its log (stderr) kept in <directory>/vigild.log.
class VigildProcess
{
public:
    // config is vigild.json's content; tokenFile is passed as --enrollment-token-file.
    VigildProcess(std::filesystem::path directory, nlohmann::json config,
                  std::filesystem::path tokenFile,
                  QProcessEnvironment environment = QProcessEnvironment::systemEnvironment());
    // Stops it (SIGTERM, then SIGKILL after 10 s).
    ~VigildProcess();
    VigildProcess(const VigildProcess &) = delete;
    VigildProcess &operator=(const VigildProcess &) = delete;

    // A program that runs vigild: it is given vigild's path and arguments after its own (and
    // must exec vigild, so that pid() is vigild's). Empty (the default): vigild itself.
    void setWrapper(QStringList programAndArguments) { m_wrapper = std::move(programAndArguments); }

    // Starts it and returns once it says it started (its socket listens), or false when it
    // ended first or took longer than 20 s (the log says why).
    bool start();
    // SIGTERM and waits: its exit code, -1 when it had to be killed or crashed.
    int stop();
    // Waits up to 20 s for it to end by itself: its exit code, or -1.
    int waitForExit();
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    qint64 pid() const { return m_process.processId(); }

    std::filesystem::path socket() const;
    std::filesystem::path configFile() const { return m_directory / "vigild.json"; }
    QByteArray log() const;

private:
    std::filesystem::path m_directory;
    nlohmann::json m_config;
    std::filesystem::path m_tokenFile;
    QStringList m_wrapper;
    QProcess m_process;
};

} // namespace vigil::test
