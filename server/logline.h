#pragma once

#include <QString>
#include <QtGlobal>
#include <chrono>
#include <string>

namespace vigil::server {

// One line of vigil-verifier's log, as it goes to stderr (and from there to the journal):
//   2026-11-25T05:30:12.345Z info vigil.verifier.serve: <message>
// The time is UTC with millisecond precision; the type is Qt's name for it (debug, info,
// warning, critical, fatal); control characters in the message become \xNN, so that the
// newline that ends the line is the only one in it.
std::string formatLogLine(std::chrono::system_clock::time_point time, QtMsgType type,
                          const char *category, const QString &message);

// Routes Qt's log messages through formatLogLine to stderr, one write(2) per line so that lines
// from concurrent requests never interleave. Qt's own message pattern turned the time into local
// time through QDateTime on every line: 13 us, 2 % of a posture report's CPU on the verifier.
void installLogHandler();

} // namespace vigil::server
