#pragma once
/// Inheritance across files: finding the class a base-class expression names, through the
/// module's imports, in another module of the project (`from .test_graph import TestGraph
/// as _TestGraph`, `import pkg.base` with `pkg.base.Base`, re-exports in __init__.py).

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "dxpy/discovery/rules.h"

namespace dxpy::discovery {

/// The outline of a module at a rootdir-relative path, or nullptr if there is none.
using OutlineLoader = std::function<const Outline*(const std::string& rel_path)>;

/// Candidate rootdir-relative files of module `module` imported with `level` from the
/// module at `from_rel`, most likely first: "a/b.py", "a/b/__init__.py". Absolute imports
/// are looked up from the importer's base folder (pytest's prepend rule) and the rootdir.
std::vector<std::string> module_candidates(const std::string& from_rel, uint32_t level, const std::string& module,
                                           const std::function<bool(const std::string&)>& has_init);

class CrossFileResolver {
 public:
  CrossFileResolver(OutlineLoader load, std::function<bool(const std::string&)> has_init)
      : load_(std::move(load)), has_init_(std::move(has_init)) {}

  std::optional<ClassRef> resolve(const Outline& from, const std::string& from_path, const std::string& base,
                                  int depth = 0);
  /// The modules whose outlines were read since the last call, and forget them.
  std::vector<std::string> take_consulted() {
    std::vector<std::string> out(consulted_.begin(), consulted_.end());
    consulted_.clear();
    return out;
  }

  BaseResolver as_base_resolver() {
    return [this](const Outline& o, const std::string& p, const std::string& b) { return resolve(o, p, b); };
  }

 private:
  std::optional<ClassRef> class_in_module(const std::string& from_path, uint32_t level, const std::string& module,
                                          const std::string& name, int depth);
  OutlineLoader load_;
  std::function<bool(const std::string&)> has_init_;
  std::set<std::string> consulted_;
};

}  // namespace dxpy::discovery
