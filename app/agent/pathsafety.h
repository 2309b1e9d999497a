#pragma once

// vigild runs as root and acts on what its configuration file and state directory say, so a
// user who could change either could steer it. Both must be changeable by root and their owner
// alone, and so must every directory that leads to them: whoever can rename an entry on the way
// can substitute the file.

#include <filesystem>
#include <string>
#include <string_view>

namespace vigil::agent {

// "" when path (resolved through symbolic links) and every directory above it are owned by root
// or the effective user and writable by nobody else. Otherwise the first problem, naming the
// path as `what` ("config file '/etc/vigil/vigild.json' has mode 0664, ..."), its mode and the
// fix (chmod go-w, chown). A directory further up than path's own may be writable by others when
// it has the sticky bit (/tmp): others can then add entries but not rename or remove ours. Not
// path's own directory: what others add there sits beside path (enroll.token beside
// vigild.json). Symbolic links on the way must be root's or the effective user's, in directories
// nobody else can change (sticky ones allowed). path must exist.
std::string writeAccessProblem(const std::filesystem::path &path, std::string_view what);

} // namespace vigil::agent
