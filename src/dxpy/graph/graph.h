#pragma once
/// The import graph of a project: which Python file runs which when imported, and so which
/// test files an edit can break.
///
/// Nodes are the project's Python files by rootdir-relative, '/'-separated path (as
/// FileRecord::path). An edge F -> G says that importing F runs G:
///   kImport    F imports a module that resolves to G, or passes through a package whose
///              __init__.py is G (`import a.b.c` depends on a/__init__.py, a/b/__init__.py
///              and a/b/c.py; `from a.b import c` also on a/b/c.py when c is a submodule);
///   kPackage   G is the __init__.py of F's own package or of one above it, up the chain
///              of folders that have one (importing F imports them first);
///   kConftest  F is a test file or a conftest.py, G a conftest.py in F's folder or above
///              (pytest loads those before F).
///
/// Resolution follows Python's path-based finder over the search path
///   F's basedir (pytest's prepend import mode: the first folder up from F without an
///   __init__.py), the `pythonpath` entries, the rootdir, rootdir/src
/// one component at a time: in each entry a package (folder with __init__.py), else a
/// module (NAME.py), else a namespace portion (folder without __init__.py; the search goes
/// on in every portion found). Relative imports start from F's folder (level 1) or the
/// folders above it. An import whose first component is found nowhere is external, kept by
/// name: what the worker pool may preload. A name that leaves the project part way
/// (`import app.gone`, or `from app import f` where f is no submodule) is kept too, as
/// unresolved: a file that appears or disappears under that name is then placed.
///
/// Building is batched: set_file / remove_file record changes, resolve() brings the edges
/// up to date. It re-resolves only what a change can concern: the changed files, files
/// whose imports name an added or removed module or folder, files below an added or removed
/// __init__.py or conftest.py, and files that depended on a removed one; a large batch (or
/// a change of the search path itself) resolves everything. Queries need a resolved graph
/// (they check). Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::graph {

/// What decides resolution and which files are tests: the session fills it from the config.
struct GraphOptions {
  std::string rootdir;                  // absolute
  std::vector<std::string> pythonpath;  // absolute (config's `pythonpath`); entries outside rootdir are not searched
  std::vector<std::string> python_files = {"test_*.py", "*_test.py"};
  /// Folders sync_graph does not walk (pytest's norecursedirs; __pycache__ and virtualenvs
  /// are always skipped).
  std::vector<std::string> norecursedirs = {"*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                                            "{arch}"};
};

/// What decides whether a file must be scanned again.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

enum class DepKind : uint8_t { kImport = 0, kPackage = 1, kConftest = 2 };
std::string_view to_string(DepKind k);

struct Dependency {
  std::string path;
  DepKind kind = DepKind::kImport;
  friend bool operator==(const Dependency&, const Dependency&) = default;
};

/// An imported name that is no file of the project: `external` when its first component is
/// found nowhere (numpy, os), else a name that leaves the project part way. Relative
/// imports are named from the rootdir ("pkg.gone" for `from .gone import x` in pkg/m.py).
struct Unresolved {
  std::string name;
  bool external = false;
  friend bool operator==(const Unresolved&, const Unresolved&) = default;
};

/// Why a test file was selected.
enum class Reason : uint8_t {
  kChanged = 0,  // it changed itself
  kDepends = 1,  // it depends on a changed file, directly or through others (see chain)
  kConfig = 2,   // a config file changed (pyproject.toml, pytest.ini, setup.cfg, tox.ini, ...)
  kFolder = 3,   // a file the graph cannot place changed in its folder or one above
};
std::string_view to_string(Reason r);

struct AffectedTest {
  std::string path;
  Reason reason = Reason::kChanged;
  /// The changed path first and this test file last; each depends on the one before
  /// ("app/a.py", "app/b.py", "tests/test_b.py"). A shortest such chain.
  std::vector<std::string> chain;
  friend bool operator==(const AffectedTest&, const AffectedTest&) = default;
};

struct Affected {
  bool everything = false;          // a config file changed: every test file is in `tests`
  std::vector<AffectedTest> tests;  // sorted by path
  /// Every graph file that is or depends on a changed one, sorted: a warm worker that
  /// imported one of them must not run again as it is.
  std::vector<std::string> files;
};

/// "a.py -> b.py -> tests/test_b.py", for -v.
std::string describe(const AffectedTest& t);

/// pyproject.toml, pytest.ini, .pytest.ini, pytest.toml, .pytest.toml, setup.cfg, tox.ini:
/// a change to one (by basename) may change every test's configuration.
bool is_config_file(std::string_view path);

class ImportGraph {
 public:
  explicit ImportGraph(GraphOptions options);

