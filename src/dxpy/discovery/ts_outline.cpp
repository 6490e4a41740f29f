#include "dxpy/discovery/ts_outline.h"

#include <tree_sitter/api.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "dxpy/discovery/scanner.h"
#include "dxpy/util/expected.h"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace dxpy::discovery {

namespace {

bool is(TSNode n, const char* type) { return std::strcmp(ts_node_type(n), type) == 0; }

// Comments and line continuations are extras: they show up among any node's named children.
bool is_extra(TSNode n) { return ts_node_is_extra(n); }

struct Builder {
  std::string_view src;
  Outline out;

  std::string_view raw(TSNode n) const {
    return src.substr(ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n));
  }
  std::string text(TSNode n) const { return fold_source_text(raw(n)); }
  static uint32_t line(TSNode n) { return ts_node_start_point(n).row + 1; }
  static TSNode field(TSNode n, const char* name) {
    return ts_node_child_by_field_name(n, name, static_cast<uint32_t>(std::strlen(name)));
  }
  // The first named child that is not a comment.
  static TSNode first_named(TSNode n) {
    uint32_t c = ts_node_named_child_count(n);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode k = ts_node_named_child(n, i);
      if (!is_extra(k)) return k;
    }
    return TSNode{};
  }

  // "a . b" -> "a.b": the identifiers of a dotted_name, whatever the blanks between them.
  std::string dotted(TSNode n) const {
    if (!is(n, "dotted_name")) return std::string(raw(n));
    std::string s;
    uint32_t c = ts_node_named_child_count(n);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode k = ts_node_named_child(n, i);
      if (!is(k, "identifier")) continue;
      if (!s.empty()) s += '.';
      s += raw(k);
    }
    return s;
  }
  std::string imported_name(TSNode n) const {
    if (is(n, "aliased_import")) return dotted(field(n, "name"));
    if (is(n, "wildcard_import")) return "*";
    return dotted(n);
  }
  std::string alias_of(TSNode n) const {
    return is(n, "aliased_import") ? std::string(raw(field(n, "alias"))) : std::string();
  }

  void add_import(TSNode n, bool nested) {
    if (is(n, "import_statement")) {
      uint32_t c = ts_node_named_child_count(n);
      for (uint32_t i = 0; i < c; ++i) {
        TSNode k = ts_node_named_child(n, i);
        if (is_extra(k)) continue;
        Import imp;
        imp.module = imported_name(k);
        imp.alias = alias_of(k);
        imp.line = line(n);
        imp.nested = nested;
        out.imports.push_back(std::move(imp));
      }
      return;
    }
    Import imp;
    imp.line = line(n);
    imp.nested = nested;
    TSNode module = field(n, "module_name");
    if (is(n, "future_import_statement")) {
      imp.module = "__future__";
    } else if (is(module, "relative_import")) {
      uint32_t c = ts_node_named_child_count(module);
      for (uint32_t i = 0; i < c; ++i) {
        TSNode k = ts_node_named_child(module, i);
        if (is(k, "import_prefix")) {
          for (char ch : raw(k)) imp.level += ch == '.';
        } else if (is(k, "dotted_name")) {
          imp.module = dotted(k);
        }
      }
    } else {
      imp.module = dotted(module);
    }
    uint32_t c = ts_node_named_child_count(n);
    bool renamed = false;
    for (uint32_t i = 0; i < c; ++i) {
      TSNode k = ts_node_named_child(n, i);
      if (is_extra(k) || ts_node_eq(k, module)) continue;
      imp.names.push_back(imported_name(k));
      imp.aliases.push_back(alias_of(k));
      renamed |= !imp.aliases.back().empty();
    }
    if (!renamed) imp.aliases.clear();
    out.imports.push_back(std::move(imp));
  }

  // Every import statement, in source order; a statement can only sit in a block.
  void collect_imports(TSNode root) {
    TSTreeCursor cur = ts_tree_cursor_new(root);
    bool done = false;
    while (!done) {
      TSNode n = ts_tree_cursor_current_node(&cur);
      bool descend = true;
      if (is(n, "import_statement") || is(n, "import_from_statement") || is(n, "future_import_statement")) {
        TSNode parent = ts_node_parent(n);
        add_import(n, !is(parent, "module"));
        descend = false;
      } else if (ts_node_named_child_count(n) == 0) {
        descend = false;
      }
      if (descend && ts_tree_cursor_goto_first_child(&cur)) continue;
      while (!ts_tree_cursor_goto_next_sibling(&cur)) {
        if (!ts_tree_cursor_goto_parent(&cur)) {
          done = true;
          break;
        }
      }
    }
    ts_tree_cursor_delete(&cur);
  }

  std::vector<std::string> params_of(TSNode fn) const {
    std::vector<std::string> names;
    TSNode params = field(fn, "parameters");
    uint32_t c = ts_node_named_child_count(params);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode p = ts_node_named_child(params, i);
      if (is(p, "default_parameter") || is(p, "typed_default_parameter")) p = field(p, "name");
      else if (is(p, "typed_parameter")) p = first_named(p);
      if (is(p, "list_splat_pattern") || is(p, "dictionary_splat_pattern")) p = first_named(p);
      if (!ts_node_is_null(p) && is(p, "identifier")) names.push_back(std::string(raw(p)));
    }
    return names;
  }

  std::vector<std::string> bases_of(TSNode cls) const {
    std::vector<std::string> bases;
    TSNode args = field(cls, "superclasses");
    if (ts_node_is_null(args)) return bases;
    uint32_t c = ts_node_named_child_count(args);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode a = ts_node_named_child(args, i);
      if (is_extra(a) || is(a, "keyword_argument") || is(a, "dictionary_splat")) continue;
      bases.push_back(text(a));
    }
    return bases;
  }

  struct Target {
    std::vector<Def>* defs;
    std::vector<Assignment>* assignments;  // null inside compound blocks
    bool conditional;
  };

  void add_def(TSNode n, Target t) {
    Def d;
    TSNode def = n;
    if (is(n, "decorated_definition")) {
      def = field(n, "definition");
      uint32_t c = ts_node_named_child_count(n);
      for (uint32_t i = 0; i < c; ++i) {
        TSNode k = ts_node_named_child(n, i);
        if (!is(k, "decorator")) continue;
        d.decorators.push_back(Decorator{text(first_named(k)), line(k)});
      }
    }
    d.name = std::string(raw(field(def, "name")));
    d.line = line(def);
    d.conditional = t.conditional;
    if (is(def, "class_definition")) {
      d.kind = DefKind::kClass;
      d.bases = bases_of(def);
      visit_block(field(def, "body"), Target{&d.body, &d.assignments, false});
    } else {
      d.kind = ts_node_child_count(def) > 0 && is(ts_node_child(def, 0), "async") ? DefKind::kAsyncFunction
                                                                                  : DefKind::kFunction;
      d.params = params_of(def);
    }
    t.defs->push_back(std::move(d));
  }

  void add_assignments(TSNode stmt, std::vector<Assignment>& out_assignments) const {
    uint32_t c = ts_node_named_child_count(stmt);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode a = ts_node_named_child(stmt, i);
      if (!is(a, "assignment")) continue;
      TSNode left = field(a, "left");
      TSNode right = field(a, "right");
      if (!is(left, "identifier") || ts_node_is_null(right)) continue;
      out_assignments.push_back(Assignment{std::string(raw(left)), text(right), line(a)});
    }
  }

  static bool is_compound(TSNode n) {
    static const char* const kTypes[] = {"if_statement", "for_statement",  "while_statement",
                                         "try_statement", "with_statement", "match_statement",
                                         "case_clause", "elif_clause", "else_clause", "except_clause",
                                         "except_group_clause", "finally_clause"};
    for (const char* t : kTypes)
      if (is(n, t)) return true;
    return false;
  }

  // The blocks of a compound statement and of its clauses; their defs are conditional.
  void visit_compound(TSNode n, Target t) {
    uint32_t c = ts_node_named_child_count(n);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode k = ts_node_named_child(n, i);
      if (is(k, "block")) visit_block(k, Target{t.defs, nullptr, true});
      else if (is_compound(k)) visit_compound(k, t);
    }
  }

  void visit_block(TSNode block, Target t) {
    uint32_t c = ts_node_named_child_count(block);
    for (uint32_t i = 0; i < c; ++i) {
      TSNode s = ts_node_named_child(block, i);
      if (is(s, "function_definition") || is(s, "class_definition") || is(s, "decorated_definition")) {
        add_def(s, t);
      } else if (is(s, "expression_statement")) {
        if (t.assignments) add_assignments(s, *t.assignments);
      } else if (is_compound(s)) {
        visit_compound(s, t);
      }
    }
  }

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

