#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace vigil::test {

// A real software TPM (swtpm) for tests: manufactured in its own temporary directory by
// swtpm_setup with an RSA-2048 and an ECC EK, EK and platform certificates issued by a private
// local CA, listening on free loopback ports. swtpm dies with the test process.
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

private:
    // Empty when swtpm serves on m_port, otherwise why it does not.
    std::string startOnce();

    std::filesystem::path m_directory;
    unsigned short m_port = 0;
    pid_t m_pid = -1;
};

} // namespace vigil::test
