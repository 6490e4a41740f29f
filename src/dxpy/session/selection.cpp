#include "dxpy/session/selection.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <spawn.h>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <thread>
#include <unordered_set>

#include "dxpy/discovery/collector.h"
#include "dxpy/graph/graph.h"
#include "dxpy/graph/project.h"
#include "dxpy/graph/store.h"
#include "dxpy/index/lock.h"
#include "dxpy/select/expression.h"
#include "dxpy/select/filter.h"
#include "dxpy/select/matchers.h"
#include "dxpy/session/cache_dir.h"
#include "dxpy/session/collect.h"
#include "dxpy/session/lastfailed.h"
#include "dxpy/util/fnmatch.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/text.h"

namespace dxpy::session {

namespace {

bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// testpaths entries are globs relative to the rootdir (pytest expands them).
std::vector<std::string> expand_testpaths(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& t : cfg.testpaths) {
    std::string p = join_path(cfg.rootdir, t);
    if (!has_glob(t)) {
      if (stat_path(p)) out.push_back(absolute_path(p));
      continue;
    }
    // A glob: match it against the rootdir's entries one level per pattern component.
    std::vector<std::string> level = {cfg.rootdir};
    size_t start = 0;
    while (start <= t.size()) {
      auto slash = t.find('/', start);
      std::string part = t.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      std::vector<std::string> next;
      for (const auto& dir : level) {
        if (!has_glob(part)) {
          std::string cand = join_path(dir, part);
          if (stat_path(cand)) next.push_back(cand);
          continue;
        }
        auto entries = list_dir(dir);
        for (const auto& e : entries)
          if (dxpy::fnmatch(e, part)) next.push_back(join_path(dir, e));
      }
      level = std::move(next);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    std::sort(level.begin(), level.end());
    out.insert(out.end(), level.begin(), level.end());
  }
  return out;
}

struct ListingStorage {
  std::shared_ptr<const index::IndexReader> index;
  std::vector<index::PreparedRecord> prepared;
  std::vector<std::unique_ptr<index::RecordArena>> arenas;
  std::deque<std::string> owned_tails;
  std::deque<std::vector<uint32_t>> owned_ends;
  std::vector<FileRecord> records;   // read by the index writer
  mutable std::jthread index_writer;  // last: joined before the rest is destroyed
};

void add_collection_error(Selection& out, const FileRecord& rec) {
  std::string longrepr = rec.path;
  if (rec.error_line) {
    longrepr += ':';
    longrepr += std::to_string(rec.error_line);
  }
  longrepr += ": ";
  longrepr += rec.error;
  out.errors.push_back({rec.path, rec.error, std::move(longrepr)});
}

// Listing mode: the node ids collect_files gathered (from the index's test table, the
// records prepared for the index, or the records' tests), and what they point into.
Selection list_ids(Selection out, Collected& collected) {
  for (const FileRecord& rec : collected.records)
    if (!rec.error.empty()) add_collection_error(out, rec);
  auto storage = std::make_shared<ListingStorage>();
  storage->index = std::move(collected.index);
  storage->prepared = std::move(collected.prepared);
  storage->arenas = std::move(collected.arenas);
  storage->owned_tails = std::move(collected.owned_tails);
  storage->owned_ends = std::move(collected.owned_ends);
  storage->records = std::move(collected.records);
  storage->index_writer = std::move(collected.index_writer);
  out.listing = true;
  out.listed = std::move(collected.listed);
  out.listing_storage = std::move(storage);
  return out;
}

// One git command's standard output, run in `dir` without a shell; nullopt when git is missing
// or fails (not a repository, an unknown REF).
std::optional<std::string> git_output(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "git", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[65536];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fds[0]);
  if (rc != 0) return std::nullopt;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

/// --changed [REF]: the paths (absolute) git reports changed in the working tree and the index
/// since REF (HEAD when empty), deleted ones included, and the untracked files.
Expected<std::vector<std::string>> git_changes(const std::string& rootdir, const std::string& ref) {
  auto top = git_output(rootdir, {"rev-parse", "--show-toplevel"});
  if (!top) return make_error(Errc::kUsage, "--changed: " + rootdir + " is not in a git repository (or git is missing)");
  std::vector<std::string> top_lines = split_nonempty(*top, '\n');
  std::string toplevel = top_lines.empty() ? rootdir : top_lines[0];
  std::optional<std::string> diff;
  if (ref.empty() && !git_output(rootdir, {"rev-parse", "--verify", "-q", "HEAD"})) {
    // A repository without a commit yet: every file in the index is a change.
    diff = git_output(rootdir, {"ls-files", "--cached", "--full-name"});
  } else {
    diff = git_output(rootdir, {"diff", "--name-only", "--no-renames", ref.empty() ? "HEAD" : ref, "--"});
  }
  if (!diff) return make_error(Errc::kUsage, "--changed: git cannot compare with '" + (ref.empty() ? "HEAD" : ref) + "'");
  auto untracked = git_output(rootdir, {"ls-files", "--others", "--exclude-standard", "--full-name"});
  std::vector<std::string> out;
  for (const auto& text : {*diff, untracked ? *untracked : std::string()})
    for (auto& rel : split_nonempty(text, '\n')) out.push_back(join_path(toplevel, rel));
  return out;
}

}  // namespace

graph::ImportGraph load_synced_graph(const config::Config& cfg, const std::string& cache, std::vector<std::string>& notes) {
  graph::GraphOptions gopts;
  gopts.rootdir = cfg.rootdir;
  gopts.pythonpath = cfg.pythonpath;
  gopts.python_files = cfg.python_files;
  gopts.norecursedirs = cfg.norecursedirs;
  std::string path = cache.empty() ? std::string() : join_path(cache, "graph.dxig");
  std::optional<graph::ImportGraph> g;
  if (!path.empty()) {
    auto loaded = graph::load_graph(path, gopts);
    if (loaded) {
      g.emplace(std::move(*loaded));
    } else if (loaded.error().code != Errc::kNotFound) {
      notes.push_back(path + ": " + loaded.error().message + ": rebuilt");
    }
  }
  if (!g) g.emplace(gopts);
  graph::SyncStats stats = graph::sync_graph(*g);
  notes.push_back("import graph: " + std::to_string(g->size()) + " files, " + std::to_string(stats.scanned) +
                  " scanned, " + std::to_string(stats.removed) + " removed");
  if (stats.changed() && !path.empty()) {
    // Another run writing it: that run's graph will do; this one is used as it is.
    auto lock = index::FileLock::try_acquire(index::lock_path_for(path), index::FileLock::Mode::kExclusive);
    if (lock && *lock) {
      auto saved = graph::save_graph(path, *g);
      if (!saved) notes.push_back(path + ": not written: " + saved.error().message);
    }
  }
  return std::move(*g);
}

namespace {

/// --affected-by / --changed: keeps the tests of the files the changed paths can affect through
/// the import graph (kept in the cache folder, brought up to date here), and the last
/// failures; the rest are deselected. -v notes say why each test file was kept.
Expected<void> keep_affected(const SelectionRequest& req, const config::Config& cfg, const std::string& rootdir,
                             const std::string& cache, const LastFailed& known, Selection& out) {
  std::vector<std::string> changed;
  if (req.affected_by)
    for (const auto& p : *req.affected_by) changed.push_back(absolute_path(p));
  if (req.changed_ref) {
    DXPY_TRY(auto git, git_changes(rootdir, *req.changed_ref));
    changed.insert(changed.end(), git.begin(), git.end());
  }
  std::optional<graph::ImportGraph> owned;
  graph::ImportGraph* g = req.graph;  // watch mode's, kept up to date per changed path
  if (!g) g = &owned.emplace(load_synced_graph(cfg, cache, out.notes));
  std::vector<std::string> relative;
  for (const auto& c : changed)
    if (auto gp = g->graph_path(c)) relative.push_back(*gp);
  graph::Affected affected = g->affected_by(relative);
  if (changed.empty()) out.notes.push_back("affected: no changed files");
  if (affected.everything) {
    out.notes.push_back("affected: a configuration file changed: every test");
    return {};
  }
  std::unordered_set<std::string> files;
  for (const auto& t : affected.tests) {
    files.insert(t.path);
    out.notes.push_back("affected: " + graph::describe(t));
  }
  std::vector<TestCase> kept;
  kept.reserve(out.tests.size());
  for (auto& t : out.tests) {
    std::string id = t.id.node_id();
    if (files.count(t.id.path) || known.count(id) || known.count(std::string(node_base(id))) ||
        known.count(t.id.path)) {
      kept.push_back(std::move(t));
    } else {
      ++out.deselected;
    }
  }
  out.tests = std::move(kept);
  return {};
}

}  // namespace

void wait_for_index_writer(const Selection& selection) {
  if (!selection.listing || !selection.listing_storage) return;
  const auto* storage = static_cast<const ListingStorage*>(selection.listing_storage.get());
  if (storage->index_writer.joinable()) storage->index_writer.join();
}

Expected<Selection> select_tests(const SelectionRequest& req) {
  Selection out;
  std::string cwd = absolute_path(".");
  if (req.config) {
    out.config = *req.config;
  } else {
    DXPY_TRY(out.config, config::load_config(req.args, cwd, req.inifile, req.rootdir));
  }
  const config::Config& cfg = out.config;
  const std::string& rootdir = cfg.rootdir;

  // Positional arguments: a path (with an optional ::node suffix) or, when no such path
  // exists and it holds a glob character, a pattern over node ids (Property 18).
  std::vector<std::string> paths;
  std::map<std::string, std::vector<std::string>> node_filters;  // abs path -> node-id suffixes
  std::set<std::string> whole;                                   // abs paths selected whole
  std::vector<std::string> patterns;
  for (const auto& a : req.args) {
    auto sep = a.find("::");
    std::string path = absolute_path(join_path(cwd, a.substr(0, sep)));
    if (!stat_path(path)) {
      if (has_glob(a)) {
        patterns.push_back(a);
        continue;
      }
      return make_error(Errc::kUsage, "file or directory not found: " + a);
    }
    paths.push_back(path);
    if (sep != std::string::npos) node_filters[path].push_back(a.substr(sep));
    else whole.insert(path);
  }
  if (req.args.empty()) {
    // pytest uses testpaths only when run from the rootdir.
    if (cwd == rootdir) paths = expand_testpaths(cfg);
    if (paths.empty()) paths.push_back(cwd);
  } else if (paths.empty()) {
    paths.push_back(cwd);  // only patterns: match them against everything under here
  }

  discovery::FileRules file_rules{cfg.python_files, cfg.norecursedirs};
  CollectOptions copts;
  copts.rootdir = rootdir;
  // Listing needs no more than the index's test table when nothing filters the tests.
  copts.ids_only = req.ids_only && req.keyword.empty() && req.markexpr.empty() && node_filters.empty() &&
                   patterns.empty() && !req.last_failed.active() && !req.affected_by && !req.changed_ref;
  copts.rules = discovery::NameRules{cfg.python_classes, cfg.python_functions};
  // A file reached through two arguments is collected once, where it is first found.
  std::vector<std::string> found = discovery::find_test_files(paths, file_rules);
  std::unordered_set<std::string_view> seen;
  seen.reserve(found.size());
  copts.files.reserve(found.size());  // never reallocated: `seen` views its strings
  for (auto& file : found) {
    if (seen.count(file)) continue;
    seen.insert(copts.files.emplace_back(std::move(file)));
  }
  std::string cache_folder;
  if (req.use_cache) {
    std::string cache = open_cache_dir(cfg.cache_folder(), out.notes);
    cache_folder = cache;
    out.cache_dir = cache;
    if (!cache.empty()) {
      copts.index_path = join_path(cache, "index.dxti");
      out.last_failed_path = last_failed_path(cache);
    }
  }
  Collected collected = collect_files(copts);
  out.notes.insert(out.notes.end(), collected.notes.begin(), collected.notes.end());
  out.notes.push_back("collection: " + std::to_string(collected.stats.reused) + " files from the index, " +
                      std::to_string(collected.stats.rehashed) + " re-hashed, " +
                      std::to_string(collected.stats.parsed) + " parsed" +
                      (collected.stats.index_written ? "; index written" : ""));

  DXPY_TRY(auto keyword, select::compile_keyword_option(req.keyword));
  DXPY_TRY(auto markexpr, select::compile_mark_option(req.markexpr));

  if (copts.ids_only) return list_ids(std::move(out), collected);

  // The last failures, read for --lf/--ff and brought up to date by every run. Only files
  // the store names cost more than a flag.
  LastFailed known;
  if (!out.last_failed_path.empty()) {
    LastFailedFile stored = read_last_failed(out.last_failed_path);
    if (stored.damaged) out.notes.push_back(out.last_failed_path + " is damaged: ignored, rewritten after the run");
    out.last_failed_damaged = stored.damaged;
    known = std::move(stored.ids);
  }
  const bool lf_active = req.last_failed.active();
  std::unordered_set<std::string_view> named;
  for (const auto& e : known) named.insert(std::string_view(e).substr(0, e.find("::")));
  std::vector<CollectedFile> lf_files;
  std::vector<Candidate> candidates;

  size_t total = 0;
  for (const auto& rec : collected.records) total += rec.tests.size();
  out.tests.reserve(total);
  for (size_t i = 0; i < collected.records.size(); ++i) {
    auto& rec = collected.records[i];
    const std::string& file = copts.files[i];
    if (!rec.error.empty()) add_collection_error(out, rec);
    auto filters = node_filters.find(file);
    bool file_whole = whole.count(file) > 0 || filters == node_filters.end();
    if (lf_active || (!out.last_failed_path.empty() && (named.count(rec.path) || !rec.error.empty()))) {
      CollectedFile& cf = lf_files.emplace_back();
      cf.path = rec.path;
      cf.initpath = whole.count(file) > 0 || filters != node_filters.end();
      cf.error = !rec.error.empty();
      if (named.count(rec.path))
        for (const auto& t : rec.tests) cf.ids.push_back(t.id.node_id());
    }
    for (auto& t : rec.tests) {
      bool keep = file_whole;
      if (!keep) {
        std::string node = t.id.node_id();
        std::string tail = node.substr(rec.path.size());
        // "::TestC" selects the class, "::TestC::test_x" the method, "::test_x[1]" one param.
        for (const auto& f : filters->second)
          keep |= tail == f || tail.rfind(f + "::", 0) == 0 || tail.rfind(f + "[", 0) == 0;
      }
      if (keep && !patterns.empty()) {
        bool any = false;
        for (const auto& p : patterns) any |= select::matches_glob(p, t) || select::names_literally(p, t);
        keep = any;
      }
      if (!keep) continue;  // not asked for: not "deselected" either
      bool selected = true;
      if (keyword) {
        auto m = keyword->evaluate(select::KeywordMatcher::from_test(t));
        if (!m) return Unexpected<Error>{m.error()};
        selected = *m;
      }
      if (selected && markexpr) selected = markexpr->evaluate(select::MarkMatcher(t));
      if (lf_active) {
        candidates.push_back({std::move(t), static_cast<uint32_t>(lf_files.size() - 1), selected});
        continue;
      }
      if (!selected) {
        ++out.deselected;
        continue;
      }
      out.tests.push_back(std::move(t));
    }
  }
  if (!out.last_failed_path.empty() && (!known.empty() || !lf_files.empty()))
    collection_changes(known, lf_files, rootdir, out.last_failed_changes, out.last_failed_runtime);
  if (lf_active) {
    LastFailedSelection lf =
        select_last_failed(known, out.last_failed_runtime, lf_files, std::move(candidates), req.last_failed);
    out.tests = std::move(lf.tests);
    out.deselected += lf.deselected;
    out.failed_first = lf.failed_first;
    out.last_failed_status = std::move(lf.status);
  }
  if (req.affected_by || req.changed_ref) DXPY_TRY_VOID(keep_affected(req, cfg, rootdir, cache_folder, known, out));
  out.last_failed = std::move(known);
  return out;
}

}  // namespace dxpy::session
