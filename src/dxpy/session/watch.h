#pragma once
/// `dx-py test --watch`: a first round runs the whole selection (as pytest-watch does, so
/// the screen starts from the suite's full state and the last-failed store is complete);
/// then every change to the project's files (inotify, debounced: watch/) brings the import
/// graph up to date for the changed paths only, and a round runs the tests those changes
/// can affect plus the last failures. Keys on a terminal pick other rounds (watch/keys.h).
///
/// Each round starts fresh worker processes (the pool of the earlier round has ended):
/// a changed module can never run stale, and with the workers starting in parallel with
/// collection the cost is one interpreter start per round (bench/watch_bench.py).

#include "dxpy/session/run.h"

namespace dxpy::session {

/// Runs until q, Ctrl-D, SIGINT or SIGTERM: kOk on q/Ctrl-D, kInterrupted on a signal,
/// kInternalError when the folder cannot be watched, kUsageError for a bad configuration.
int watch_tests(RunOptions opts);

}  // namespace dxpy::session
