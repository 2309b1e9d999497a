#pragma once

// Where vigild's log goes: the journal, with each message's priority and logging category, when
// systemd started it (stderr is then a journal stream); stderr, one line per message, otherwise.
// The configured level filters every vigil.* category. Messages are written as given: callers
// never pass a token, a key or a PIN (docs/architecture.md, "Logging").

#include "app/agent/vigildconfig.h"

namespace vigil::agent {

// Installs the handler for the whole process. Call once, before any thread logs.
void installServiceLog(LogLevel level);

// Whether stderr is the journal stream systemd gave this process ($JOURNAL_STREAM names it).
bool stderrIsJournal();

} // namespace vigil::agent
