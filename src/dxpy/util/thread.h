#pragma once
/// Helper threads for one phase of a run (parsing, writing the index).

#include <thread>

namespace dxpy {

/// Moves the just-started helper `t` to another core than the caller's: the `k`-th of the
/// other cores the caller may use, cycling. Linux starts a new thread on its creator's
/// core, where in a short run it can wait for the load balancer while the other cores idle:
/// on the 2-core development VM a helper started 1 ms late, so a 1 ms share of parsing took
/// 2 ms. Moved, it starts within 0.1 ms. The pin stays (a helper lasts one phase); with a
/// single usable core nothing changes.
void start_elsewhere(std::thread& t, unsigned k);
void start_elsewhere(std::jthread& t, unsigned k);

}  // namespace dxpy
