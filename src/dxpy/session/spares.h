#pragma once
/// Watch mode's warm workers: processes started after a round, while the user edits, that
/// the next round's execute() takes instead of starting its own. A spare has imported the
/// worker runtime and the initial conftests (its Runner is set up), no test module: it is
/// fresh for any change that does not touch what it imported (watch.cpp drops the spares
/// when a change reaches a conftest or a config file). Spares are used only when they were
/// started with exactly the round's worker settings (interpreter, rootdir, configuration);
/// never with `preload` modules. Destroying them kills their process groups.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dxpy/pool/worker.h"
#include "dxpy/session/execute.h"

namespace dxpy::session {

struct SpareWorkers {
  std::string key;  // spare_key of the options they were started with
  std::vector<std::unique_ptr<pool::Worker>> workers;
  std::optional<ExecOptions> options;  // what they were started with (no per-test data)
};

/// What a worker's start depends on: interpreter, rootdir, preloads, configuration.
std::string spare_key(const ExecOptions& o);

/// The settings of a worker for slot `w`.
pool::SpawnOptions worker_spawn_options(const ExecOptions& o, unsigned w);

/// Takes the spare for slot `w` if one was started with `key`; null otherwise.
std::unique_ptr<pool::Worker> take_spare(SpareWorkers& spares, const std::string& key, unsigned w);

/// Starts spares for slots 0..o.workers-1 that have none (all of them again if the key
/// changed); nothing with preloads. Failures only mean fewer spares.
void refill_spares(SpareWorkers& spares, const ExecOptions& o);

/// Ends the spares and starts new ones with the same options (a change reached what they
/// imported): the new ones start while the round's selection runs, from the files as they
/// are now.
void restart_spares(SpareWorkers& spares);

}  // namespace dxpy::session
