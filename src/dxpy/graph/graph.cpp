#include "dxpy/graph/graph.h"

#include <algorithm>
#include <utility>

#include "dxpy/graph/imports.h"
#include "dxpy/util/expected.h"
#include "dxpy/util/fnmatch.h"
#include "dxpy/util/fs.h"

namespace dxpy::graph {

namespace {

constexpr std::string_view kInit = "__init__.py";
constexpr std::string_view kConftest = "conftest.py";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The folder of a graph path, "" for the rootdir ("a/b.py" -> "a", "b.py" -> "").
std::string_view folder(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

void append_joined(std::string& out, std::string_view dir, std::string_view name) {
  out.append(dir);
  if (!dir.empty()) out += '/';
  out.append(name);
}

// Whether `path` lies in folder `dir` or below it ("" holds everything).
bool under(std::string_view path, std::string_view dir) {
  return dir.empty() || (path.size() > dir.size() && path[dir.size()] == '/' && starts_with(path, dir));
}

// "a/b" -> "a.b".
std::string dotted(std::string_view dir) {
  std::string out(dir);
  std::replace(out.begin(), out.end(), '/', '.');
  return out;
}

// Calls f(component) for each part of a dotted name.
template <class F>
void for_each_part(std::string_view name, F&& f) {
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    f(name.substr(start, dot - start));
    start = dot + 1;
  }
}

// The dotted module names a path not in the graph could be imported as, longest first:
// "a/b/c.py" -> "a.b.c", "b.c", "c"; "a/b/__init__.py" -> "a.b", "b"; an extension module
// "a/m.cpython-311-x86_64-linux-gnu.so" -> "a.m", "m". Empty for other files.
std::vector<std::string> module_names(std::string_view path) {
  std::string_view dir = folder(path);
  std::string_view base = path.substr(dir.empty() ? 0 : dir.size() + 1);
  std::string stem;
  if (base == kInit) {
    stem = std::string(dir);
  } else if (ends_with(base, ".py") || ends_with(base, ".so") || ends_with(base, ".pyd")) {
    base = base.substr(0, base.find('.'));
    if (base.empty()) return {};
    stem = std::string(dir);
    if (!stem.empty()) stem += '/';
    stem += base;
  } else {
    return {};
  }
  std::vector<std::string> out;
  std::string name = dotted(stem);
  for (size_t start = 0; start < name.size();) {
    out.push_back(name.substr(start));
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// python_files: a pattern without '/' matches the basename (pytest's fnmatch_ex); the
// usual "prefix*suffix" is compared on bytes, as fnmatch would, without decoding UTF-8.
bool matches_python_files(std::string_view pattern, std::string_view base, const std::string& rootdir,
                          std::string_view path) {
  auto star = pattern.find('*');
  if (star != std::string_view::npos && pattern.find_first_of("*?[/", star + 1) == std::string_view::npos &&
      pattern.substr(0, star).find_first_of("?[/") == std::string_view::npos) {
    std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
    return base.size() >= prefix.size() + suffix.size() && starts_with(base, prefix) && ends_with(base, suffix);
  }
  return fnmatch_path(pattern, join_path(rootdir, path));
}

// An unresolved import name `u` and a module name `c` a changed path could hold: one is
// the other or a package of it.
bool names_meet(std::string_view u, std::string_view c) {
  if (u.size() == c.size()) return u == c;
  std::string_view shorter = u.size() < c.size() ? u : c;
  std::string_view longer = u.size() < c.size() ? c : u;
  return longer[shorter.size()] == '.' && starts_with(longer, shorter);
}

}  // namespace

std::string_view to_string(DepKind k) {
  switch (k) {
    case DepKind::kImport: return "import";
    case DepKind::kPackage: return "package";
    case DepKind::kConftest: return "conftest";
  }
  return "?";
}

std::string_view to_string(Reason r) {
  switch (r) {
    case Reason::kChanged: return "changed";
    case Reason::kDepends: return "depends";
    case Reason::kConfig: return "config";
    case Reason::kFolder: return "folder";
  }
  return "?";
}

std::string describe(const AffectedTest& t) {
  std::string out;
  for (const auto& p : t.chain) {
    if (!out.empty()) out += " -> ";
    out += p;
  }
  return out;
}

bool is_config_file(std::string_view path) {
  std::string_view base = basename(path);
  for (std::string_view name : {"pyproject.toml", "pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml",
                                "setup.cfg", "tox.ini"})
    if (base == name) return true;
  return false;
}

ImportGraph::ImportGraph(GraphOptions options) : options_(std::move(options)) {
  options_.rootdir = absolute_path(options_.rootdir);
  for (const auto& entry : options_.pythonpath)
    if (auto rel = graph_path(entry)) pythonpath_rel_.push_back(std::move(*rel));
}

std::optional<std::string> ImportGraph::graph_path(std::string_view path) const {
  std::string abs = absolute_path(path.empty() || path.front() != '/' ? join_path(options_.rootdir, path) : path);
  const std::string& root = options_.rootdir;
  if (abs == root) return std::string();
  if (root == "/") return abs.substr(1);
  if (abs.size() > root.size() && abs[root.size()] == '/' && starts_with(abs, root)) return abs.substr(root.size() + 1);
  return std::nullopt;
}

uint32_t ImportGraph::find(std::string_view path) const {
  auto it = ids_.find(path);
  return it == ids_.end() ? kNone : it->second;
}

void ImportGraph::check_resolved() const { DXPY_CHECK(!pending_); }

void ImportGraph::mark_dirty(uint32_t id) {
  pending_ = true;
  Node& n = nodes_[id];
  if (n.dirty) return;
  n.dirty = true;
  dirty_.push_back(id);
}

void ImportGraph::set_file(std::string_view path, std::string_view source, FileStamp stamp) {
  std::vector<ImportRef> imports;
  scan_imports(source, imports);
  set_imports(path, std::move(imports), stamp);
}

void ImportGraph::set_imports(std::string_view path, std::vector<ImportRef> imports, FileStamp stamp) {
  DXPY_CHECK(!path.empty() && path.front() != '/');
  uint32_t id = find(path);
  if (id == kNone) {
    if (free_.empty()) {
      id = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
    } else {
      id = free_.back();
      free_.pop_back();
    }
    Node& n = nodes_[id];
    n.path.assign(path);
    n.live = true;
    std::string_view base = basename(path);
    n.is_init = base == kInit;
    n.is_conftest = base == kConftest;
    n.is_test = false;
    if (!n.is_conftest && ends_with(base, ".py"))
      for (const auto& pattern : options_.python_files)
        n.is_test = n.is_test || matches_python_files(pattern, base, options_.rootdir, path);
    ids_.emplace(n.path, id);
    count_dirs(path, +1);
    structure_changed(path);
  }
  Node& n = nodes_[id];
  n.imports = std::move(imports);
  n.stamp = stamp;
  mark_dirty(id);
}

bool ImportGraph::remove_file(std::string_view path) {
  uint32_t id = find(path);
  if (id == kNone) return false;
  // Files that depended on it lose an edge; their names may now lead elsewhere.
  for (uint32_t r : nodes_[id].rdeps) mark_dirty(r);
  for (const Edge& e : nodes_[id].deps) {
    auto& rd = nodes_[e.to].rdeps;
    auto it = std::find(rd.begin(), rd.end(), id);
    if (it != rd.end()) {
      *it = rd.back();
      rd.pop_back();
    }
  }
  std::string p = std::move(nodes_[id].path);
  ids_.erase(p);
  nodes_[id] = Node{};
  free_.push_back(id);
  count_dirs(p, -1);
  structure_changed(p);
  pending_ = true;
  return true;
}

// An added or removed file changes what the names leading to it resolve to.
void ImportGraph::structure_changed(std::string_view path) {
  ++structural_;
  pending_ = true;
  std::string_view dir = folder(path);
  std::string_view base = basename(path);
  if (base == kInit || base == kConftest) changed_dirs_.emplace_back(dir);
  if (base == kInit) {
    if (!dir.empty()) changed_names_.emplace_back(basename(dir));
  } else {
    changed_names_.emplace_back(base.substr(0, base.size() - (ends_with(base, ".py") ? 3 : 0)));
  }
}

// Folders exist for the graph while they hold a file; one that comes or goes changes what
// names through it resolve to (namespace packages), and a search-path root doing so
// changes every resolution.
void ImportGraph::count_dirs(std::string_view path, int delta) {
  for (std::string_view dir = folder(path); !dir.empty(); dir = folder(dir)) {
    auto it = dirs_.find(dir);
    bool appeared = false, gone = false;
    if (it == dirs_.end()) {
      DXPY_CHECK(delta > 0);
      dirs_.emplace(std::string(dir), 1u);
      appeared = true;
    } else {
      it->second = static_cast<uint32_t>(static_cast<int>(it->second) + delta);
      if (it->second == 0) {
        dirs_.erase(it);
        gone = true;
      }
    }
    if (appeared || gone) {
      changed_names_.emplace_back(basename(dir));
      if (dir == "src" || std::find(pythonpath_rel_.begin(), pythonpath_rel_.end(), dir) != pythonpath_rel_.end())
        everything_dirty_ = true;
    }
  }
}

std::vector<std::string> ImportGraph::search_roots() const {
  std::vector<std::string> roots;
  auto add = [&](const std::string& r) {
    if (std::find(roots.begin(), roots.end(), r) == roots.end()) roots.push_back(r);
  };
  for (const auto& p : pythonpath_rel_) add(p);
  add("");
  if (dirs_.count(std::string_view("src"))) add("src");
  return roots;
}

bool ImportGraph::mentions(const Node& n) const {
  auto named = [&](std::string_view part) {
    return std::binary_search(changed_names_.begin(), changed_names_.end(), part);
  };
  for (const ImportRef& imp : n.imports) {
    bool hit = false;
    for_each_part(imp.module, [&](std::string_view part) { hit = hit || named(part); });
    if (hit) return true;
    for (const auto& name : imp.names)
      if (named(name)) return true;
  }
  return false;
}

void ImportGraph::resolve() {
  if (!pending_) return;
  auto roots = search_roots();
  if (roots != roots_) {
    roots_ = std::move(roots);
    everything_dirty_ = true;
  }
  // A large batch (the first build, a checkout) costs less resolved whole.
  if (structural_ > 32 + ids_.size() / 8) everything_dirty_ = true;
  if (everything_dirty_) {
    for (Node& n : nodes_) {
      n.deps.clear();
      n.rdeps.clear();
    }
    for (uint32_t id = 0; id < nodes_.size(); ++id) {
      nodes_[id].dirty = false;
      if (nodes_[id].live) resolve_node(id, false);
    }
  } else {
    std::sort(changed_names_.begin(), changed_names_.end());
    changed_names_.erase(std::unique(changed_names_.begin(), changed_names_.end()), changed_names_.end());
    for (uint32_t id = 0; id < nodes_.size(); ++id) {
      const Node& n = nodes_[id];
      if (!n.live || n.dirty) continue;
      bool below = false;
      for (const auto& dir : changed_dirs_) below = below || under(n.path, dir);
      if (below || (!changed_names_.empty() && mentions(n))) mark_dirty(id);
    }
    for (uint32_t id : dirty_) {
      nodes_[id].dirty = false;
      if (nodes_[id].live) resolve_node(id, true);
    }
  }
  dirty_.clear();
  changed_names_.clear();
  changed_dirs_.clear();
  structural_ = 0;
  everything_dirty_ = false;
  pending_ = false;
}

uint32_t ImportGraph::file_id(std::string_view dir, std::string_view name, std::string_view suffix) {
  key_.clear();
  append_joined(key_, dir, name);
  key_.append(suffix);
  return find(key_);
}

ImportGraph::Found ImportGraph::lookup(const std::vector<std::string>& portions, std::string_view name,
                                       uint32_t& file, std::vector<std::string>& namespace_out) {
  namespace_out.clear();
  for (const auto& dir : portions) {
    if ((file = file_id(dir, name, "/__init__.py")) != kNone) {
      namespace_out.clear();
      namespace_out.emplace_back(key_.data(), key_.size() - kInit.size() - 1);
      return Found::kPackage;
    }
    if ((file = file_id(dir, name, ".py")) != kNone) return Found::kModule;
    key_.clear();
    append_joined(key_, dir, name);
    if (dirs_.count(std::string_view(key_))) namespace_out.push_back(key_);
  }
  return namespace_out.empty() ? Found::kNothing : Found::kNamespace;
}

void ImportGraph::resolve_import(uint32_t self, const ImportRef& imp, const std::vector<std::string>& search,
                                 std::vector<Edge>& edges, std::vector<Unresolved>& unresolved) {
  const std::vector<std::string>* portions = &search;
  std::string name;  // the absolute name reached so far, for unresolved entries
  if (imp.level == 0) {
    if (imp.module.empty() || imp.module == "__future__") return;
  } else {
    std::string_view d = folder(nodes_[self].path);
    for (uint32_t k = 1; k < imp.level; ++k) {
      if (d.empty()) {  // above the rootdir: nothing of the project
        unresolved.push_back({std::string(imp.level, '.') + imp.module, false});
        return;
      }
      d = folder(d);
    }
    start_.assign(1, std::string(d));
    portions = &start_;
    name = dotted(d);
  }
  std::string full = name;  // the whole module's absolute name
  if (!imp.module.empty()) full += (full.empty() ? "" : ".") + imp.module;

  const std::string& m = imp.module;
  uint32_t file = kNone;
  for (size_t pos = 0; pos < m.size();) {
    size_t dot = std::min(m.find('.', pos), m.size());
    std::string_view part(m.data() + pos, dot - pos);
    const bool first = pos == 0;
    const bool last = dot == m.size();
    pos = dot + 1;
    if (part.empty()) continue;  // "a..b": not from the scanner
    if (!name.empty()) name += '.';
    name.append(part);
    switch (lookup(*portions, part, file, next_)) {
      case Found::kPackage:
        edges.push_back({file, DepKind::kImport});
        [[fallthrough]];
      case Found::kNamespace:
        cur_.swap(next_);
        portions = &cur_;
        break;
      case Found::kModule:
        // What follows a plain module is an attribute or an ImportError; `from mod import
        // x` names attributes. The module is what runs.
        edges.push_back({file, DepKind::kImport});
        if (!last) unresolved.push_back({full, false});
        return;
      case Found::kNothing:
        unresolved.push_back({full, imp.level == 0 && first});
        return;
    }
  }
  for (const auto& n : imp.names) {
    if (n == "*") continue;
    switch (lookup(*portions, n, file, next_)) {
      case Found::kPackage:
      case Found::kModule:
        edges.push_back({file, DepKind::kImport});
        break;
      case Found::kNamespace:
        break;
      case Found::kNothing:
        // An attribute, most likely; kept by name in case a module appears there.
        unresolved.push_back({name.empty() ? n : name + "." + n, false});
        break;
    }
  }
}

void ImportGraph::resolve_node(uint32_t id, bool unlink_old) {
  if (unlink_old) {
    for (const Edge& e : nodes_[id].deps) {
      auto& rd = nodes_[e.to].rdeps;
      auto it = std::find(rd.begin(), rd.end(), id);
      if (it != rd.end()) {
        *it = rd.back();
        rd.pop_back();
      }
    }
  }
  std::vector<Edge> edges;
  std::vector<Unresolved> unresolved;
  const std::string_view path = nodes_[id].path;  // nodes_ does not grow while resolving
  const Node& n = nodes_[id];
  const std::string_view dir = folder(path);

  // The chain of packages F lives in (for an __init__.py, the ones above its own).
  if (!(n.is_init && dir.empty())) {
    std::string_view d = n.is_init ? folder(dir) : dir;
    for (;;) {
      uint32_t f = file_id(d, kInit, "");
      if (f == kNone) break;
      edges.push_back({f, DepKind::kPackage});
      if (d.empty()) break;
      d = folder(d);
    }
  }
  if (n.is_test || n.is_conftest) {
    for (std::string_view d = dir;; d = folder(d)) {
      uint32_t f = file_id(d, kConftest, "");
      if (f != kNone && f != id) edges.push_back({f, DepKind::kConftest});
      if (d.empty()) break;
    }
  }
  // pytest's prepend mode puts the first folder up from F without an __init__.py first.
  std::string_view base = dir;
  while (!base.empty() && file_id(base, kInit, "") != kNone) base = folder(base);
  std::vector<std::string> search;
  search.reserve(roots_.size() + 1);
  search.emplace_back(base);
  for (const auto& r : roots_)
    if (r != base) search.push_back(r);

  for (const ImportRef& imp : n.imports) resolve_import(id, imp, search, edges, unresolved);

  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
    return a.to != b.to ? a.to < b.to : a.kind < b.kind;
  });
  edges.erase(std::unique(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.to == b.to; }),
              edges.end());
  edges.erase(std::remove_if(edges.begin(), edges.end(), [&](const Edge& e) { return e.to == id; }), edges.end());
  for (const Edge& e : edges) nodes_[e.to].rdeps.push_back(id);
  std::sort(unresolved.begin(), unresolved.end(), [](const Unresolved& a, const Unresolved& b) {
    return a.name != b.name ? a.name < b.name : a.external > b.external;
  });
  unresolved.erase(std::unique(unresolved.begin(), unresolved.end(),
                               [](const Unresolved& a, const Unresolved& b) { return a.name == b.name; }),
                   unresolved.end());
  Node& node = nodes_[id];
  node.deps = std::move(edges);
  node.unresolved = std::move(unresolved);
}

