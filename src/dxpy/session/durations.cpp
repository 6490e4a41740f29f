#include "dxpy/session/durations.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "dxpy/index/lock.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

Durations parse_durations(std::string_view text) {
  Durations out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab + 1 == line.size()) continue;
    double v = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + tab, v);
    if (ec != std::errc{} || end != line.data() + tab || !(v >= 0) || v > 1e7) continue;
    out[std::string(line.substr(tab + 1))] = v;
  }
  return out;
}

std::string format_durations(const Durations& d) {
  std::vector<const std::pair<const std::string, double>*> items;
  items.reserve(d.size());
  for (const auto& kv : d) items.push_back(&kv);
  std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string out;
  char buf[32];
  for (const auto* kv : items) {
    if (kv->first.find('\n') != std::string::npos) continue;
    int n = std::snprintf(buf, sizeof buf, "%.6g\t", kv->second);
    out.append(buf, static_cast<size_t>(n));
    out += kv->first;
    out += '\n';
  }
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
