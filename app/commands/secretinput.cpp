#include "app/commands/secretinput.h"

#include "protocol/ipc/mfaparams.h"

#include <cerrno>
#include <cstring>
#include <ostream>
#include <termios.h>
#include <unistd.h>

namespace vigil::app::commands {

namespace ipc = protocol::ipc;

namespace {

// Far above any PIN, code or invite: a longer line is not one of them.
constexpr std::size_t maxLineLength = 1024;

// Echo off while it lives, the terminal's settings restored after.
class EchoOff
{
public:
    explicit EchoOff(int fd) : m_fd(fd)
    {
        if (::tcgetattr(fd, &m_saved) != 0)
            return;
        termios quiet = m_saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL; // the user's Enter still ends the line on screen
        m_active = ::tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    ~EchoOff()
    {
        if (m_active)
            ::tcsetattr(m_fd, TCSAFLUSH, &m_saved);
    }
    EchoOff(const EchoOff &) = delete;
    EchoOff &operator=(const EchoOff &) = delete;

private:
    int m_fd;
    termios m_saved{};
    bool m_active = false;
};

} // namespace

SecretInput::SecretInput(int fd, std::ostream &prompts)
    : m_fd(fd), m_prompts(prompts), m_terminal(::isatty(fd) == 1)
{
}

std::string SecretInput::readLine(const std::string &what)
{
    // A byte at a time, so that nothing past this line is taken from the next reader.
    std::string line;
    line.reserve(64);
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(m_fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int error = errno;
            ipc::wipeString(line);
            throw SecretInputError("cannot read " + what + ": " + std::strerror(error));
        }
        if (n == 0) {
            if (line.empty())
                throw SecretInputError("no " + what + " on standard input");
            break; // the last line, without its "\n"
        }
        if (c == '\n')
            break;
        if (line.size() == maxLineLength) {
            ipc::wipeString(line);
            throw SecretInputError(what + " is longer than " + std::to_string(maxLineLength) +
                                   " bytes");
        }
        line += c;
    }
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

ipc::SecretText SecretInput::read(const std::string &prompt, const std::string &what)
{
    std::string line;
    if (m_terminal) {
        m_prompts << prompt << std::flush;
        const EchoOff quiet(m_fd);
        line = readLine(what);
    } else {
        line = readLine(what);
    }
    ipc::SecretText secret(line);
    ipc::wipeString(line);
    return secret;
}

ipc::SecretText SecretInput::readNewPin()
{
    if (!m_terminal)
        return read("", "new PIN");
    for (int attempt = 0; attempt < 3; ++attempt) {
        ipc::SecretText pin = read("New PIN (6 to 32 characters): ", "new PIN");
        if (!ipc::isValidPin(pin.reveal())) {
            m_prompts << "A PIN is 6 to 32 bytes without control characters.\n";
            continue;
        }
        const ipc::SecretText again = read("New PIN again: ", "new PIN");
        if (again == pin)
            return pin;
        m_prompts << "The two PINs differ.\n";
    }
    throw SecretInputError("no new PIN: the entries did not agree");
}

} // namespace vigil::app::commands