Outline outline_with_tree_sitter(std::string_view source) {
  Outline out;
  if (source.size() >= std::numeric_limits<uint32_t>::max()) {
    out.errors.push_back(SyntaxIssue{1, "file too large"});
    return out;
  }
  thread_local std::unique_ptr<TSParser, ParserDeleter> parser;
  if (!parser) {
    parser.reset(ts_parser_new());
    DXPY_CHECK(ts_parser_set_language(parser.get(), tree_sitter_python()));
  }
  std::unique_ptr<TSTree, TreeDeleter> tree(
      ts_parser_parse_string(parser.get(), nullptr, source.data(), static_cast<uint32_t>(source.size())));
  TSNode root = ts_tree_root_node(tree.get());
  if (ts_node_has_error(root)) {
    TSNode e = Builder::first_error(root);
    uint32_t line = ts_node_is_null(e) ? 1 : Builder::line(e);
    out.errors.push_back(SyntaxIssue{line, "invalid syntax"});
    return out;
  }
  Builder b{source, {}};
  b.visit_block(root, Builder::Target{&b.out.defs, &b.out.assignments, false});
  b.collect_imports(root);
  return std::move(b.out);
}

}  // namespace dxpy::discovery

namespace dxpy::discovery {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }
std::string quoted(uint32_t v) { return std::to_string(v); }
std::string quoted(bool v) { return v ? "true" : "false"; }
std::string quoted(DefKind k) {
  return k == DefKind::kClass ? "class" : k == DefKind::kAsyncFunction ? "async def" : "def";
}
std::string quoted(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + quoted(v[i]);
  return s + "]";
}