// ---- queries ----

std::vector<std::string> ImportGraph::paths() const {
  std::vector<std::string> out;
  out.reserve(ids_.size());
  for (const auto& [path, id] : ids_) out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ImportGraph::test_files() const {
  std::vector<std::string> out;
  for (const Node& n : nodes_)
    if (n.live && n.is_test) out.push_back(n.path);
  std::sort(out.begin(), out.end());
  return out;
}

bool ImportGraph::is_test_file(std::string_view path) const {
  uint32_t id = find(path);
  return id != kNone && nodes_[id].is_test;
}

std::optional<FileStamp> ImportGraph::stamp(std::string_view path) const {
  uint32_t id = find(path);
  if (id == kNone) return std::nullopt;
  return nodes_[id].stamp;
}

const std::vector<ImportRef>* ImportGraph::imports(std::string_view path) const {
  uint32_t id = find(path);
  return id == kNone ? nullptr : &nodes_[id].imports;
}

std::vector<Dependency> ImportGraph::dependencies(std::string_view path) const {
  check_resolved();
  std::vector<Dependency> out;
  uint32_t id = find(path);
  if (id == kNone) return out;
  for (const Edge& e : nodes_[id].deps) out.push_back({nodes_[e.to].path, e.kind});
  std::sort(out.begin(), out.end(), [](const Dependency& a, const Dependency& b) { return a.path < b.path; });
  return out;
}

std::vector<std::string> ImportGraph::dependents(std::string_view path) const {
  check_resolved();
  std::vector<std::string> out;
  uint32_t id = find(path);
  if (id == kNone) return out;
  for (uint32_t r : nodes_[id].rdeps) out.push_back(nodes_[r].path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Unresolved> ImportGraph::unresolved(std::string_view path) const {
  check_resolved();
  uint32_t id = find(path);
  return id == kNone ? std::vector<Unresolved>{} : nodes_[id].unresolved;
}

std::vector<std::string> ImportGraph::external_modules() const {
  check_resolved();
  std::vector<std::string> out;
  for (const Node& n : nodes_)
    for (const Unresolved& u : n.unresolved)
      if (u.external) out.push_back(u.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Affected ImportGraph::affected_by(const std::vector<std::string>& changed) const {
  check_resolved();
  Affected out;
  // BFS over reverse edges. parent: the file a reached one depends on (kNone for a seed);
  // origin: the changed path a seed stands for when it is not a graph file itself.
  std::vector<uint32_t> parent(nodes_.size(), kNone);
  std::vector<int32_t> origin(nodes_.size(), -1);
  std::vector<bool> seen(nodes_.size(), false);
  std::vector<uint32_t> queue;
  std::vector<std::string> heads;                           // changed paths, for origin
  std::vector<std::pair<std::string, std::string>> folders;  // (folder, changed path) of unplaced files
  std::string config;
  auto seed = [&](uint32_t id, int32_t from) {
    if (seen[id]) return;
    seen[id] = true;
    origin[id] = from;
    queue.push_back(id);
  };
  for (const auto& c : changed) {
    auto rel = graph_path(c);
    if (!rel) continue;
    if (is_config_file(*rel)) {
      if (config.empty()) config = *rel;
      continue;
    }
    if (uint32_t id = find(*rel); id != kNone) {
      seed(id, -1);
      continue;
    }
    // A folder (deleted, renamed, or given as such): the graph files in it changed.
    bool any = false;
    for (uint32_t id = 0; id < nodes_.size(); ++id)
      if (nodes_[id].live && under(nodes_[id].path, *rel)) {
        seed(id, -1);
        any = true;
      }
    if (any) continue;
    // A file the graph does not hold: placed when an import names it.
    bool placed = false;
    auto names = module_names(*rel);
    if (!names.empty()) {
      const auto from = static_cast<int32_t>(heads.size());
      for (uint32_t id = 0; id < nodes_.size(); ++id) {
        const Node& n = nodes_[id];
        if (!n.live) continue;
        bool hit = false;
        for (const Unresolved& u : n.unresolved)
          for (const auto& name : names) hit = hit || names_meet(u.name, name);
        if (hit) {
          seed(id, from);
          placed = true;
        }
      }
      if (placed) heads.push_back(*rel);
    }
    if (!placed) folders.emplace_back(std::string(folder(*rel)), *rel);
  }
  for (size_t i = 0; i < queue.size(); ++i) {
    uint32_t id = queue[i];
    for (uint32_t r : nodes_[id].rdeps) {
      if (seen[r]) continue;
      seen[r] = true;
      parent[r] = id;
      origin[r] = origin[id];
      queue.push_back(r);
    }
  }
  // An unplaced file's folder, or the nearest one above it with test files below: data in
  // tests/data/ is read by the tests of tests/, and selecting nothing would fail closed.
  for (auto& [dir, path] : folders) {
    auto has_tests = [&](std::string_view d) {
      for (const Node& n : nodes_)
        if (n.live && n.is_test && under(n.path, d)) return true;
      return false;
    };
    while (!dir.empty() && !has_tests(dir)) dir = std::string(folder(dir));
  }
  std::vector<bool> selected(nodes_.size(), false);
  for (uint32_t id : queue) {
    out.files.push_back(nodes_[id].path);
    if (!nodes_[id].is_test) continue;
    AffectedTest t;
    t.path = nodes_[id].path;
    for (uint32_t k = id; k != kNone; k = parent[k]) t.chain.push_back(nodes_[k].path);
    if (origin[id] >= 0) t.chain.push_back(heads[static_cast<size_t>(origin[id])]);
    std::reverse(t.chain.begin(), t.chain.end());
    t.reason = t.chain.size() == 1 ? Reason::kChanged : Reason::kDepends;
    selected[id] = true;
    out.tests.push_back(std::move(t));
  }
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    const Node& n = nodes_[id];
    if (!n.live || !n.is_test || selected[id]) continue;
    if (!config.empty()) {
      out.tests.push_back({n.path, Reason::kConfig, {config, n.path}});
      selected[id] = true;
      continue;
    }
    for (const auto& [dir, path] : folders)
      if (under(n.path, dir)) {
        out.tests.push_back({n.path, Reason::kFolder, {path, n.path}});
        selected[id] = true;
        break;
      }
  }
  out.everything = !config.empty();
  std::sort(out.files.begin(), out.files.end());
  std::sort(out.tests.begin(), out.tests.end(),
            [](const AffectedTest& a, const AffectedTest& b) { return a.path < b.path; });
  return out;
}

bool operator==(const ImportGraph& a, const ImportGraph& b) {
  a.check_resolved();
  b.check_resolved();
  if (a.ids_.size() != b.ids_.size()) return false;
  for (const auto& [path, ia] : a.ids_) {
    uint32_t ib = b.find(path);
    if (ib == ImportGraph::kNone) return false;
    const auto& na = a.nodes_[ia];
    const auto& nb = b.nodes_[ib];
    if (na.stamp != nb.stamp || na.is_test != nb.is_test || na.imports != nb.imports ||
        na.unresolved != nb.unresolved || na.deps.size() != nb.deps.size())
      return false;
    if (a.dependencies(path) != b.dependencies(path)) return false;
  }
  return true;
}

std::string ImportGraph::describe() const {
  std::string out;
  for (const auto& path : paths()) {
    const Node& n = nodes_[find(path)];
    out += path;
    if (n.is_test) out += " [test]";
    if (n.is_conftest) out += " [conftest]";
    out += '\n';
    if (pending_) continue;
    for (const auto& d : dependencies(path)) {
      out += "  -> " + d.path;
      if (d.kind != DepKind::kImport) out += " (" + std::string(to_string(d.kind)) + ")";
      out += '\n';
    }
    for (const auto& u : n.unresolved) out += "  ? " + u.name + (u.external ? " (external)\n" : "\n");
  }
  return out;
}

}  // namespace dxpy::graph
