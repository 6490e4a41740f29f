#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "dxpy/config/config.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/suggest.h"
#include "dxpy/util/text.h"

namespace dxpy::config {

namespace {

// The keys, in the order the documentation (docs/cli.md) gives them.
const std::vector<std::string> kKeys = {"workers",      "preload",   "timeout",  "retries",
                                        "snapshot_dir", "cache_dir", "gc_freeze"};

const char* type_word(const IniValue& v) {
  switch (v.type) {
    case IniValue::Type::kString: return "a string";
    case IniValue::Type::kList: return "a list";
    case IniValue::Type::kBool: return "a boolean";
    case IniValue::Type::kInteger: return "an integer";
    case IniValue::Type::kFloat: return "a float";
    case IniValue::Type::kOther: return "a table or date";
  }
  return "a value";
}

std::string shown(const IniValue& v) {
  if (v.type == IniValue::Type::kString) return py_repr(v.text);
  if (v.type == IniValue::Type::kList) {
    std::string out = "[";
    for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + py_repr(v.items[i]);
    return out + "]";
  }
  return v.text;
}

}  // namespace

Expected<DxPySettings> parse_dx_py_settings(const IniMap& table, const std::string& file) {
  DxPySettings s;
  if (table.empty()) return s;
  s.file = file;
  auto wrong = [&](const std::string& key, const IniValue& v, const std::string& want) {
    return make_error(Errc::kUsage, file + ": [tool.dx-py] " + key + " must be " + want + ", got " + type_word(v) +
                                        ": " + shown(v));
  };
  auto non_negative_int = [](const IniValue& v) -> std::optional<unsigned> {
    if (v.type != IniValue::Type::kInteger) return std::nullopt;
    char* end = nullptr;
    long long n = std::strtoll(v.text.c_str(), &end, 10);
    if (*end != '\0' || n < 0 || n > 100000) return std::nullopt;
    return static_cast<unsigned>(n);
  };
  std::string base(dirname(file));
  for (const auto& [key, v] : table) {
    if (key == "workers") {
      if (v.type == IniValue::Type::kString && v.text == "auto") {
        s.workers = 0;
      } else if (auto n = non_negative_int(v); n && *n > 0) {
        s.workers = *n;
      } else {
        return wrong(key, v, "a positive integer or \"auto\"");
      }
    } else if (key == "preload") {
      if (v.type != IniValue::Type::kList) return wrong(key, v, "a list of module names");
      for (size_t i = 0; i < v.items.size(); ++i)
        if (v.item_types[i] != IniValue::Type::kString || v.items[i].empty())
          return wrong(key, v, "a list of module names (item " + std::to_string(i) + " is not)");
      s.preload = v.items;
    } else if (key == "timeout") {
      double t = -1;
      if (v.type == IniValue::Type::kInteger || v.type == IniValue::Type::kFloat) t = std::strtod(v.text.c_str(), nullptr);
      if (!(t >= 0) || !std::isfinite(t)) return wrong(key, v, "a number of seconds (0 or more)");
      s.timeout = t;
    } else if (key == "retries") {
      auto n = non_negative_int(v);
      if (!n) return wrong(key, v, "an integer (0 or more)");
      s.retries = *n;
    } else if (key == "gc_freeze") {
      if (v.type != IniValue::Type::kBool) return wrong(key, v, "true or false");
      s.gc_freeze = v.text == "True";
    } else if (key == "snapshot_dir" || key == "cache_dir") {
      if (v.type != IniValue::Type::kString || v.text.empty()) return wrong(key, v, "a folder path (a string)");
      (key == "snapshot_dir" ? s.snapshot_dir : s.cache_dir) = absolute_path(join_path(base, v.text));
    } else {
      std::string msg = file + ": [tool.dx-py] unknown key '" + key + "'";
      std::string spelled = key;
      for (char& c : spelled)
        if (c == '-') c = '_';
      if (auto near = closest_match(spelled, kKeys)) msg += " (did you mean '" + *near + "'?)";
      else if (std::find(kKeys.begin(), kKeys.end(), spelled) != kKeys.end())
        msg += " (did you mean '" + spelled + "'?)";
      msg += "; the keys are workers, preload, timeout, retries, snapshot_dir, cache_dir, gc_freeze";
      return make_error(Errc::kUsage, msg);
    }
  }
  return s;
}

}  // namespace dxpy::config
