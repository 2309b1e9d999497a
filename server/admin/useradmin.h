#pragma once

// `vigil-verifier users ...`: users, their invites and their TOTP lockout, as functions over
// streams so that tests run them in-process (like admincommands.h). Each returns the exit
// status (0 done, 1 failed with the reason on err). Names are checked by the command line
// (userNameProblem) before these run.

#include "server/storage/storage.h"

#include <chrono>
#include <iosfwd>
#include <string>

namespace vigil::server {

// A new user with a random id; fails when the name is taken.
int addUser(Storage &storage, const std::string &name, TimePoint now, bool json, std::ostream &out,
            std::ostream &err);
int listUsers(Storage &storage, TimePoint now, bool json, std::ostream &out);
// The user's devices (key assurance, local account), TOTP state, recovery codes left, active
// sessions and invites.
int showUser(Storage &storage, const std::string &name, TimePoint now, bool json, std::ostream &out,
             std::ostream &err);
// For good: the user's sessions are revoked at once; tokens, TOTP, recovery codes and invites
// are refused from then on.
int disableUser(Storage &storage, const std::string &name, TimePoint now, std::ostream &out,
                std::ostream &err);
// Lifts a TOTP lockout and clears the failure count.
int unlockUser(Storage &storage, const std::string &name, std::ostream &out, std::ostream &err);
// `users totp-reset`: the user's TOTP is forgotten (a lost authenticator app) and can be set up
// again from the tray or `vigilctl mfa totp`; recovery codes stay valid until then.
int resetUserTotp(Storage &storage, const std::string &name, std::ostream &out, std::ostream &err);
// Prints a new invite code (shown once; only its hash is stored); refuses a disabled user.
int inviteUser(Storage &storage, const std::string &name, std::chrono::seconds ttl, TimePoint now,
               bool json, std::ostream &out, std::ostream &err);

} // namespace vigil::server
