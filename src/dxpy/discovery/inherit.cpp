#include "dxpy/discovery/inherit.h"

namespace dxpy::discovery {

namespace {

std::string parent_dir(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

std::string module_to_path(const std::string& module) {
  std::string p = module;
  for (char& c : p)
    if (c == '.') c = '/';
  return p;
}

}  // namespace

std::vector<std::string> module_candidates(const std::string& from_rel, uint32_t level, const std::string& module,
                                           const std::function<bool(const std::string&)>& has_init) {
  std::vector<std::string> roots;
  if (level > 0) {
    std::string dir = parent_dir(from_rel);
    for (uint32_t i = 1; i < level; ++i) {
      if (dir.empty()) return {};
      dir = parent_dir(dir);
    }
    roots.push_back(dir);
  } else {
    // pytest's prepend mode puts the first folder upwards without __init__.py on sys.path.
    std::string dir = parent_dir(from_rel);
    while (!dir.empty() && has_init(dir)) dir = parent_dir(dir);
    roots.push_back(dir);
    if (!dir.empty()) roots.push_back("");
  }
  std::vector<std::string> out;
  std::string sub = module_to_path(module);
  for (const auto& r : roots) {
    if (sub.empty()) {
      out.push_back(join(r, "__init__.py"));
    } else {
      out.push_back(join(r, sub + ".py"));
      out.push_back(join(r, sub + "/__init__.py"));
    }
  }
  return out;
}

std::optional<ClassRef> CrossFileResolver::class_in_module(const std::string& from_path, uint32_t level,
                                                           const std::string& module, const std::string& name,
                                                           int depth) {
  for (const auto& cand : module_candidates(from_path, level, module, has_init_)) {
    const Outline* o = load_(cand);
    if (!o) continue;
    consulted_.insert(cand);
    const Def* found = nullptr;
    for (const auto& d : o->defs)
      if (d.kind == DefKind::kClass && d.name == name) found = &d;
    if (found) return ClassRef{found, o, cand};
    // A re-export: `from .base import Name` in the module (often an __init__.py).
    return resolve(*o, cand, name, depth + 1);
  }
  return std::nullopt;
}

std::optional<ClassRef> CrossFileResolver::resolve(const Outline& from, const std::string& from_path,
                                                   const std::string& base, int depth) {
  if (depth > 8) return std::nullopt;
  auto dot = base.rfind('.');
  if (dot == std::string::npos) {
    // A bare name bound by `from m import Name [as base]`; the last binding wins.
    for (auto it = from.imports.rbegin(); it != from.imports.rend(); ++it) {
      if (it->nested) continue;
      for (size_t i = 0; i < it->names.size(); ++i) {
        const std::string& local = i < it->aliases.size() && !it->aliases[i].empty() ? it->aliases[i] : it->names[i];
        if (local != base) continue;
        if (auto r = class_in_module(from_path, it->level, it->module, it->names[i], depth)) return r;
        return std::nullopt;
      }
    }
    return std::nullopt;
  }
  // `qualifier.Name`: qualifier is a module bound by `import a.b [as q]` or `from p import m [as q]`.
  std::string qualifier = base.substr(0, dot), name = base.substr(dot + 1);
  for (auto it = from.imports.rbegin(); it != from.imports.rend(); ++it) {
    if (it->nested) continue;
    if (it->names.empty()) {
      if ((it->alias.empty() && it->module == qualifier) || it->alias == qualifier)
        return class_in_module(from_path, 0, it->module, name, depth);
      continue;
    }
    for (size_t i = 0; i < it->names.size(); ++i) {
      const std::string& local = i < it->aliases.size() && !it->aliases[i].empty() ? it->aliases[i] : it->names[i];
      if (local != qualifier) continue;
      std::string module = it->module.empty() ? it->names[i] : it->module + "." + it->names[i];
      return class_in_module(from_path, it->level, module, name, depth);
    }
  }
  return std::nullopt;
}

}  // namespace dxpy::discovery
