#include "dxpy/session/snapshots.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

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

namespace {

/// (snap, test, name) as views into the records' buffers.
struct UseKey {
  std::string_view snap, test, name;
  bool operator==(const UseKey&) const = default;
};
struct UseKeyHash {
  size_t operator()(const UseKey& k) const {
    std::hash<std::string_view> h;
    size_t x = h(k.test);
    x ^= h(k.name) + 0x9e3779b97f4a7c15ULL + (x << 6) + (x >> 2);
    x ^= h(k.snap) + 0x9e3779b97f4a7c15ULL + (x << 6) + (x >> 2);
    return x;
  }
};
using UseSet = std::unordered_set<UseKey, UseKeyHash>;

}  // namespace

SnapshotRun::Report SnapshotRun::finish(const std::vector<TestCase>& tests, bool full_run, bool reliable,
                                        bool update) {
  Report report;
  if (records_dir_.empty()) return report;
  // The workers' binary records (snapshot/store.h), kept whole: the sets hold views into them.
  std::vector<std::string> buffers;
  std::vector<std::vector<snapshot::UseRecord>> parsed;
  size_t total = 0;
  for (const auto& name : list_dir(records_dir_)) {
    auto bytes = read_file(join_path(records_dir_, name));
    if (!bytes) continue;
    buffers.push_back(std::move(*bytes));
  }
  for (const auto& b : buffers) {
    parsed.push_back(snapshot::parse_records(b));
    total += parsed.back().size();
  }
  UseSet used, written, updated;
  used.reserve(total);
  for (const auto& records : parsed) {
    for (const auto& r : records) {
      UseKey key{r.snap, r.test, r.name};
      if (r.use == snapshot::Use::kWritten) written.insert(key);
      if (r.use == snapshot::Use::kUpdated) updated.insert(key);
      used.insert(key);
    }
  }
  for (const auto& k : updated) written.erase(k);  // written, then changed again in the run
  report.written = written.size();
  report.updated = updated.size();
  if (!full_run || !reliable) return report;

  // The .snap files of the run's modules: __snapshots__ in each folder that holds one, or
  // that folder's place under the snapshot folder. Their keys come from the index rows in
  // place (the files are not read) while fresh.
  std::unordered_map<std::string_view, size_t> by_id;  // node id -> test index
  std::vector<std::string> ids(tests.size());
  std::set<std::string> dirs;
  by_id.reserve(tests.size());
  for (size_t i = 0; i < tests.size(); ++i) {
    ids[i] = tests[i].id.node_id();
    by_id.emplace(ids[i], i);
    std::string_view dir = dirname(tests[i].id.path);
    if (dirs.empty() || *dirs.rbegin() != dir) dirs.emplace(dir);
  }
  snapshot::Store store(rootdir_, cache_dir_);
  std::vector<std::pair<std::string_view, std::string_view>> keys;
  std::vector<snapshot::IndexedEntry> owned;
  for (const auto& dir : dirs) {
    std::string snap_dir = snapshot_dir_.empty() ? join_path(dir, "__snapshots__") : join_path(snapshot_dir_, dir);
    std::vector<std::string> names = list_dir(join_path(rootdir_, snap_dir));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      if (name.size() < 6 || name.substr(name.size() - 5) != ".snap") continue;
      std::string snap = join_path(snap_dir, name);
      keys.clear();
      owned.clear();
      auto row = store.fresh_row(snap);
      if (row) {
        for (uint32_t k = row->file.first; k < row->file.first + row->file.count; ++k) {
          auto key = row->view->key(k);
          keys.emplace_back(key.test, key.name);
        }
      } else {
        auto entries = store.hashes(snap);  // a stale row: the file is read and the row rebuilt
        if (!entries) {
          report.errors.push_back(entries.error().message);
          continue;
        }
        owned = std::move(*entries);
        for (const auto& e : owned) keys.emplace_back(e.test, e.name);
      }
      std::vector<snapshot::Key> gone;
      for (const auto& [test, entry_name] : keys) {
        auto it = by_id.find(test);
        if (it == by_id.end()) {
          // A test expanded at run time: its entries carry "[param]" that the index lacks.
          size_t bracket = test.find('[');
          if (bracket != std::string_view::npos) {
            auto base = by_id.find(test.substr(0, bracket));
            if (base != by_id.end() && tests[base->second].expand_at_runtime) it = base;
          }
        }
        bool keep;
        if (it == by_id.end()) {
          keep = false;  // no such test any more
        } else {
          uint8_t outcome = it->second < outcome_.size() ? outcome_[it->second] : 0;
          keep = outcome != 1 || used.count(UseKey{snap, test, entry_name}) > 0;
        }
        if (keep) continue;
        report.unused.push_back(snap + ": " + std::string(test) + " | " + std::string(entry_name));
        gone.emplace_back(std::string(test), std::string(entry_name));
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
