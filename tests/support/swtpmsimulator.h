#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace vigil::test {

// A real software TPM (swtpm) for tests: manufactured in its own temporary directory by
// swtpm_setup with an RSA-2048 and an ECC EK, EK and platform certificates issued by a private
// local CA, serving on a pair of loopback ports that the simulator holds while swtpm is stopped
// and whose control socket it hands to swtpm, so that suites running side by side never meet
// each other's TPM. swtpm dies with the test process.
class SwtpmSimulator
{
public:
    // Throws std::runtime_error naming the failing step (and swtpm's own log) on failure.
    SwtpmSimulator();
    ~SwtpmSimulator();
    SwtpmSimulator(const SwtpmSimulator &) = delete;
    SwtpmSimulator &operator=(const SwtpmSimulator &) = delete;

    // TCTI configuration for tss2-tctildr and tpm2-tools, e.g. "swtpm:host=127.0.0.1,port=2321".
    std::string tcti() const;
    // The local CA: issuercert.pem (intermediate) and swtpm-localca-rootca-cert.pem (root).
    std::filesystem::path caDirectory() const { return m_directory / "ca"; }
    // A scratch directory inside the simulator's temporary directory, removed with it.
    std::filesystem::path scratchDirectory() const { return m_directory / "scratch"; }

    // A power cycle: swtpm stops and starts again on the same state (TPM2_Startup(CLEAR)).
    void restart();
    void stop();
    void start();
    // SIGSTOP and SIGCONT: a TPM that takes as long as the test wants to answer.
    void pause();
    void resume();

private:
    // Binds m_port and m_port + 1 (not listening: connections are refused); false if taken.
    bool reservePorts(unsigned short port);
    // Empty when swtpm serves on the reserved ports, otherwise why it does not.
    std::string startOnce();
    // Ends swtpm, if running, and waits for it.
    void terminate();

    std::filesystem::path m_directory;
    unsigned short m_port = 0;
    int m_serverSocket = -1;
    int m_controlSocket = -1;
    pid_t m_pid = -1;
};

} // namespace vigil::test