// Appends "path: a != b" for the first differing field; returns whether it found one.
struct Differ {
  std::string out;

  template <class T>
  bool field(const std::string& path, const T& a, const T& b) {
    if (a == b) return false;
    out = path + ": " + quoted(a) + " != " + quoted(b);
    return true;
  }
  template <class T, class F>
  bool list(const std::string& path, const std::vector<T>& a, const std::vector<T>& b, F each) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      if (each(path + "[" + std::to_string(i) + "]", a[i], b[i])) return true;
    if (a.size() == b.size()) return false;
    out = path + ": " + std::to_string(a.size()) + " items != " + std::to_string(b.size()) + " items";
    return true;
  }
  bool decorator(const std::string& p, const Decorator& a, const Decorator& b) {
    return field(p + ".text", a.text, b.text) || field(p + ".line", a.line, b.line);
  }
  bool assignment(const std::string& p, const Assignment& a, const Assignment& b) {
    return field(p + ".name", a.name, b.name) || field(p + ".value", a.value, b.value) ||
           field(p + ".line", a.line, b.line);
  }
  bool import(const std::string& p, const Import& a, const Import& b) {
    return field(p + ".module", a.module, b.module) || field(p + ".names", a.names, b.names) ||
           field(p + ".aliases", a.aliases, b.aliases) || field(p + ".alias", a.alias, b.alias) ||
           field(p + ".level", a.level, b.level) || field(p + ".line", a.line, b.line) ||
           field(p + ".nested", a.nested, b.nested);
  }
  bool def(const std::string& p, const Def& a, const Def& b) {
    return field(p + ".name", a.name, b.name) || field(p + ".kind", a.kind, b.kind) ||
           field(p + ".line", a.line, b.line) || field(p + ".conditional", a.conditional, b.conditional) ||
           list(p + ".decorators", a.decorators, b.decorators,
                [this](const std::string& q, const Decorator& x, const Decorator& y) { return decorator(q, x, y); }) ||
           field(p + ".params", a.params, b.params) || field(p + ".bases", a.bases, b.bases) ||
           list(p + ".assignments", a.assignments, b.assignments,
                [this](const std::string& q, const Assignment& x, const Assignment& y) {
                  return assignment(q, x, y);
                }) ||
           list(p + ".body", a.body, b.body,
                [this](const std::string& q, const Def& x, const Def& y) { return def(q, x, y); });
  }
};

void describe_def(std::string& s, const Def& d, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  for (const auto& dec : d.decorators) s += pad + "@" + dec.text + "  # line " + std::to_string(dec.line) + "\n";
  s += pad + quoted(d.kind) + " " + d.name;
  if (d.kind == DefKind::kClass) s += quoted(d.bases);
  else s += quoted(d.params);
  s += "  # line " + std::to_string(d.line) + (d.conditional ? ", conditional" : "") + "\n";
  for (const auto& a : d.assignments)
    s += pad + "  " + a.name + " = " + a.value + "  # line " + std::to_string(a.line) + "\n";
  for (const auto& c : d.body) describe_def(s, c, indent + 2);
}

}  // namespace

std::string first_difference(const Outline& a, const Outline& b) {
  Differ d;
  if (d.list("errors", a.errors, b.errors,
             [&d](const std::string& p, const SyntaxIssue& x, const SyntaxIssue& y) {
               return d.field(p + ".line", x.line, y.line) || d.field(p + ".message", x.message, y.message);
             }) ||
      d.list("defs", a.defs, b.defs,
             [&d](const std::string& p, const Def& x, const Def& y) { return d.def(p, x, y); }) ||
      d.list("assignments", a.assignments, b.assignments,
             [&d](const std::string& p, const Assignment& x, const Assignment& y) { return d.assignment(p, x, y); }) ||
      d.list("imports", a.imports, b.imports,
             [&d](const std::string& p, const Import& x, const Import& y) { return d.import(p, x, y); }))
    return d.out;
  return {};
}

std::string describe(const Outline& o) {
  std::string s;
  for (const auto& e : o.errors) s += "error: line " + std::to_string(e.line) + ": " + e.message + "\n";
  for (const auto& d : o.defs) describe_def(s, d, 0);
  for (const auto& a : o.assignments)
    s += a.name + " = " + a.value + "  # line " + std::to_string(a.line) + "\n";
  for (const auto& i : o.imports) {
    s += "import " + std::string(i.level, '.') + i.module + (i.alias.empty() ? "" : " as " + i.alias) +
         quoted(i.names) + (i.aliases.empty() ? "" : " as " + quoted(i.aliases)) + "  # line " +
         std::to_string(i.line) + (i.nested ? ", nested" : "") + "\n";
  }
  return s;
}

}  // namespace dxpy::discovery
