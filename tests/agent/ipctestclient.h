#pragma once

// Clients of vigild's socket for tst_ipcserver: a plain non-blocking socket in this process,
// so that a test decides exactly what is sent, when the sending side ends and whether anything
// is read; and one request from a child process that runs as another user. Every wait turns the
// event loop, where the server under test runs.

#include <QtTest>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <grp.h>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace vigil::test {

constexpr int ipcTimeoutMs = 5000;

// A client on a plain non-blocking socket. Waits turn the event loop, where the server runs.
class Client
{
public:
    explicit Client(const std::filesystem::path &path)
        : m_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0))
    {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        m_connected =
            ::connect(m_fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0;
    }
    ~Client() { ::close(m_fd); }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    bool connected() const { return m_connected; }
    void endSending() { ::shutdown(m_fd, SHUT_WR); }

    // Sends everything unless the server closes first (then false).
    bool send(std::string_view bytes)
    {
        std::size_t sent = 0;
        bool failed = false;
        (void)QTest::qWaitFor(
            [&] {
                const auto n = ::send(m_fd, bytes.data() + sent, bytes.size() - sent,
                                      MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0)
                    sent += static_cast<std::size_t>(n);
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                    failed = true;
                return failed || sent == bytes.size();
            },
            ipcTimeoutMs);
        return !failed && sent == bytes.size();
    }

    // Reads what is there without waiting; true once the stream has ended.
    bool pump()
    {
        char buffer[65536];
        for (;;) {
            const auto n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) {
                m_received.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR))
                m_ended = true;
            return m_ended;
        }
    }

    // The next line as JSON; null when none came in time or the stream ended first.
    nlohmann::json next(int timeout = ipcTimeoutMs)
    {
        (void)QTest::qWaitFor([&] { return pump() || m_received.find('\n') != std::string::npos; },
                              timeout);
        const auto newline = m_received.find('\n');
        if (newline == std::string::npos)
            return nullptr;
        const std::string line = m_received.substr(0, newline);
        m_received.erase(0, newline + 1);
        return nlohmann::json::parse(line, nullptr, false);
    }

    nlohmann::json ask(std::string_view line)
    {
        if (!send(std::string(line) + "\n"))
            return nullptr;
        return next();
    }

    // The server closed the connection, and what it sent before is read.
    bool waitEnded()
    {
        return QTest::qWaitFor([&] { return pump(); }, ipcTimeoutMs);
    }

    std::string &received() { return m_received; }

private:
    int m_fd;
    bool m_connected = false;
    bool m_ended = false;
    std::string m_received;
};

constexpr uid_t nobody = 65534;
constexpr gid_t nogroup = 65534;

// Sends request from a child process that runs as uid/gid with the supplementary groups given,
// and returns the first line it reads back, or why there is none. The server answers on this
// thread, so the event loop turns while the child waits.
std::string askAs(const std::filesystem::path &path, uid_t uid, gid_t gid,
                  const std::vector<gid_t> &groups, const std::string &request)
{
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        return "pipe failed";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    const std::string line = request + "\n";
    const pid_t child = ::fork();
    if (child == 0) { // only system calls from here: the parent may have threads
        ::alarm(10);
        if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(uid, uid, uid) != 0)
            ::_exit(2);
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
            ::_exit(3);
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            ::_exit(4);
        char buffer[4096];
        std::size_t got = 0;
        while (got < sizeof buffer) {
            const auto n = ::read(fd, buffer + got, sizeof buffer - got);
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
            if (std::memchr(buffer, '\n', got))
                break;
        }
        (void)!::write(out[1], buffer, got);
        ::_exit(0);
    }
    ::close(out[1]);
    int status = 0;
    if (!QTest::qWaitFor([&] { return ::waitpid(child, &status, WNOHANG) == child; },
                         ipcTimeoutMs)) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        ::close(out[0]);
        return "the child timed out";
    }
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<std::size_t>(n));
    ::close(out[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return "the child failed with status " + std::to_string(status);
    return text.substr(0, text.find('\n'));
}

// A subscription held by a child process that runs as uid/gid: it sends subscribe and relays
// every line it reads, until vigild closes the connection. lines() has what came so far.
class SubscriberAs
{
public:
    SubscriberAs(const std::filesystem::path &path, uid_t uid, gid_t gid)
    {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0)
            return;
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        static const char subscribe[] = "{\"v\":1,\"id\":1,\"method\":\"subscribe\"}\n";
        m_child = ::fork();
        if (m_child == 0) { // only system calls from here
            ::alarm(20);
            if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                ::setresuid(uid, uid, uid) != 0)
                ::_exit(2);
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
                ::_exit(3);
            if (::write(fd, subscribe, sizeof subscribe - 1) != sizeof subscribe - 1)
                ::_exit(4);
            char buffer[4096];
            for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
                if (::write(out[1], buffer, static_cast<std::size_t>(n)) != n)
                    ::_exit(5);
            ::_exit(0);
        }
        ::close(out[1]);
        m_out = out[0];
        ::fcntl(m_out, F_SETFL, O_NONBLOCK);
    }
    ~SubscriberAs()
    {
        if (m_child > 0) {
            ::kill(m_child, SIGKILL);
            ::waitpid(m_child, nullptr, 0);
        }
        if (m_out >= 0)
            ::close(m_out);
    }
    SubscriberAs(const SubscriberAs &) = delete;
    SubscriberAs &operator=(const SubscriberAs &) = delete;

    // Every complete line relayed so far, as JSON.
    std::vector<nlohmann::json> lines()
    {
        char buffer[4096];
        for (ssize_t n; m_out >= 0 && (n = ::read(m_out, buffer, sizeof buffer)) > 0;)
            m_received.append(buffer, static_cast<std::size_t>(n));
        std::vector<nlohmann::json> lines;
        std::size_t start = 0;
        for (std::size_t end; (end = m_received.find('\n', start)) != std::string::npos;
             start = end + 1)
            lines.push_back(
                nlohmann::json::parse(m_received.substr(start, end - start), nullptr, false));
        return lines;
    }

    // Turns the event loop until count lines have come.
    bool waitForLines(std::size_t count)
    {
        return QTest::qWaitFor([&] { return lines().size() >= count; }, ipcTimeoutMs);
    }

private:
    pid_t m_child = -1;
    int m_out = -1;
    std::string m_received;
};

} // namespace vigil::test