  const GraphOptions& options() const { return options_; }
  /// `path` (absolute, or relative to the rootdir) as a graph path: rootdir-relative and
  /// normalised ("" for the rootdir itself); nullopt outside the rootdir.
  std::optional<std::string> graph_path(std::string_view path) const;

  // ---- changes (then resolve()) ----

  /// Adds or replaces a Python file, scanning `source` for its imports.
  void set_file(std::string_view path, std::string_view source, FileStamp stamp = {});
  /// Adds or replaces a file with its imports already known (a loaded graph; FileRecord::imports).
  void set_imports(std::string_view path, std::vector<ImportRef> imports, FileStamp stamp = {});
  /// Drops a file; false if it was not in the graph.
  bool remove_file(std::string_view path);
  /// Brings every edge up to date with the changes since the last call.
  void resolve();
  bool resolved() const { return !pending_; }

  // ---- queries (rootdir-relative paths) ----

  size_t size() const { return ids_.size(); }
  bool contains(std::string_view path) const { return find(path) != kNone; }
  std::vector<std::string> paths() const;  // sorted
  std::vector<std::string> test_files() const;  // sorted
  bool is_test_file(std::string_view path) const;
  std::optional<FileStamp> stamp(std::string_view path) const;
  /// The file's imports as scanned; null if it is not in the graph.
  const std::vector<ImportRef>* imports(std::string_view path) const;
  /// Direct dependencies, sorted by path (one edge per target, the first kind by DepKind order).
  std::vector<Dependency> dependencies(std::string_view path) const;
  /// Files that depend on `path` directly, sorted.
  std::vector<std::string> dependents(std::string_view path) const;
  std::vector<Unresolved> unresolved(std::string_view path) const;
  /// Every external module name imported anywhere, sorted and unique ("numpy", "os.path").
  std::vector<std::string> external_modules() const;

  /// What a change to `changed` (paths as graph_path takes them; files, deleted files or
  /// folders, Python or not) can break. A graph file selects its dependents; a config file
  /// selects everything; a path the graph does not hold is placed by name when an import
  /// names it (a deleted module, an extension module), else selects every test file in its
  /// folder and below (fail open: a data file), or when there is none, in the nearest
  /// folder above that has some. Paths outside the rootdir are ignored.
  Affected affected_by(const std::vector<std::string>& changed) const;

  /// Equal files, stamps, imports, edges and unresolved names (file ids may differ).
  friend bool operator==(const ImportGraph& a, const ImportGraph& b);
  /// A readable dump, one line per file and edge: for test failures and debugging.
  std::string describe() const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Edge {
    uint32_t to;
    DepKind kind;
  };
  struct Node {
    std::string path;
    FileStamp stamp;
    bool live = false;
    bool dirty = false;
    bool is_test = false;
    bool is_conftest = false;
    bool is_init = false;
    std::vector<ImportRef> imports;
    std::vector<Edge> deps;       // sorted by target id, one per target
    std::vector<uint32_t> rdeps;  // unordered
    std::vector<Unresolved> unresolved;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StringMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;
  enum class Found : uint8_t { kNothing, kPackage, kModule, kNamespace };

  uint32_t find(std::string_view path) const;
  void check_resolved() const;
  void mark_dirty(uint32_t id);
  void structure_changed(std::string_view path);
  void count_dirs(std::string_view path, int delta);
  std::vector<std::string> search_roots() const;
  void resolve_node(uint32_t id, bool unlink_old);
  bool mentions(const Node& n) const;
  Found lookup(const std::vector<std::string>& portions, std::string_view name, uint32_t& file,
               std::vector<std::string>& namespace_out);
  uint32_t file_id(std::string_view dir, std::string_view name, std::string_view suffix);
  void resolve_import(uint32_t self, const ImportRef& imp, const std::vector<std::string>& search,
                      std::vector<Edge>& edges, std::vector<Unresolved>& unresolved);

  GraphOptions options_;
  std::vector<std::string> pythonpath_rel_;  // pythonpath entries under rootdir, relative
  std::vector<Node> nodes_;
  std::vector<uint32_t> free_;
  StringMap ids_;   // live file path -> id
  StringMap dirs_;  // folder -> live files below it (namespace portions)
  std::vector<std::string> roots_;  // the search path after the basedir, as of the last resolve

  // Pending changes, for resolve().
  bool pending_ = false;
  bool everything_dirty_ = false;
  size_t structural_ = 0;                   // files added or removed in this batch
  std::vector<std::string> changed_names_;  // module and folder names added or removed
  std::vector<std::string> changed_dirs_;   // folders whose __init__.py or conftest.py came or went
  std::vector<uint32_t> dirty_;
  std::string key_;  // scratch for lookups
  std::vector<std::string> start_, cur_, next_;  // scratch for resolve_import
};

}  // namespace dxpy::graph
