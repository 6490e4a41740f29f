#include "dxpy/discovery/collector.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <tree_sitter/api.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "dxpy/util/fs.h"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace dxpy::discovery {

namespace {

struct Collector {
  std::string_view src;
  const std::string& rel_path;
  const std::string& abs_path;
  ModuleItems out;

  std::string text(TSNode n) const {
    return std::string(src.substr(ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n)));
  }
  std::string field_text(TSNode n, const char* field) const {
    TSNode f = ts_node_child_by_field_name(n, field, static_cast<uint32_t>(std::strlen(field)));
    return ts_node_is_null(f) ? std::string() : text(f);
  }
  static bool is(TSNode n, const char* type) { return std::strcmp(ts_node_type(n), type) == 0; }

  // `@pytest.mark.NAME(...)` or `@mark.NAME` -> Marker.
  void markers_of(TSNode decorated, std::vector<Marker>& markers) const {
    uint32_t n = ts_node_named_child_count(decorated);
    for (uint32_t i = 0; i < n; ++i) {
      TSNode d = ts_node_named_child(decorated, i);
      if (!is(d, "decorator")) continue;
      TSNode expr = ts_node_named_child(d, 0);
      TSNode callee = is(expr, "call") ? ts_node_child_by_field_name(expr, "function", 8) : expr;
      std::string name = text(callee);
      for (std::string_view prefix : {"pytest.mark.", "mark."}) {
        if (name.rfind(prefix, 0) == 0) {
          Marker m;
          m.name = name.substr(prefix.size());
          if (is(expr, "call")) {
            TSNode args = ts_node_child_by_field_name(expr, "arguments", 9);
            uint32_t an = ts_node_named_child_count(args);
            for (uint32_t k = 0; k < an; ++k) {
              TSNode a = ts_node_named_child(args, k);
              if (is(a, "keyword_argument"))
                m.kwargs.emplace_back(field_text(a, "name"), field_text(a, "value"));
              else
                m.args.push_back(text(a));
            }
          }
          markers.push_back(std::move(m));
          break;
        }
      }
    }
  }

  std::vector<std::string> params_of(TSNode fn) const {
    std::vector<std::string> names;
    TSNode params = ts_node_child_by_field_name(fn, "parameters", 10);
    uint32_t n = ts_node_named_child_count(params);
    for (uint32_t i = 0; i < n; ++i) {
      TSNode p = ts_node_named_child(params, i);
      if (is(p, "identifier")) names.push_back(text(p));
      else if (is(p, "default_parameter") || is(p, "typed_parameter") || is(p, "typed_default_parameter")) {
        std::string name = field_text(p, "name");
        if (name.empty() && ts_node_named_child_count(p) > 0) name = text(ts_node_named_child(p, 0));
        names.push_back(name);
      }
    }
    return names;
  }

  // Unwraps decorated_definition; returns the definition node and fills markers.
  TSNode definition(TSNode n, std::vector<Marker>* markers) const {
    if (!is(n, "decorated_definition")) return n;
    if (markers) markers_of(n, *markers);
    return ts_node_child_by_field_name(n, "definition", 10);
  }

  void add_test(TSNode fn, const std::vector<std::string>& classes, std::vector<Marker> markers, TestKind kind) {
    TestCase tc;
    tc.id = TestId{rel_path, classes, field_text(fn, "name"), ""};
    tc.file = abs_path;
    tc.line = ts_node_start_point(fn).row + 1;
    tc.kind = kind;
    tc.is_async = ts_node_child_count(fn) > 0 && is(ts_node_child(fn, 0), "async");
    tc.markers = std::move(markers);
    tc.fixtures = params_of(fn);
    if (kind != TestKind::kFunction && !tc.fixtures.empty() && tc.fixtures.front() == "self")
      tc.fixtures.erase(tc.fixtures.begin());
    // Parametrize is expanded by the worker until discovery expands literal arguments.
    for (const auto& m : tc.markers) tc.expand_at_runtime |= m.name == "parametrize";
    out.tests.push_back(std::move(tc));
  }

