#include "dxpy/discovery/rules.h"


#include <algorithm>
#include <map>
#include <unordered_map>
#include <optional>
#include <set>
#include <string_view>

#include "dxpy/discovery/pyliteral.h"
#include "dxpy/util/fnmatch.h"

namespace dxpy::discovery {

namespace {

std::string callee_of(const std::string& text) {
  auto call = split_call(text);
  return call ? call->callee : std::string(trim(text));
}

bool is_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80))) return false;
  return true;
}

std::optional<Marker> parse_mark(const std::string& text) {
  auto call = split_call(text);
  std::string callee = call ? call->callee : std::string(trim(text));
  for (std::string_view prefix : {"pytest.mark.", "mark."}) {
    if (callee.rfind(prefix, 0) != 0) continue;
    std::string name = callee.substr(prefix.size());
    if (!is_identifier(name)) return std::nullopt;
    Marker m;
    m.name = name;
    if (call) {
      m.args = call->args;
      m.kwargs = call->kwargs;
    }
    return m;
  }
  return std::nullopt;
}

// `pytestmark = mark` or `pytestmark = [mark, mark]`.
std::vector<Marker> marks_of_value(const std::string& value) {
  std::vector<Marker> out;
  auto items = split_sequence(value);
  std::vector<std::string> texts = items ? *items : std::vector<std::string>{value};
  for (const auto& t : texts)
    if (auto m = parse_mark(t)) out.push_back(std::move(*m));
  return out;
}

bool is_fixture_decorator(const std::string& text) {
  std::string c = callee_of(text);
  return c == "fixture" || (c.size() > 8 && c.compare(c.size() - 8, 8, ".fixture") == 0);
}

const Decorator* fixture_decorator(const Def& d) {
  for (const auto& dec : d.decorators)
    if (is_fixture_decorator(dec.text)) return &dec;
  return nullptr;
}

// Decorator marks in pytest's order: the one nearest the def first.
std::vector<Marker> decorator_marks(const Def& d) {
  std::vector<Marker> out;
  for (auto it = d.decorators.rbegin(); it != d.decorators.rend(); ++it)
    if (auto m = parse_mark(it->text)) out.push_back(std::move(*m));
  return out;
}

const Assignment* find_assignment(const std::vector<Assignment>& as, std::string_view name) {
  const Assignment* found = nullptr;
  for (const auto& a : as)
    if (a.name == name) found = &a;  // the last one wins, as at run time
  return found;
}

bool is_false(const Assignment* a) { return a && (a->value == "False" || a->value == "0" || a->value == "None"); }
bool is_true(const Assignment* a) { return a && a->value == "True"; }

// Defs by name in dict order: a name's first position, its last definition.
std::vector<const Def*> dict_order(const std::vector<Def>& defs) {
  std::vector<const Def*> out;
  out.reserve(defs.size());
  for (const auto& d : defs) out.push_back(&d);
  // Redefinitions are rare: look for one by sorting hashes of the names (equal names have
  // equal hashes; a collision only costs the full work below), and only then do that.
  if (defs.size() < 2) return out;
  std::vector<size_t> hashes;
  hashes.reserve(defs.size());
  for (const auto& d : defs) hashes.push_back(std::hash<std::string_view>{}(d.name));
  std::sort(hashes.begin(), hashes.end());
  if (std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()) return out;
  out.clear();
  std::unordered_map<std::string_view, size_t> pos;
  for (const auto& d : defs) {
    auto [it, fresh] = pos.emplace(d.name, out.size());
    if (fresh) out.push_back(&d);
    else out[it->second] = &d;
  }
  return out;
}

FixtureScope scope_of(const std::string& text) {
  auto s = string_literal(text);
  if (!s) return FixtureScope::kFunction;
  if (*s == "class") return FixtureScope::kClass;
  if (*s == "module") return FixtureScope::kModule;
  if (*s == "package") return FixtureScope::kPackage;
  if (*s == "session") return FixtureScope::kSession;
  return FixtureScope::kFunction;
}

