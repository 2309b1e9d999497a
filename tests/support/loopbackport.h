#pragma once

namespace vigil::test {

// A loopback TCP port that was free a moment ago and has nothing listening: connecting to it
// is refused, which is how tests make a server unreachable.
int closedLoopbackPort();

} // namespace vigil::test