  void visit_class(TSNode cls, std::vector<std::string> classes, std::vector<Marker> class_markers) {
    std::string name = field_text(cls, "name");
    std::string supers = field_text(cls, "superclasses");
    bool unittest = supers.find("TestCase") != std::string::npos;
    if (!unittest && name.rfind("Test", 0) != 0) return;
    TSNode body = ts_node_child_by_field_name(cls, "body", 4);
    uint32_t n = ts_node_named_child_count(body);
    for (uint32_t i = 0; i < n; ++i) {
      TSNode def = definition(ts_node_named_child(body, i), nullptr);
      if (is(def, "function_definition") && field_text(def, "name") == "__init__" && !unittest) return;
    }
    classes.push_back(name);
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<Marker> markers;
      TSNode def = definition(ts_node_named_child(body, i), &markers);
      if (is(def, "function_definition") && field_text(def, "name").rfind("test", 0) == 0) {
        markers.insert(markers.end(), class_markers.begin(), class_markers.end());
        add_test(def, classes, std::move(markers), unittest ? TestKind::kUnittest : TestKind::kMethod);
      } else if (is(def, "class_definition") && !unittest) {
        visit_class(def, classes, markers);
      }
    }
  }

  void visit_module(TSNode root) {
    uint32_t n = ts_node_named_child_count(root);
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<Marker> markers;
      TSNode def = definition(ts_node_named_child(root, i), &markers);
      if (is(def, "function_definition") && field_text(def, "name").rfind("test", 0) == 0)
        add_test(def, {}, std::move(markers), TestKind::kFunction);
      else if (is(def, "class_definition"))
        visit_class(def, {}, std::move(markers));
    }
  }

  // First ERROR or MISSING node, depth first, for the collection error's line.
  static TSNode first_error(TSNode n) {
    if (ts_node_is_error(n) || ts_node_is_missing(n)) return n;
    uint32_t c = ts_node_child_count(n);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode child = ts_node_child(n, i);
      if (ts_node_has_error(child)) {
        TSNode e = first_error(child);
        if (!ts_node_is_null(e)) return e;
      }
    }
    return TSNode{};
  }
};

struct ParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
struct TreeDeleter {
  void operator()(TSTree* t) const { ts_tree_delete(t); }
};

}  // namespace

ModuleItems collect_module(std::string_view source, const std::string& rel_path, const std::string& abs_path) {
  thread_local std::unique_ptr<TSParser, ParserDeleter> parser;
  if (!parser) {
    parser.reset(ts_parser_new());
    DXPY_CHECK(ts_parser_set_language(parser.get(), tree_sitter_python()));
  }
  std::unique_ptr<TSTree, TreeDeleter> tree(
      ts_parser_parse_string(parser.get(), nullptr, source.data(), static_cast<uint32_t>(source.size())));
  Collector c{source, rel_path, abs_path, {}};
  TSNode root = ts_tree_root_node(tree.get());
  if (ts_node_has_error(root)) {
    TSNode e = Collector::first_error(root);
    uint32_t line = ts_node_is_null(e) ? 0 : ts_node_start_point(e).row + 1;
    c.out.errors.push_back({rel_path, line, "SyntaxError: invalid syntax (line " + std::to_string(line) + ")"});
    return std::move(c.out);
  }
  c.visit_module(root);
  return std::move(c.out);
}

void describe_source(std::string_view source, const std::string& abs_path, const NameRules& /*rules*/,
                     FileRecord& record) {
  // Interim: the tree-sitter collector. The scanner's Outline plus apply_rules replace it.
  auto items = collect_module(source, record.path, abs_path);
  record.tests = std::move(items.tests);
  record.error.clear();
  record.error_line = 0;
  if (!items.errors.empty()) {
    record.error = items.errors.front().message;
    record.error_line = items.errors.front().line;
  }
}

bool is_test_file_name(std::string_view name) {
  if (name.size() < 4 || name.substr(name.size() - 3) != ".py") return false;
  return name.rfind("test_", 0) == 0 || (name.size() >= 8 && name.substr(name.size() - 8) == "_test.py");
}

namespace {

bool skip_dir(const char* name) {
  // pytest's default norecursedirs, plus anything with a pyvenv.cfg (a virtualenv).
  static const char* const kPatterns[] = {"*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                                          "{arch}", "__pycache__"};
  for (const char* p : kPatterns)
    if (fnmatch(p, name, 0) == 0) return true;
  return false;
}

void walk(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> files, dirs;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string full = join_path(dir, name);
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      auto st = stat_path(full);
      is_dir = st && st->is_dir;
    }
    if (is_dir) {
      if (!skip_dir(name.c_str()) && !stat_path(join_path(full, "pyvenv.cfg"))) dirs.push_back(full);
    } else if (is_test_file_name(name)) {
      files.push_back(full);
    }
  }
  ::closedir(d);
  // pytest visits a folder's entries sorted by name, files and folders interleaved.
  std::vector<std::pair<std::string, bool>> entries;
  for (auto& f : files) entries.emplace_back(std::move(f), false);
  for (auto& s : dirs) entries.emplace_back(std::move(s), true);
  std::sort(entries.begin(), entries.end());
  for (auto& [path, is_dir] : entries) {
    if (is_dir) walk(path, out);
    else out.push_back(path);
  }
}

}  // namespace

std::vector<std::string> find_test_files(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    auto st = stat_path(p);
    if (st && st->is_dir) walk(p, out);
    else if (st) out.push_back(p);
  }
  return out;
}

}  // namespace dxpy::discovery
