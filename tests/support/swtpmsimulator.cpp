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

// A socket bound to a loopback port, not listening; -1 if the port is taken. SO_REUSEADDR lets
// a restarted simulator bind its port again past the TIME_WAIT of swtpm's closed connections.
int bindLoopback(unsigned short port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    const int on = 1;
    const sockaddr_in address = loopback(port);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// The kernel's range for the local ports of outgoing connections.
std::pair<int, int> ephemeralPortRange()
{
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 32768, high = 60999;
    in >> low >> high;
    return {low, high};
}

// An even port with a free-looking neighbour outside the ephemeral range, or 0. The swtpm TCTI
// opens a connection per TPM command, so a test that sends thousands leaves thousands of
// ephemeral ports in TIME_WAIT for a minute; a port bind(0) hands out there often has its
// neighbour taken.
unsigned short randomPortPair()
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
    return static_cast<unsigned short>(
        std::uniform_int_distribution<int>(span.first, span.second)(random) & ~1);
}

// Whether swtpm answers on its control channel (CMD_GET_CAPABILITY): serving, not just started.
bool answersControlCommand(unsigned short port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const timeval timeout{0, 200'000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const sockaddr_in address = loopback(port);
    const unsigned char getCapability[4] = {0, 0, 0, 1};
    unsigned char answer[8];
    const bool answered =
        connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0 &&
        send(fd, getCapability, sizeof getCapability, MSG_NOSIGNAL) == sizeof getCapability &&
        recv(fd, answer, sizeof answer, MSG_WAITALL) == sizeof answer;
    close(fd);
    return answered;
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

    // The swtpm TCTI expects the control channel on port + 1.
    std::string attempts;
    for (int attempt = 0; attempt < 20; ++attempt) {
        const unsigned short port = randomPortPair();
        const std::string failure =
            reservePorts(port) ? startOnce() : "the pair of ports picked was taken";
        if (failure.empty())
            return;
        attempts += "  port " + std::to_string(port) + ": " + failure + "\n";
    }
    const std::string output = readAll(m_directory / "swtpm.log");
    std::filesystem::remove_all(m_directory);
    throw std::runtime_error("swtpm did not start on a loopback port:\n" + attempts +
                             "swtpm's log:\n" + output);
}

SwtpmSimulator::~SwtpmSimulator()
{
    terminate();
    close(m_serverSocket);
    close(m_controlSocket);
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
    if (m_controlSocket < 0 && !reservePorts(m_port))
        throw std::runtime_error("swtpm fixture: port " + std::to_string(m_port) + " was taken");
    if (const std::string failure = startOnce(); !failure.empty())
        throw std::runtime_error("swtpm did not restart on port " + std::to_string(m_port) + " (" +
                                 failure + "):\n" + readAll(m_directory / "swtpm.log"));
}

bool SwtpmSimulator::reservePorts(unsigned short port)
{
    close(m_serverSocket);
    close(m_controlSocket);
    m_port = port;
    m_serverSocket = port == 0 ? -1 : bindLoopback(port);
    m_controlSocket = port == 0 ? -1 : bindLoopback(static_cast<unsigned short>(port + 1));
    return m_serverSocket >= 0 && m_controlSocket >= 0;
}

std::string SwtpmSimulator::startOnce()
{
    // swtpm serves its control channel on the socket bound here, passed as descriptor 3, so
    // what answers on it below is this swtpm and no other. The command port can only be
    // given by number: it is let go just before swtpm binds it, and a swtpm that finds it
    // taken exits, which is seen below.
    if (listen(m_controlSocket, 8) != 0)
        return std::string("listen: ") + std::strerror(errno);
    close(m_serverSocket);
    m_serverSocket = -1;
    const std::string state = "dir=" + (m_directory / "state").string();
    const std::string server = "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(m_port);
    const std::string log = "file=" + (m_directory / "swtpm.log").string();
    const pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        // dup2 onto itself would keep close-on-exec; clearing it covers that case.
        if ((m_controlSocket != 3 && dup2(m_controlSocket, 3) != 3) || fcntl(3, F_SETFD, 0) != 0)
            _exit(126);
        ::close_range(4, ~0U, 0); // as closeInheritedDescriptors, sparing the control socket
        execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state.c_str(), "--server",
               server.c_str(), "--ctrl", "type=tcp,fd=3", "--flags", "not-need-init,startup-clear",
               "--log", log.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    // Only swtpm listens now: once it is gone, connections are refused rather than queued.
    close(m_controlSocket);
    m_controlSocket = -1;
    for (int i = 0; i < 500; ++i) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            reservePorts(m_port);
            return WIFEXITED(status) ? "swtpm exited with status " +
                                           std::to_string(WEXITSTATUS(status))
                                     : "swtpm was killed by signal " +
                                           std::to_string(WTERMSIG(status));
        }
        if (answersControlCommand(static_cast<unsigned short>(m_port + 1))) {
            m_pid = pid;
            return {};
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    reservePorts(m_port);
    return "the control channel did not answer within 5 s";
}

void SwtpmSimulator::terminate()
{
    if (m_pid <= 0)
        return;
    kill(m_pid, SIGTERM);
    int status = 0;
    while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
}

void SwtpmSimulator::stop()
{
    if (m_pid <= 0)
        return;
    terminate();
    // Held again, bound but not listening: refused until start().
    if (!reservePorts(m_port))
        throw std::runtime_error("swtpm fixture: port " + std::to_string(m_port) +
                                 " was taken while swtpm was stopped");
}

void SwtpmSimulator::restart()
{
    stop();
    start();
}

void SwtpmSimulator::pause()
{
    if (m_pid > 0)
        kill(m_pid, SIGSTOP);
}

void SwtpmSimulator::resume()
{
    if (m_pid > 0)
        kill(m_pid, SIGCONT);
}

} // namespace vigil::test
