#include "dxpy/session/lastfailed.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <unordered_set>

#include "dxpy/index/lock.h"
#include "dxpy/report/sink.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

namespace {

constexpr std::string_view kHeader = "dx-py lastfailed 1\n";
constexpr std::string_view kEnd = "end ";

std::string_view path_of(std::string_view id) { return id.substr(0, id.find("::")); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The id of the module's child that holds the test: its class ("a.py::TestC") or the test
// itself (pytest's LFPluginCollWrapper looks at these).
std::string_view direct_child(std::string_view id) {
  size_t sep = id.find("::");
  if (sep == std::string_view::npos) return id;
  std::string_view base = node_base(id);
  size_t next = base.find("::", sep + 2);
  return next == std::string_view::npos ? id : id.substr(0, next);
}

std::string plural(size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

std::string format_last_failed(const LastFailed& ids) {
  std::string out(kHeader);
  size_t n = 0;
  for (const auto& id : ids) {
    if (id.empty() || id.find('\n') != std::string::npos) continue;
    out += id;
    out += '\n';
    ++n;
  }
  out += kEnd;
  out += std::to_string(n);
  out += '\n';
  return out;
}

std::optional<LastFailed> parse_last_failed(std::string_view text) {
  if (!starts_with(text, kHeader) || text.empty() || text.back() != '\n') return std::nullopt;
  text.remove_prefix(kHeader.size());
  LastFailed out;
  while (!text.empty()) {
    size_t nl = text.find('\n');  // there is one: the text ends with '\n'
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (starts_with(line, kEnd)) {
      std::string_view count = line.substr(kEnd.size());
      size_t n = 0;
      auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
      if (ec != std::errc{} || end != count.data() + count.size() || !text.empty() || n != out.size())
        return std::nullopt;
      return out;
    }
    if (line.empty() || line.find('\0') != std::string_view::npos || !out.emplace(line).second) return std::nullopt;
  }
  return std::nullopt;  // no end line: truncated
}

std::string last_failed_path(std::string_view cache_dir) { return join_path(cache_dir, "lastfailed"); }

LastFailedFile read_last_failed(const std::string& path) {
  LastFailedFile out;
  auto text = read_file(path);
  if (!text) return out;
  if (auto ids = parse_last_failed(*text))
    out.ids = std::move(*ids);
  else
    out.damaged = true;
  return out;
}

LastFailed load_last_failed(std::string_view cache_dir) {
  return read_last_failed(last_failed_path(cache_dir)).ids;
}

void apply_changes(LastFailed& ids, const LastFailedChanges& changes) {
  for (const auto& [id, failed] : changes) {
    if (failed)
      ids.insert(id);
    else if (auto it = ids.find(id); it != ids.end())
      ids.erase(it);
  }
}

Expected<void> save_last_failed(const std::string& path, const LastFailedChanges& changes) {
  DXPY_TRY(auto lock, index::FileLock::acquire(index::lock_path_for(path), index::FileLock::Mode::kExclusive));
  auto old = read_file(path);
  LastFailed ids;
  if (old)
    if (auto parsed = parse_last_failed(*old)) ids = std::move(*parsed);
  apply_changes(ids, changes);
  if (!old && ids.empty()) return {};
  std::string text = format_last_failed(ids);
  if (old && *old == text) return {};
  return write_file_atomic(path, text, Durability::kCache);
}

bool is_failure(TestStatus s) {
  return s == TestStatus::kFailed || s == TestStatus::kError || s == TestStatus::kCrashed ||
         s == TestStatus::kTimeout;
}

std::string_view node_base(std::string_view id) {
  size_t sep = id.find("::");
  if (sep == std::string_view::npos) return id;
  return id.substr(0, id.find('[', sep));
}

// --- results ----------------------------------------------------------------------------

void LastFailedRecorder::record(uint32_t index, const TestCase& test, const TestResult& result) {
  std::string id = result.id.node_id();
  if (!runtime_.empty()) {
    std::string function = test.id.node_id();
    function.resize(node_base(function).size());
    if (auto it = ran_.find(function); it != ran_.end() || runtime_.count(function)) {
      Function& f = it != ran_.end() ? it->second : ran_[function];
      f.tests.insert(index);
      f.produced.insert(id);
    }
  }
  if (report::is_runtime_deselected(result)) return;  // not run: keeps its entry
  bool bad = is_failure(result.status);
  if (auto it = results_.find(id); it != results_.end())
    it->second = it->second || bad;
  else if (bad || known_.count(id))
    results_.emplace(std::move(id), bad);
}

LastFailedChanges LastFailedRecorder::changes(LastFailedChanges collected,
                                              const std::vector<uint32_t>& unfinished) const {
  std::unordered_set<uint32_t> open(unfinished.begin(), unfinished.end());
  for (const auto& [function, f] : ran_) {
    size_t finished = static_cast<size_t>(
        std::count_if(f.tests.begin(), f.tests.end(), [&](uint32_t i) { return !open.count(i); }));
    if (finished != runtime_.at(function)) continue;  // some of the function did not run
    std::string prefix = function + "[";
    for (auto it = known_.lower_bound(prefix); it != known_.end() && starts_with(*it, prefix); ++it)
      if (!f.produced.count(*it)) collected[*it] = false;
  }
  for (const auto& [id, failed] : results_) collected[id] = failed;
  return collected;
}

// --- selection --------------------------------------------------------------------------

void collection_changes(LastFailed& known, std::vector<CollectedFile>& files, const std::string& rootdir,
                        LastFailedChanges& changes, RuntimeIds& runtime) {
  auto set = [&](const std::string& id, bool failed) {
    changes[id] = failed;
    if (failed)
      known.insert(id);
    else
      known.erase(id);
  };
  std::unordered_set<std::string_view> collected;
  for (auto& f : files) {
    collected.insert(f.path);
    if (f.error) {
      set(f.path, true);
      continue;
    }
    std::string prefix = f.path + "::";
    auto first = known.lower_bound(prefix);
    bool module_entry = known.count(f.path) > 0;
    if (!module_entry && (first == known.end() || !starts_with(*first, prefix))) continue;
    if (module_entry) {
      // It collects again: its tests take its place, each then updated by its own result.
      set(f.path, false);
      for (const auto& id : f.ids) set(id, true);
      f.recollected = true;
      continue;
    }
    std::unordered_set<std::string_view> ids(f.ids.begin(), f.ids.end());
    std::unordered_map<std::string_view, uint32_t> bases;  // function -> its tests
    for (const auto& id : f.ids) ++bases[node_base(id)];
    std::vector<std::string> gone;
    for (auto it = known.lower_bound(prefix); it != known.end() && starts_with(*it, prefix); ++it) {
      const std::string& e = *it;
      if (ids.count(e)) continue;
      if (auto b = bases.find(node_base(e)); b != bases.end()) {
        runtime.emplace(std::string(b->first), b->second);
        continue;
      }
      // A class entry (pytest writes those) stays while the class has tests.
      std::string inner = e + "::";
      bool holds =
          std::any_of(f.ids.begin(), f.ids.end(), [&](const std::string& id) { return starts_with(id, inner); });
      if (!holds) gone.push_back(e);
    }
    for (const auto& e : gone) set(e, false);
  }
  // Entries of files that are gone. Files not collected this time but still there keep theirs.
  std::vector<std::string> gone;
  std::string_view last;
  bool last_exists = true;
  for (const auto& e : known) {
    std::string_view path = path_of(e);
    if (collected.count(path)) continue;
    if (path != last) {
      last = path;
      last_exists = path.empty() || path.front() == '/' || static_cast<bool>(stat_path(join_path(rootdir, path)));
    }
    if (!last_exists) gone.push_back(e);
  }
  for (const auto& e : gone) set(e, false);
}

LastFailedSelection select_last_failed(const LastFailed& known, const RuntimeIds& runtime,
                                       const std::vector<CollectedFile>& files, std::vector<Candidate> candidates,
                                       const LastFailedOptions& options) {
  LastFailedSelection out;
  if (known.empty()) {
    out.status = "no previously failed tests, ";
    // pytest reads --lfnf under --ff too.
    bool none = options.none_without_failures;
    out.status += none ? "deselecting all items." : "not deselecting items.";
    for (auto& c : candidates) {
      if (c.selected && !none)
        out.tests.push_back(std::move(c.test));
      else
        ++out.deselected;
    }
    return out;
  }

  auto failed_before = [&](std::string_view id) {
    return known.count(id) > 0 || (!runtime.empty() && runtime.count(node_base(id)) > 0);
  };

  // --lf at collection (pytest's LFPluginCollWrapper): files that hold known failures are
  // collected first; once one whose module-level items include a failure is, files without
  // known failures are skipped, and each such file keeps only its failures, its classes and,
  // when named on the command line, everything.
  std::vector<char> keep_file(files.size(), 1), filter_file(files.size(), 0);
  size_t skipped_files = 0;
  if (options.last_failed) {
    std::unordered_set<std::string_view> lf_paths;
    for (const auto& e : known) lf_paths.insert(path_of(e));
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < files.size(); ++i)
      if (lf_paths.count(files[i].path)) order.push_back(i);
    size_t first_other = order.size();
    for (uint32_t i = 0; i < files.size(); ++i)
      if (!lf_paths.count(files[i].path)) order.push_back(i);
    bool found = false;
    for (size_t k = 0; k < order.size(); ++k) {
      uint32_t i = order[k];
      if (files[i].error) continue;
      if (k >= first_other) {
        if (found) {
          keep_file[i] = 0;
          ++skipped_files;
        }
        continue;
      }
      // A module that collects again is looked at before its tests take its place: pytest
      // filters it only when a file collected earlier held a failure.
      const auto& ids = files[i].ids;
      bool direct = !files[i].recollected && std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
                      return failed_before(direct_child(id));
                    });
      if (!found && !direct) continue;
      found = true;
      filter_file[i] = !files[i].initpath;
    }
  }

  // Then pytest_collection_modifyitems, after -k and -m.
  std::vector<TestCase> failed, passed;
  for (auto& c : candidates) {
    if (!keep_file[c.file]) continue;
    bool known_failure = failed_before(c.test.id.node_id());
    if (filter_file[c.file] && !known_failure && c.test.id.classes.empty()) continue;
    if (!c.selected)
      ++out.deselected;
    else
      (known_failure ? failed : passed).push_back(std::move(c.test));
  }
  if (failed.empty()) {
    out.status = std::to_string(known.size()) + " known failures not in selected tests";
    out.tests = std::move(passed);
  } else {
    size_t n = failed.size();
    out.tests = std::move(failed);
    if (options.last_failed)
      out.deselected += passed.size();
    else
      out.tests.insert(out.tests.end(), std::make_move_iterator(passed.begin()), std::make_move_iterator(passed.end()));
    if (options.failed_first) out.failed_first = n;
    out.status = "rerun previous " + plural(n, "failure") + (options.failed_first ? " first" : "");
  }
  if (skipped_files) out.status += " (skipped " + plural(skipped_files, "file") + ")";
  return out;
}

}  // namespace dxpy::session
