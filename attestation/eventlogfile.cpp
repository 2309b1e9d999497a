#include "attestation/eventlogfile.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace vigil::attestation {

EventLogFile readEventLogFile(const std::filesystem::path &path, std::size_t maxSize)
{
    EventLogFile file;
    const std::string name = path.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT || error == ENOTDIR || error == ENODEV || error == ENXIO) {
            file.status = EventLogFileStatus::NotPresent;
            file.error = name + " does not exist: there is no TPM, the firmware does not hand "
                                "its event log to the kernel, or securityfs is not mounted";
        } else if (error == EACCES || error == EPERM) {
            file.status = EventLogFileStatus::PermissionDenied;
            file.error = "permission denied reading " + name +
                         ": the TPM event log in securityfs is readable by root only";
        } else {
            file.status = EventLogFileStatus::ReadError;
            file.error = "cannot open " + name + ": " + std::strerror(error);
        }
        return file;
    }

    std::array<std::uint8_t, 64 * 1024> chunk;
    for (;;) {
        const ssize_t got = ::read(fd, chunk.data(), chunk.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            const int error = errno;
            ::close(fd);
            file.status = error == EACCES || error == EPERM ? EventLogFileStatus::PermissionDenied
                                                            : EventLogFileStatus::ReadError;
            file.error = "cannot read " + name + ": " + std::strerror(error);
            file.bytes.clear();
            return file;
        }
        if (got == 0)
            break;
        if (file.bytes.size() + static_cast<std::size_t>(got) > maxSize) {
            ::close(fd);
            file.status = EventLogFileStatus::TooLarge;
            file.error = name + " is larger than " + std::to_string(maxSize) +
                         " bytes, more than any boot event log";
            file.bytes.clear();
            return file;
        }
        file.bytes.insert(file.bytes.end(), chunk.begin(), chunk.begin() + got);
    }
    ::close(fd);
    if (file.bytes.empty()) {
        file.status = EventLogFileStatus::Empty;
        file.error = name + " is empty: the firmware recorded no boot events";
        return file;
    }
    file.status = EventLogFileStatus::Ok;
    return file;
}

} // namespace vigil::attestation