FixtureDef make_fixture(const Def& d, const Decorator& dec, const std::string& path) {
  FixtureDef f;
  f.id = FixtureId{d.name, path, d.line};
  f.requests = d.params;
  if (auto call = split_call(dec.text)) {
    for (const auto& [k, v] : call->kwargs) {
      if (k == "scope") f.scope = scope_of(v);
      else if (k == "autouse") f.autouse = v == "True";
      else if (k == "params") f.params = v;
      else if (k == "name") {
        if (auto n = string_literal(v)) f.id.name = *n;
      }
    }
    // pytest.fixture("module") is an old positional scope.
    if (!call->args.empty()) f.scope = scope_of(call->args[0]);
  }
  return f;
}

// --- parametrize -------------------------------------------------------------------------

struct ParamSet {
  std::string id;
  std::vector<Marker> marks;
};

// pytest's make_unique_parameterset_ids: duplicates get a counter suffix. pytest 8 changed
// the rule (an id ending in a digit gets "_" before the counter, and a counter that would
// collide with another id is skipped), so when the two rules differ the ids depend on the
// installed pytest: false, and the parametrize is left for the worker to expand, which
// knows that version. Where the rules agree ("a" twice -> a0, a1) the ids are made here.
bool make_unique(std::vector<ParamSet>& sets) {
  std::map<std::string, int> counts;
  for (const auto& s : sets) ++counts[s.id];
  std::set<std::string> all;
  for (const auto& s : sets) all.insert(s.id);
  std::map<std::string, int> suffix;
  for (auto& s : sets) {
    if (counts[s.id] <= 1) continue;
    std::string base = s.id;
    if (!base.empty() && std::isdigit(static_cast<unsigned char>(base.back()))) return false;
    std::string fresh = base + std::to_string(suffix[base]);
    if (all.count(fresh)) return false;
    s.id = fresh;
    all.insert(fresh);
    ++suffix[base];
  }
  return true;
}

