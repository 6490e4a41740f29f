#include "dxpy/session/spares.h"

#include <algorithm>

namespace dxpy::session {

std::string spare_key(const ExecOptions& o) {
  std::string k = o.python + '\0' + o.rootdir + '\0' + o.worker_config + '\0' + (o.inherit_output ? "1" : "0");
  for (const auto& p : o.preload) k += p + ',';
  return k;
}

pool::SpawnOptions worker_spawn_options(const ExecOptions& o, unsigned w) {
  pool::SpawnOptions so;
  so.python = o.python;
  so.args = {"-m", "dx_py_test_runner.worker"};
  so.worker_id = static_cast<uint16_t>(w);
  so.inherit_output = o.inherit_output;
  so.extra_env.push_back("DXPY_ROOTDIR=" + o.rootdir);
  std::string preload;
  for (const auto& m : o.preload) preload += (preload.empty() ? "" : ",") + m;
  so.extra_env.push_back("DXPY_PRELOAD=" + preload);
  so.extra_env.push_back("DXPY_CONFIG=" + o.worker_config);
  return so;
}

std::unique_ptr<pool::Worker> take_spare(SpareWorkers& spares, const std::string& key, unsigned w) {
  if (spares.key != key) return nullptr;
  auto it = std::find_if(spares.workers.begin(), spares.workers.end(),
                         [&](const auto& worker) { return worker && worker->id() == w; });
  if (it == spares.workers.end()) return nullptr;
  std::unique_ptr<pool::Worker> out = std::move(*it);
  spares.workers.erase(it);
  return out;
}

void refill_spares(SpareWorkers& spares, const ExecOptions& o) {
  if (!o.preload.empty()) {
    spares.workers.clear();
    return;
  }
  std::string key = spare_key(o);
  if (spares.key != key) {
    spares.workers.clear();
    spares.key = key;
  }
  spares.options = o;
  spares.options->expected_seconds.clear();
  spares.options->spares = nullptr;
  for (unsigned w = 0; w < std::max(1u, o.workers); ++w) {
    bool have = std::any_of(spares.workers.begin(), spares.workers.end(),
                            [&](const auto& worker) { return worker->id() == w; });
    if (have) continue;
    auto spawned = pool::Worker::spawn(worker_spawn_options(o, w));
    if (spawned) spares.workers.push_back(std::move(*spawned));
  }
}

void restart_spares(SpareWorkers& spares) {
  spares.workers.clear();
  if (spares.options) refill_spares(spares, ExecOptions(*spares.options));
}

}  // namespace dxpy::session
