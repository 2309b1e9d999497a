#include "swtpmsimulator.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace vigil::test {

namespace {

std::string readAll(const std::filesystem::path &path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeText(const std::filesystem::path &path, const std::string &text)
{
    std::ofstream out(path);
    out << text;
    if (!out)
        throw std::runtime_error("swtpm fixture: cannot write " + path.string());
}

// In a child before exec: the test's sockets (a verifier's kept-alive connections, say) would
// otherwise stay open in a long-lived swtpm, and their peers would never see them close. A
// kernel without close_range (before 5.9) leaves them open, which only slows teardown.
void closeInheritedDescriptors()
{
    ::close_range(STDERR_FILENO + 1, ~0U, 0);
}

// Runs a program to completion with stdout and stderr appended to logFile.
int runProgram(const std::vector<std::string> &argv, const std::filesystem::path &logFile)
{
    // Built before fork: the child of a process with threads may only make async-signal-safe
    // calls until it execs, and allocating is not one.
    std::vector<char *> args;
    for (const std::string &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        const int log = open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        closeInheritedDescriptors();
        execvp(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

sockaddr_in loopback(unsigned short port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
}

// Whether port can be bound on loopback now: the port, or 0.
unsigned short bindLoopback(unsigned short port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    sockaddr_in address = loopback(port);
    socklen_t length = sizeof address;
    unsigned short bound = 0;
    if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        bound = ntohs(address.sin_port);
    close(fd);
    return bound;
}

// The kernel's range for the local ports of outgoing connections.
std::pair<int, int> ephemeralPortRange()
{
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 32768, high = 60999;
    in >> low >> high;
    return {low, high};
}

// Two adjacent free ports outside the ephemeral range, or 0. The swtpm TCTI opens a connection
// per TPM command, so a test that sends thousands leaves thousands of ephemeral ports in
// TIME_WAIT for a minute; a port bind(0) hands out there often has its neighbour taken, and
// neither swtpm nor SO_REUSEADDR can bind a port whose TIME_WAIT socket did not ask for reuse.
unsigned short freePortPair()
{
    static std::mt19937 random{std::random_device{}()};
    const auto [low, high] = ephemeralPortRange();
    // Even ports from 10000 up to the range and from above it, whichever has room.
    std::vector<std::pair<int, int>> spans;
    if (low - 2 > 10000)
        spans.emplace_back(10000, low - 2);
    if (65534 - (high + 1) > 2)
        spans.emplace_back(high + 1, 65533);
    if (spans.empty())
        return 0;
    const auto &span = spans[random() % spans.size()];
    const int port = std::uniform_int_distribution<int>(span.first, span.second)(random) & ~1;
    if (bindLoopback(static_cast<unsigned short>(port)) == 0 ||
        bindLoopback(static_cast<unsigned short>(port + 1)) == 0)
        return 0;
    return static_cast<unsigned short>(port);
}

bool acceptsConnections(unsigned short port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const sockaddr_in address = loopback(port);
    const bool connected =
        connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0;
    close(fd);
    return connected;
}

} // namespace

SwtpmSimulator::SwtpmSimulator()
{
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/vigil-swtpm-XXXXXX";
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("swtpm fixture: mkdtemp failed");
    m_directory = pattern;
    std::filesystem::create_directories(m_directory / "state");
    std::filesystem::create_directories(m_directory / "ca");
    std::filesystem::create_directories(scratchDirectory());

    const auto ca = caDirectory();
    writeText(m_directory / "localca.conf",
              "statedir = " + ca.string() + "\nsigningkey = " + (ca / "signkey.pem").string() +
                  "\nissuercert = " + (ca / "issuercert.pem").string() +
                  "\ncertserial = " + (ca / "certserial").string() + "\n");
    writeText(m_directory / "localca.options",
              "--platform-manufacturer Vigil\n--platform-version 2.1\n--platform-model Test\n");
    writeText(m_directory / "setup.conf",
              "create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = " +
                  (m_directory / "localca.conf").string() + "\ncreate_certs_tool_options = " +
                  (m_directory / "localca.options").string() + "\nactive_pcr_banks = sha256\n");

    const auto log = m_directory / "setup.log";
    const int rc =
        runProgram({"swtpm_setup", "--tpm2", "--tpmstate", (m_directory / "state").string(),
                    "--create-ek-cert", "--create-platform-cert", "--overwrite", "--config",
                    (m_directory / "setup.conf").string()},
                   log);
    if (rc != 0) {
        const std::string output = readAll(log);
        std::filesystem::remove_all(m_directory);
        throw std::runtime_error("swtpm_setup failed (exit " + std::to_string(rc) +
                                 "; is swtpm-tools "
                                 "installed? scripts/bootstrap.sh installs it):\n" +
                                 output);
    }

    // The swtpm TCTI expects the control channel on port + 1. A port found free here can be
    // taken by someone else before swtpm binds it, so a failed start tries other ports.
    std::string attempts;
    for (int attempt = 0; attempt < 20; ++attempt) {
        m_port = freePortPair();
        const std::string failure = m_port == 0 ? "the pair of ports picked was taken" : startOnce();
        if (failure.empty())
            return;
        attempts += "  port " + std::to_string(m_port) + ": " + failure + "\n";
    }
    const std::string output = readAll(m_directory / "swtpm.log");
    std::filesystem::remove_all(m_directory);
    throw std::runtime_error("swtpm did not start on a loopback port:\n" + attempts +
                             "swtpm's log:\n" + output);
}

SwtpmSimulator::~SwtpmSimulator()
{
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(m_directory, ignored);
}

std::string SwtpmSimulator::tcti() const
{
    return "swtpm:host=127.0.0.1,port=" + std::to_string(m_port);
}

void SwtpmSimulator::start()
{
    if (m_pid > 0)
        return;
    if (const std::string failure = startOnce(); !failure.empty())
        throw std::runtime_error("swtpm did not restart on port " + std::to_string(m_port) + " (" +
                                 failure + "):\n" + readAll(m_directory / "swtpm.log"));
}

std::string SwtpmSimulator::startOnce()
{
    const std::string state = "dir=" + (m_directory / "state").string();
    const std::string server = "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(m_port);
    const std::string control = "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(m_port + 1);
    const std::string log = "file=" + (m_directory / "swtpm.log").string();
    const pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        closeInheritedDescriptors();
        execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state.c_str(), "--server",
               server.c_str(), "--ctrl", control.c_str(), "--flags", "not-need-init,startup-clear",
               "--log", log.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    // Ready once the control port answers; gone if swtpm exited (port taken, bad state).
    for (int i = 0; i < 500; ++i) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? "swtpm exited with status " +
                                           std::to_string(WEXITSTATUS(status))
                                     : "swtpm was killed by signal " +
                                           std::to_string(WTERMSIG(status));
        if (acceptsConnections(static_cast<unsigned short>(m_port + 1))) {
            m_pid = pid;
            return {};
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return "the control port did not answer within 5 s";
}

void SwtpmSimulator::stop()
{
    if (m_pid <= 0)
        return;
    kill(m_pid, SIGTERM);
    int status = 0;
    while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
}

void SwtpmSimulator::restart()
{
    stop();
    start();
}

} // namespace vigil::test
