#include "protocol/ipc/lineframer.h"

#include <algorithm>

namespace vigil::protocol::ipc {

LineFramer::LineFramer(std::size_t maxLineSize) : m_maxLineSize(maxLineSize) {}

void LineFramer::feed(std::string_view bytes)
{
    if (m_overLimit)
        return;
    compact();
    m_buffer.append(bytes);
}

std::optional<std::string> LineFramer::nextLine()
{
    if (m_overLimit)
        return std::nullopt;
    // Only the bytes not yet searched are searched, so a line that arrives a byte at a time
    // costs linear time; and no more than one byte past the limit, so a flood without a
    // newline is caught at the limit however much of it is buffered.
    const std::size_t searchEnd = std::min(m_buffer.size(), m_start + m_maxLineSize + 1);
    const std::size_t found =
        std::string_view(m_buffer).substr(m_scanned, searchEnd - m_scanned).find('\n');
    if (found == std::string_view::npos) {
        m_scanned = searchEnd;
        if (searchEnd - m_start > m_maxLineSize) {
            m_overLimit = true;
            m_buffer.clear();
            m_start = m_scanned = 0;
        }
        return std::nullopt;
    }
    const std::size_t newline = m_scanned + found;
    std::string line = m_buffer.substr(m_start, newline - m_start);
    m_start = m_scanned = newline + 1;
    return line;
}

// Drops the lines already returned, once they are the larger part of the buffer: each byte is
// moved a bounded number of times however the stream is cut.
void LineFramer::compact()
{
    if (m_start == 0 || m_start < m_buffer.size() - m_start)
        return;
    m_buffer.erase(0, m_start);
    m_scanned -= m_start;
    m_start = 0;
}

} // namespace vigil::protocol::ipc