// One @parametrize's parameter sets, or nullopt when they are not statically knowable.
std::optional<std::vector<ParamSet>> expand_parametrize(const Marker& m) {
  std::optional<std::string> names_text, values_text, ids_text;
  if (m.args.size() >= 1) names_text = m.args[0];
  if (m.args.size() >= 2) values_text = m.args[1];
  for (const auto& [k, v] : m.kwargs) {
    if (k == "argnames") names_text = v;
    else if (k == "argvalues") values_text = v;
    else if (k == "ids") ids_text = v;
  }
  if (!names_text || !values_text) return std::nullopt;
  std::vector<std::string> argnames;
  if (auto s = string_literal(*names_text)) {
    std::string cur;
    for (char c : *s + ",") {
      if (c == ',') {
        auto t = trim(cur);
        if (!t.empty()) argnames.emplace_back(t);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
  } else if (auto seq = split_sequence(*names_text)) {
    for (const auto& item : *seq) {
      auto s2 = string_literal(item);
      if (!s2) return std::nullopt;
      argnames.push_back(*s2);
    }
  } else {
    return std::nullopt;
  }
  if (argnames.empty()) return std::nullopt;
  auto values = split_sequence(*values_text);
  if (!values || values->empty()) return std::nullopt;

  std::vector<std::optional<std::string>> ids;
  if (ids_text) {
    auto seq = split_sequence(*ids_text);
    if (!seq) return std::nullopt;  // a callable or a computed list
    for (const auto& t : *seq) {
      if (trim(t) == "None") {
        ids.emplace_back(std::nullopt);
        continue;
      }
      auto lid = literal_id(t);
      if (lid.kind != LiteralId::kId) return std::nullopt;
      ids.emplace_back(lid.id);
    }
  }

  std::vector<ParamSet> sets;
  for (size_t idx = 0; idx < values->size(); ++idx) {
    std::string text = (*values)[idx];
    ParamSet ps;
    std::optional<std::string> explicit_id;
    std::vector<std::string> vals;
    auto call = split_call(text);
    if (call && (call->callee == "pytest.param" || call->callee == "param")) {
      vals = call->args;
      for (const auto& [k, v] : call->kwargs) {
        if (k == "id") {
          if (trim(v) == "None") continue;
          auto s = string_literal(v);
          if (!s) return std::nullopt;
          explicit_id = *s;
        } else if (k == "marks") {
          auto ms = marks_of_value(v);
          if (ms.empty()) return std::nullopt;
          ps.marks = std::move(ms);
        }
      }
      if (argnames.size() == 1 && vals.size() != 1) return std::nullopt;
    } else if (argnames.size() == 1) {
      vals = {text};
    } else {
      auto seq = split_sequence(text);
      if (!seq) return std::nullopt;
      vals = *seq;
    }
    if (vals.size() != argnames.size()) return std::nullopt;
    if (explicit_id) {
      // pytest escapes non-ASCII in explicit ids too.
      auto lid = literal_id("'" + *explicit_id + "'");
      ps.id = lid.kind == LiteralId::kId ? lid.id : *explicit_id;
    } else if (idx < ids.size() && ids[idx]) {
      ps.id = *ids[idx];
    } else {
      std::string id;
      for (size_t k = 0; k < vals.size(); ++k) {
        auto lid = literal_id(vals[k]);
        if (lid.kind == LiteralId::kUnknown) return std::nullopt;
        if (k) id += "-";
        id += lid.kind == LiteralId::kId ? lid.id : argnames[k] + std::to_string(idx);
      }
      ps.id = id;
    }
    sets.push_back(std::move(ps));
  }
  if (!make_unique(sets)) return std::nullopt;
  return sets;
}

struct ModuleRules {
  const Outline& outline;
  const NameRules& rules;
  FileRecord& rec;
  const BaseResolver* resolver;
  bool compact;  // leave the tests' id.path empty
  std::vector<Marker> module_marks;
  std::map<const Outline*, std::map<std::string, const Def*>> local_cache;
  std::map<const Def*, std::vector<ClassRef>> mro_cache;

  void add_test(const Def& fn, const std::vector<std::string>& classes, TestKind kind,
                const std::vector<Marker>& outer_marks) {
    // Built in place: most tests are not parametrized and stay as they are.
    // `file` stays empty: the session fills it in when it runs the test.
    {
      TestCase& t = rec.tests.emplace_back();
      if (!compact) t.id.path = rec.path;
      if (!classes.empty()) t.id.classes = classes;
      t.id.name = fn.name;
      t.line = fn.line;
      t.kind = kind;
      t.is_async = fn.kind == DefKind::kAsyncFunction;
      if (!fn.decorators.empty()) t.markers = decorator_marks(fn);
      if (!outer_marks.empty()) t.markers.insert(t.markers.end(), outer_marks.begin(), outer_marks.end());
      if (!fn.params.empty()) t.fixtures = fn.params;
      if (kind != TestKind::kFunction && !t.fixtures.empty() &&
          !(fn.decorators.size() == 1 && fn.decorators[0].text == "staticmethod"))
        t.fixtures.erase(t.fixtures.begin());  // self or cls
      if (std::none_of(t.markers.begin(), t.markers.end(), [](const Marker& m) { return m.name == "parametrize"; }))
        return;
    }
    TestCase tc = std::move(rec.tests.back());
    rec.tests.pop_back();
    // Expand every parametrize, nearest first; any unknown one defers the item to run time.
    // Ids join with "-" as pytest's CallSpec2.id does, empty ones too ("" then "1" is "-1").
    std::vector<ParamSet> combined = {ParamSet{}};
    bool first = true;
    for (const auto& m : tc.markers) {
      if (m.name != "parametrize") continue;
      auto sets = expand_parametrize(m);
      if (!sets) {
        tc.expand_at_runtime = true;
        rec.tests.push_back(std::move(tc));
        return;
      }
      std::vector<ParamSet> next;
      for (const auto& c : combined)
        for (const auto& s : *sets) {
          ParamSet p;
          p.id = first ? s.id : c.id + "-" + s.id;
          p.marks = c.marks;
          p.marks.insert(p.marks.end(), s.marks.begin(), s.marks.end());
          next.push_back(std::move(p));
        }
      combined = std::move(next);
      first = false;
    }
    for (const auto& c : combined) {
      TestCase item = tc;
      item.id.param = c.id;
      item.markers.insert(item.markers.begin(), c.marks.begin(), c.marks.end());
      rec.tests.push_back(std::move(item));
    }
  }

  // Classes by name at a module's top level (the last definition wins).
  const Def* local_class(const Outline& o, const std::string& name) {
    auto [it, fresh] = local_cache.try_emplace(&o);
    if (fresh)
      for (const auto& d : o.defs)
        if (d.kind == DefKind::kClass) it->second[d.name] = &d;
    auto found = it->second.find(name);
    return found == it->second.end() ? nullptr : found->second;
  }

  std::optional<ClassRef> resolve_base(const ClassRef& ctx, const std::string& base) {
    if (const Def* d = local_class(*ctx.outline, base)) return ClassRef{d, ctx.outline, ctx.path};
    if (resolver) return (*resolver)(*ctx.outline, ctx.path, base);
    return std::nullopt;
  }

  // Python's C3 linearisation over the classes that can be found; bases that cannot be
  // found (builtins, other packages) contribute nothing.
  std::vector<ClassRef> mro(const ClassRef& cls, int depth = 0) {
    if (auto it = mro_cache.find(cls.def); it != mro_cache.end()) return it->second;
    std::vector<std::vector<ClassRef>> seqs;
    std::vector<ClassRef> bases;
    if (depth < 50) {
      for (const auto& b : cls.def->bases) {
        auto r = resolve_base(cls, b);
        if (!r || r->def == cls.def) continue;
        seqs.push_back(mro(*r, depth + 1));
        bases.push_back(*r);
      }
    }
    seqs.push_back(bases);
    std::vector<ClassRef> out = {cls};
    for (;;) {
      seqs.erase(std::remove_if(seqs.begin(), seqs.end(), [](const auto& q) { return q.empty(); }), seqs.end());
      if (seqs.empty()) break;
      const ClassRef* pick = nullptr;
      for (const auto& q : seqs) {
        bool in_tail = false;
        for (const auto& other : seqs)
          for (size_t k = 1; k < other.size(); ++k) in_tail |= other[k].def == q.front().def;
        if (!in_tail) {
          pick = &q.front();
          break;
        }
      }
      if (!pick) pick = &seqs.front().front();  // inconsistent hierarchy: Python raises; keep going
      ClassRef chosen = *pick;
      out.push_back(chosen);
      for (auto& q : seqs)
        if (!q.empty() && q.front().def == chosen.def) q.erase(q.begin());
    }
    mro_cache[cls.def] = out;
    return out;
  }

  bool is_unittest(const ClassRef& cls) {
    for (const auto& c : mro(cls))
      for (const auto& b : c.def->bases) {
        std::string_view base = b;
        auto dot = base.rfind('.');
        std::string_view last = dot == std::string_view::npos ? base : base.substr(dot + 1);
        if (last == "TestCase" || last == "IsolatedAsyncioTestCase") return true;
      }
    return false;
  }

  // pytest reads marks along the MRO, base classes first.
  std::vector<Marker> class_marks(const ClassRef& cls) {
    std::vector<Marker> out;
    auto chain = mro(cls);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (const Assignment* pm = find_assignment(it->def->assignments, "pytestmark")) {
        auto ms = marks_of_value(pm->value);
        out.insert(out.end(), ms.begin(), ms.end());
      }
      auto ds = decorator_marks(*it->def);
      out.insert(out.end(), ds.begin(), ds.end());
    }
    return out;
  }

  void visit_class(const ClassRef& cls_ref, std::vector<std::string> classes, const std::vector<Marker>& outer_marks) {
    const Def& cls = *cls_ref.def;
    const Assignment* test_attr = nullptr;
    auto chain = mro(cls_ref);
    for (const auto& c : chain)  // __test__ is inherited
      if ((test_attr = find_assignment(c.def->assignments, "__test__"))) break;
    if (is_false(test_attr)) return;
    classes.push_back(cls.name);
    std::vector<Marker> marks = class_marks(cls_ref);
    marks.insert(marks.end(), outer_marks.begin(), outer_marks.end());

    if (is_unittest(cls_ref)) {
      // unittest's loader: test* methods of the class and its bases, sorted by name.
      std::map<std::string, const Def*> methods;
      for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        for (const Def* d : dict_order(it->def->body))
          if (d->kind != DefKind::kClass && d->name.rfind("test", 0) == 0) methods[d->name] = d;
      if (methods.empty()) {
        for (const auto& c : chain)
          for (const Def* d : dict_order(c.def->body))
            if (d->kind != DefKind::kClass && d->name == "runTest" && !methods.count("runTest"))
              methods["runTest"] = d;
      }
      for (const auto& [name, d] : methods) add_test(*d, classes, TestKind::kUnittest, marks);
      return;
    }
    if (!matches_prefix_or_glob(cls.name, rules.classes) && !is_true(test_attr)) return;
    for (const auto& c : chain)
      for (const auto& d : c.def->body)
        if (d.kind != DefKind::kClass && (d.name == "__init__" || d.name == "__new__")) return;  // pytest warns

    // Reverse MRO: base classes' items first; a name seen in a subclass hides the base's.
    std::set<std::string> seen;
    std::vector<std::vector<std::pair<const Def*, const ClassRef*>>> per_class;
    for (const auto& c : chain) {
      std::vector<std::pair<const Def*, const ClassRef*>> items;
      for (const Def* d : dict_order(c.def->body))
        if (seen.insert(d->name).second) items.emplace_back(d, &c);
      per_class.push_back(std::move(items));
    }
    for (auto it = per_class.rbegin(); it != per_class.rend(); ++it) {
      for (const auto& [d, owner] : *it) {
        if (d->kind == DefKind::kClass) {
          ClassRef inner{d, owner->outline, owner->path};
          if (matches_prefix_or_glob(d->name, rules.classes) || is_unittest(inner)) visit_class(inner, classes, {});
          continue;
        }
        if (const Decorator* fx = fixture_decorator(*d)) {
          if (owner->def == &cls) rec.fixtures.push_back(make_fixture(*d, *fx, rec.path));
          continue;
        }
        if (matches_prefix_or_glob(d->name, rules.functions)) add_test(*d, classes, TestKind::kMethod, marks);
      }
    }
  }

  void run(bool conftest) {
    if (const Assignment* pm = find_assignment(outline.assignments, "pytestmark")) module_marks = marks_of_value(pm->value);
    bool module_is_test = !conftest && !is_false(find_assignment(outline.assignments, "__test__"));
    rec.tests.reserve(outline.defs.size());
    for (const Def* d : dict_order(outline.defs)) {
      if (d->kind == DefKind::kClass) {
        if (module_is_test) visit_class(ClassRef{d, &outline, rec.path}, {}, module_marks);
        continue;
      }
      if (const Decorator* fx = fixture_decorator(*d)) {
        rec.fixtures.push_back(make_fixture(*d, *fx, rec.path));
        continue;
      }
      if (module_is_test && matches_prefix_or_glob(d->name, rules.functions))
        add_test(*d, {}, TestKind::kFunction, module_marks);
    }
  }
};

}  // namespace

