#pragma once
/// Watch mode's warm workers: processes started after a round, while the user edits, that
/// the next round's execute() takes instead of starting its own. A spare has imported the
/// worker runtime and the initial conftests (its Runner is set up), no test module: it is
/// fresh for any change that does not touch what it imported (watch.cpp drops the spares
/// when a change reaches a conftest or a config file). Spares are used only when they were
/// started with exactly the round's worker settings (interpreter, rootdir, configuration);
/// never with `preload` modules. Destroying them kills their process groups.
///
/// Spares are forked from a template process (pool/template.h) when one is ready: it holds
/// the runtime and `template_preload` (the third-party modules the conftests import, which
/// the watch never sees change), so a restarted spare pays only the fork and its conftests'
/// project imports. The template is started again when what it holds changes
/// (template_touched) or the worker settings do; DXPY_WATCH_FORK=0 turns it off.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dxpy/pool/template.h"
#include "dxpy/pool/worker.h"
#include "dxpy/session/execute.h"

namespace dxpy::session {

struct SpareWorkers {
  std::string key;  // spare_key of the options they were started with
  std::vector<std::unique_ptr<pool::Worker>> workers;
  std::optional<ExecOptions> options;  // what they were started with (no per-test data)
  /// The fork template and what it was started with: spare_key, then the preload list.
  bool use_template = true;
  std::vector<std::string> template_preload;  // what the next template imports (watch.cpp)
  std::shared_ptr<pool::Template> tmpl;
  std::string template_key, template_preloaded;
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

/// Whether the template holds what `changed` (absolute paths) touches: a file it imported
/// from under the rootdir, a folder above one, or a module name it holds (a new project file
/// of that name would shadow it). If so it is dropped (the spares forked from it must be
/// restarted; the next refill starts a new template). False without a template.
bool template_touched(SpareWorkers& spares, const std::vector<std::string>& changed);

/// Ends the spares and starts new ones with the same options (a change reached what they
/// imported): the new ones start while the round's selection runs, from the files as they
/// are now.
void restart_spares(SpareWorkers& spares);

}  // namespace dxpy::session
