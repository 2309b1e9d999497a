#pragma once

// Newline-delimited framing for the local IPC socket (docs/ipc.md): bytes go in as the socket
// delivers them, complete lines come out. Pure, so the server, the clients and the fuzz target
// frame the same way. A line that passes the limit before its newline ends the stream: without
// its end there is no telling where the next request would start.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol::ipc {

class LineFramer
{
public:
    // maxLineSize: the longest line taken, in bytes, without its "\n".
    explicit LineFramer(std::size_t maxLineSize);

    // Takes the next bytes of the stream. Ignored once overLimit(): the stream has no more lines.
    void feed(std::string_view bytes);

    // The next complete line without its "\n", in the order the lines arrived; nullopt when no
    // line is complete yet, or when the next one is over the limit (overLimit() says which).
    std::optional<std::string> nextLine();

    // The line being read has more than maxLineSize bytes: the server answers
    // request_too_large and closes. Set by nextLine, after every line before it was returned.
    bool overLimit() const { return m_overLimit; }

    // Bytes after the last "\n": at the end of the stream, a line that was cut off.
    bool hasPartialLine() const { return !m_overLimit && m_start < m_buffer.size(); }

private:
    void compact();

    std::size_t m_maxLineSize;
    std::string m_buffer;
    std::size_t m_start = 0;   // where the next line begins in m_buffer
    std::size_t m_scanned = 0; // m_buffer[m_start, m_scanned) holds no "\n"
    bool m_overLimit = false;
};

} // namespace vigil::protocol::ipc