bool has_foreign_bases(const Outline& outline) {
  std::set<std::string_view> local;
  for (const auto& d : outline.defs)
    if (d.kind == DefKind::kClass) local.insert(d.name);
  for (const auto& d : outline.defs)
    if (d.kind == DefKind::kClass)
      for (const auto& b : d.bases)
        if (!local.count(b) && b != "object") return true;
  return false;
}

namespace {

void apply(const Outline& outline, const NameRules& rules, FileRecord& record, const BaseResolver* resolver,
           bool compact) {
  record.tests.clear();
  record.fixtures.clear();
  record.imports = outline.imports;
  record.error.clear();
  record.error_line = 0;
  if (!outline.errors.empty()) {
    record.error = outline.errors.front().message;
    record.error_line = outline.errors.front().line;
    return;
  }
  std::string_view base = record.path;
  auto slash = base.rfind('/');
  if (slash != std::string_view::npos) base = base.substr(slash + 1);
  ModuleRules r{outline, rules, record, resolver, compact, {}, {}, {}};
  r.run(base == "conftest.py");
}

}  // namespace

void apply_rules(const Outline& outline, const NameRules& rules, FileRecord& record,
                 const BaseResolver* resolver) {
  apply(outline, rules, record, resolver, false);
}

void apply_rules_compact(const Outline& outline, const NameRules& rules, FileRecord& record,
                         const BaseResolver* resolver) {
  apply(outline, rules, record, resolver, true);
}

}  // namespace dxpy::discovery
