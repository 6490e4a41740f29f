#include "dxpy/session/spares.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "dxpy/util/fs.h"

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

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ",") + n;
  return s;
}

/// The template for `o`, started if there is none for these settings (or `refresh_preload`
/// and the preload list changed); null when turned off or it cannot start.
pool::Template* ensure_template(SpareWorkers& spares, const ExecOptions& o, bool refresh_preload) {
  if (!spares.use_template) return nullptr;
  if (const char* env = std::getenv("DXPY_WATCH_FORK"); env && std::strcmp(env, "0") == 0) return nullptr;
  std::string key = spare_key(o), preload = joined(spares.template_preload);
  bool same = spares.template_key == key && (!refresh_preload || spares.template_preloaded == preload);
  if (spares.tmpl && spares.tmpl->failed() && same) return nullptr;  // not again for the same settings
  if (spares.tmpl && !same) spares.tmpl.reset();  // its forked workers keep it alive until they go
  if (!spares.tmpl) {
    auto so = worker_spawn_options(o, 0);
    auto started = pool::Template::start(so, spares.template_preload);
    if (!started) return nullptr;
    spares.tmpl = std::move(*started);
    spares.template_key = key;
    spares.template_preloaded = preload;
  }
  return spares.tmpl.get();
}

/// A worker for slot `w`: forked from the template when it is ready within `wait_ms`,
/// else spawned.
Expected<std::unique_ptr<pool::Worker>> new_spare(SpareWorkers& spares, const ExecOptions& o, unsigned w,
                                                 int wait_ms) {
  if (pool::Template* t = ensure_template(spares, o, wait_ms == 0); t && t->wait_ready(wait_ms)) {
    auto forked = t->fork_worker(worker_spawn_options(o, w));
    if (forked) return forked;
  }
  return pool::Worker::spawn(worker_spawn_options(o, w));
}

void fill(SpareWorkers& spares, const ExecOptions& o, int wait_ms) {
  for (unsigned w = 0; w < std::max(1u, o.workers); ++w) {
    bool have = std::any_of(spares.workers.begin(), spares.workers.end(),
                            [&](const auto& worker) { return worker->id() == w; });
    if (have) continue;
    auto spawned = new_spare(spares, o, w, wait_ms);
    if (spawned) spares.workers.push_back(std::move(*spawned));
  }
}

bool under(std::string_view path, std::string_view folder) {
  return path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 && path[folder.size()] == '/';
}

}  // namespace

bool template_touched(SpareWorkers& spares, const std::vector<std::string>& changed) {
  if (!spares.tmpl) return false;
  pool::Template& t = *spares.tmpl;
  bool touched = !t.wait_ready(0) && !t.failed();  // not ready yet: what it imports is unknown
  for (const auto& c : changed) {
    if (touched) break;
    std::string_view name = basename(c);
    for (std::string_view ext : {".py", ".pyi"})
      if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) name.remove_suffix(ext.size());
    // A top-level module of that name could be shadowed: only a file outside a package.
    std::string init = join_path(dirname(c), "__init__.py");
    touched = !stat_path(init) && std::binary_search(t.held_names().begin(), t.held_names().end(), std::string(name));
    for (const auto& f : t.held_files()) touched = touched || f == c || under(f, c) || under(c, f);
  }
  if (touched) spares.tmpl.reset();
  return touched;
}

void refill_spares(SpareWorkers& spares, const ExecOptions& o) {
  if (!o.preload.empty()) {
    spares.workers.clear();
    spares.tmpl.reset();
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
  fill(spares, o, 0);  // after a round: a template not ready yet is not waited for
}

void restart_spares(SpareWorkers& spares) {
  spares.workers.clear();
  // A change: the template (started after the first round) is ready by now as a rule, and
  // waiting for it is never slower than a spawn, which pays the same imports and more.
  if (spares.options) fill(spares, *spares.options, 10000);
}

}  // namespace dxpy::session
