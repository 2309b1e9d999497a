#include "app/agent/pathsafety.h"

#include "core/text.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::agent {

namespace fs = std::filesystem;

namespace {

// A symbolic link on the way is an entry too: its owner, or whoever can replace it, can point
// it elsewhere after the resolved path was checked. So each link must be root's or ours, and
// the directories holding it changeable by nobody else (sticky ones excepted: others cannot
// rename or remove our link there).
std::string linkProblem(const fs::path &path, const std::string &named, uid_t self)
{
    fs::path prefix;
    for (const auto &part : fs::absolute(path)) {
        prefix /= part;
        struct stat st
        {
        };
        if (::lstat(prefix.c_str(), &st) != 0)
            return "cannot check " + quoted(prefix) + " on the way to " + named + ": " +
                   std::strerror(errno);
        if (!S_ISLNK(st.st_mode))
            continue;
        const std::string link = "symbolic link " + quoted(prefix) + " on the way to " + named;
        if (st.st_uid != 0 && st.st_uid != self)
            return link + " is owned by uid " + std::to_string(st.st_uid) +
                   ", who could point it elsewhere; fix: chown -h root " + quoted(prefix);
        std::error_code error;
        const fs::path holder = fs::canonical(prefix.parent_path(), error);
        if (error)
            return "cannot resolve the directory of " + link + ": " + error.message();
        for (fs::path current = holder;; current = current.parent_path()) {
            if (::stat(current.c_str(), &st) != 0)
                return "cannot check " + quoted(current) + ", which holds " + link + ": " +
                       std::strerror(errno);
            if (st.st_uid != 0 && st.st_uid != self)
                return "directory " + quoted(current) + ", which holds " + link +
                       ", is owned by uid " + std::to_string(st.st_uid) +
                       ", who could replace the link; fix: chown root " + quoted(current);
            if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
                return "directory " + quoted(current) + ", which holds " + link + ", has mode " +
                       octalMode(st.st_mode) +
                       ", so users other than its owner could replace the link; fix: chmod go-w " +
                       quoted(current);
            if (current == current.root_path() || !current.has_relative_path())
                break;
        }
    }
    return {};
}

} // namespace

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
            return linkProblem(path, named, self);
    }
}

} // namespace vigil::agent
