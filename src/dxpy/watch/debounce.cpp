#include "dxpy/watch/debounce.h"

#include <algorithm>
#include <array>

namespace dxpy::watch {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool ignored_dir_name(std::string_view name) {
  static constexpr std::array<std::string_view, 13> kNames = {
      ".git", ".hg", ".svn", ".dx-py", "__pycache__", ".pytest_cache", ".mypy_cache",
      ".ruff_cache", ".tox", ".nox", ".venv", "venv", "node_modules"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end() || ends_with(name, ".egg-info");
}

bool ignored_file_name(std::string_view name) {
  if (name.empty() || name == "4913" || name == ".DS_Store") return true;
  if (name.front() == '~' || name.back() == '~') return true;
  if (name.size() >= 2 && name[0] == '.' && name[1] == '#') return true;
  if (name.size() >= 2 && name.front() == '#' && name.back() == '#') return true;
  for (std::string_view s : {".swp", ".swo", ".swx", ".tmp", ".kate-swp", ".pyc", ".pyo"})
    if (ends_with(name, s)) return true;
  return false;
}

bool ignored(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return false;
  for (;;) {
    size_t slash = path.find('/');
    if (slash == std::string_view::npos) return ignored_file_name(path) || ignored_dir_name(path);
    if (ignored_dir_name(path.substr(0, slash))) return true;
    path.remove_prefix(slash + 1);
  }
}

void Debouncer::add(std::string path, int64_t now_ms) {
  if (paths_.empty()) first_ = now_ms;
  last_ = std::max(last_, now_ms);
  if (paths_.empty()) last_ = now_ms;
  paths_.insert(std::move(path));
}

std::optional<int64_t> Debouncer::deadline() const {
  if (paths_.empty()) return std::nullopt;
  return std::min(last_ + o_.quiet_ms, first_ + o_.max_wait_ms);
}

std::vector<std::string> Debouncer::poll(int64_t now_ms) {
  auto due = deadline();
  if (!due || now_ms < *due) return {};
  std::vector<std::string> out(paths_.begin(), paths_.end());
  paths_.clear();
  return out;
}

}  // namespace dxpy::watch
