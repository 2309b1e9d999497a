#include "app/agent/pathsafety.h"

#include "core/text.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::agent {

namespace fs = std::filesystem;

std::string writeAccessProblem(const fs::path &path, std::string_view what)
{
    std::error_code error;
    const fs::path real = fs::canonical(path, error);
    std::string named = std::string(what) + " " + quoted(path);
    if (error)
        return "cannot resolve " + named + ": " + error.message();
    if (real != path)
        named += " (" + quoted(real) + ")";
    const uid_t self = ::geteuid();
    for (fs::path current = real;; current = current.parent_path()) {
        struct stat st
        {
        };
        if (::stat(current.c_str(), &st) != 0)
            return "cannot check " + quoted(current) + " on the way to " + named + ": " +
                   std::strerror(errno);
        const bool isTarget = current == real;
        const bool isParent = current == real.parent_path();
        const std::string subject =
            isTarget ? named : "directory " + quoted(current) + ", above " + named + ",";
        if (st.st_uid != 0 && st.st_uid != self)
            return subject + " is owned by uid " + std::to_string(st.st_uid) +
                   ", who could change it; only root or this process's user (uid " +
                   std::to_string(self) + ") may own it; fix: chown root " + quoted(current);
        const bool sticky = !isTarget && !isParent && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky)
            return subject + " has mode " + octalMode(st.st_mode) +
                   ", so users other than its owner can change it; fix: chmod go-w " +
                   quoted(current);
        if (current == current.root_path() || !current.has_relative_path())
            return {};
    }
}

} // namespace vigil::agent
