#pragma once

// How vigilctl reads a PIN, a TOTP or recovery code or an invite: from the terminal without
// echo when standard input is one, else one line each from standard input (a script's pipe).
// Never from the command line, where every user can read it in /proc/<pid>/cmdline.

#include "protocol/ipc/secrettext.h"

#include <iosfwd>
#include <stdexcept>
#include <string>

namespace vigil::app::commands {

// No secret could be read (end of input, a line too long, the terminal failed); the message
// says which, never what was read.
class SecretInputError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class SecretInput
{
public:
    // Reads from fd (standard input); prompts go to prompts (stderr) on a terminal only.
    SecretInput(int fd, std::ostream &prompts);

    bool fromTerminal() const { return m_terminal; }

    // One line: prompt on the terminal (its echo off while it is typed), else the next line of
    // the input. what names it in errors ("PIN"). The line's end ("\n", "\r\n") is not kept.
    protocol::ipc::SecretText read(const std::string &prompt, const std::string &what);
    // A new PIN: on the terminal twice, until both agree (at most 3 times), else one line.
    protocol::ipc::SecretText readNewPin();

private:
    std::string readLine(const std::string &what);

    int m_fd;
    std::ostream &m_prompts;
    bool m_terminal;
};

} // namespace vigil::app::commands
