#pragma once
/// `dx-py test --watch`: a first round runs the whole selection (as pytest-watch does, so
/// the screen starts from the suite's full state and the last-failed store is complete);
/// then every change to the project's files (inotify, debounced: watch/) brings the import
/// graph up to date for the changed paths only, and a round runs the tests those changes
/// can affect plus the last failures. Keys on a terminal pick other rounds (watch/keys.h).
///
/// Workers stay warm between rounds (spares.h): after a round, new worker processes start
/// and wait with nothing but the runtime and the initial conftests imported; the next round
/// takes them. A change that reaches what they imported (a conftest, a module a conftest
/// imports, a config file) starts them again at once. A round's workers end with it, so a
/// test module or a module it imports is always imported fresh, and the changed modules'
/// __pycache__ files are removed first (Python checks a source's mtime in whole seconds).

#include "dxpy/session/run.h"

namespace dxpy::session {

/// Runs until q, Ctrl-D, SIGINT or SIGTERM: kOk on q/Ctrl-D, kInterrupted on a signal,
/// kInternalError when the folder cannot be watched, kUsageError for a bad configuration.
int watch_tests(RunOptions opts);

}  // namespace dxpy::session
