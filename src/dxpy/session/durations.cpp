#include "dxpy/session/durations.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "dxpy/index/lock.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

Durations parse_durations(std::string_view text) {
  Durations out;
  // No exceptions: a damaged file is a discarded value.
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_number()) continue;
    double secs = v.get<double>();
    if (!(secs >= 0) || secs > 1e7) continue;
    out[k] = secs;
  }
  return out;
}

std::string format_durations(const Durations& d) {
  std::vector<const std::pair<const std::string, double>*> items;
  items.reserve(d.size());
  for (const auto& kv : d) items.push_back(&kv);
  std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string out = "{";
  bool first = true;
  char buf[32];
  for (const auto* kv : items) {
    if (!(kv->second >= 0) || kv->second > 1e7) continue;  // NaN, infinities: not JSON
    std::string key;
    try {
      key = nlohmann::json(kv->first).dump();  // strict: throws on invalid UTF-8
    } catch (const nlohmann::json::exception&) {
      continue;
    }
    out += first ? "\n" : ",\n";
    first = false;
    out += key;
    int n = std::snprintf(buf, sizeof buf, ": %.6g", kv->second);
    out.append(buf, static_cast<size_t>(n));
  }
  out += "\n}\n";
  return out;
}

Durations load_durations(const std::string& path) {
  auto text = read_file(path);
  if (!text) return {};
  return parse_durations(*text);
}

Expected<void> save_durations(const std::string& path, const Durations& fresh) {
  DXPY_TRY(auto lock, index::FileLock::acquire(index::lock_path_for(path), index::FileLock::Mode::kExclusive));
  Durations all = load_durations(path);
  for (const auto& [k, v] : fresh) {
    if (v < 0)
      all.erase(k);
    else
      all[k] = v;
  }
  return write_file_atomic(path, format_durations(all), Durability::kCache);
}

}  // namespace dxpy::session
