#include "app/client/enrollmenttoken.h"

#include "core/filedescriptor.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>

namespace vigil::app {

std::string readEnrollmentToken(const std::filesystem::path &file, std::istream &standardInput,
                                std::ostream &err, std::string_view warningPrefix)
{
    // A token is 48 characters; a file anywhere near this size is some other file.
    constexpr std::size_t maxBytes = 4096;
    const bool fromInput = file == "-";
    const std::string name = file.string();
    const auto failure = [&](const std::string &what) {
        return std::runtime_error((fromInput ? "the enrollment token on standard input "
                                             : "the enrollment token file " + name + " ") +
                                  what);
    };
    std::string text;
    if (fromInput) {
        text.resize(maxBytes + 1);
        standardInput.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(standardInput.gcount()));
        if (standardInput.bad())
            throw failure("cannot be read");
    } else {
        // Non-blocking, so that a FIFO put in its place cannot stall the reader.
        const FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        if (fd.get() < 0)
            throw failure("cannot be opened: " + std::string(std::strerror(errno)));
        struct stat status
        {
        };
        if (::fstat(fd.get(), &status) != 0)
            throw failure("cannot be examined: " + std::string(std::strerror(errno)));
        if (!S_ISREG(status.st_mode))
            throw failure("is not a regular file");
        if (status.st_mode & S_IROTH)
            err << warningPrefix << "warning: " << name
                << " can be read by every user of this machine, and an enrollment token is a "
                   "secret (chmod o-r "
                << name << ")\n";
        try {
            text = readUpTo(fd.get(), maxBytes);
        } catch (const std::system_error &e) {
            throw failure("cannot be read: " + e.code().message());
        }
    }
    if (text.size() > maxBytes)
        throw failure("is larger than " + std::to_string(maxBytes) +
                      " bytes; it should hold only the token");
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    const auto first = std::find_if_not(text.begin(), text.end(), isSpace);
    const auto last = std::find_if_not(text.rbegin(), text.rend(), isSpace).base();
    if (first >= last)
        throw failure("is empty; it should hold the token that vigil-verifier token create "
                      "printed");
    std::string token(first, last);
    if (std::any_of(token.begin(), token.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
        throw failure("holds more than one word or a control character; it should hold only "
                      "the token");
    return token;
}

} // namespace vigil::app
