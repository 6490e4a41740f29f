#include "dxpy/session/snapshots.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <unordered_map>

#include "dxpy/snapshot/store.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

SnapshotRun::SnapshotRun(std::string rootdir, std::string cache_dir, std::string snapshot_dir)
    : rootdir_(std::move(rootdir)), cache_dir_(std::move(cache_dir)), snapshot_dir_(std::move(snapshot_dir)) {
  if (cache_dir_.empty()) return;
  std::string runs = join_path(cache_dir_, "snapshot-runs");
  ::mkdir(runs.c_str(), 0777);  // the cache folder itself is made by selection, when it can be
  std::string dir = join_path(runs, std::to_string(::getpid()));
  if (::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) records_dir_ = dir;
}

SnapshotRun::~SnapshotRun() {
  if (records_dir_.empty()) return;
  for (const auto& name : list_dir(records_dir_)) ::unlink(join_path(records_dir_, name).c_str());
  ::rmdir(records_dir_.c_str());
}

void SnapshotRun::on_result(uint32_t i, bool passed) {
  if (outcome_.size() <= i) outcome_.resize(std::max<size_t>(i + 1, outcome_.size() * 2), 0);
  if (!passed)
    outcome_[i] = 2;
  else if (outcome_[i] == 0)
    outcome_[i] = 1;
}

std::vector<std::string> SnapshotRun::Report::words() const {
  std::vector<std::string> out;
  auto add = [&](uint64_t n, const char* what) {
    if (n) out.push_back(std::to_string(n) + (n == 1 ? " snapshot " : " snapshots ") + what);
  };
  add(written, "written");
  add(updated, "updated");
  add(unused.size() - std::min<uint64_t>(deleted, unused.size()), "unused");
  add(deleted, "deleted");
  return out;
}

SnapshotRun::Report SnapshotRun::finish(const std::vector<TestCase>& tests, bool full_run, bool reliable,
                                        bool update) {
  Report report;
  if (records_dir_.empty()) return report;
  using Used = std::tuple<std::string, std::string, std::string>;  // snap, test, name
  std::set<Used> used, written, updated;
  for (const auto& name : list_dir(records_dir_)) {
    auto text = read_file(join_path(records_dir_, name));
    if (!text) continue;
    for (auto& r : snapshot::parse_records(*text)) {
      Used key{r.snap, r.test, r.name};
      if (r.use == snapshot::Use::kWritten) written.insert(key);
      if (r.use == snapshot::Use::kUpdated) updated.insert(key);
      used.insert(std::move(key));
    }
  }
  for (const auto& k : updated) written.erase(k);  // written, then changed again in the run
  report.written = written.size();
  report.updated = updated.size();
  if (!full_run || !reliable) return report;

  // The .snap files of the run's modules: __snapshots__ in each folder that holds one, or
  // that folder's place under the snapshot folder.
  std::unordered_map<std::string, size_t> by_id;  // node id -> test index
  std::set<std::string> dirs;
  for (size_t i = 0; i < tests.size(); ++i) {
    by_id.emplace(tests[i].id.node_id(), i);
    dirs.insert(std::string(dirname(tests[i].id.path)));
  }
  snapshot::Store store(rootdir_, cache_dir_);
  for (const auto& dir : dirs) {
    std::string snap_dir = snapshot_dir_.empty() ? join_path(dir, "__snapshots__") : join_path(snapshot_dir_, dir);
    std::vector<std::string> names = list_dir(join_path(rootdir_, snap_dir));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      if (name.size() < 6 || name.substr(name.size() - 5) != ".snap") continue;
      std::string snap = join_path(snap_dir, name);
      auto entries = store.read(snap);
      if (!entries) {
        report.errors.push_back(entries.error().message);
        continue;
      }
      std::vector<snapshot::Key> gone;
      for (const auto& e : *entries) {
        auto it = by_id.find(e.test);
        if (it == by_id.end()) {
          // A test expanded at run time: its entries carry "[param]" that the index lacks.
          size_t bracket = e.test.find('[');
          if (bracket != std::string::npos) {
            auto base = by_id.find(e.test.substr(0, bracket));
            if (base != by_id.end() && tests[base->second].expand_at_runtime) it = base;
          }
        }
        bool keep;
        if (it == by_id.end()) {
          keep = false;  // no such test any more
        } else {
          uint8_t outcome = it->second < outcome_.size() ? outcome_[it->second] : 0;
          keep = outcome != 1 || used.count({snap, e.test, e.name}) > 0;
        }
        if (keep) continue;
        report.unused.push_back(snap + ": " + e.test + " | " + e.name);
        gone.emplace_back(e.test, e.name);
      }
      if (update && !gone.empty()) {
        if (auto r = store.update(snap, {}, gone); r)
          report.deleted += gone.size();
        else
          report.errors.push_back(r.error().message);
      }
    }
  }
  return report;
}

}  // namespace dxpy::session
