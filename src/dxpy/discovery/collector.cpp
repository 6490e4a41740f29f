#include "dxpy/discovery/collector.h"

#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "dxpy/discovery/outline_codec.h"
#include "dxpy/discovery/scanner.h"
#include "dxpy/util/fnmatch.h"
#include "dxpy/util/fs.h"


namespace dxpy::discovery {

Outline parse_outline(std::string_view source) { return scan_outline(source); }

namespace {

// One Outline per thread, reused from file to file: its lists keep their capacity.
bool describe(std::string_view source, const NameRules& rules, FileRecord& record, bool compact) {
  thread_local Outline outline;
  scan_outline_into(source, outline);
  if (compact) apply_rules_compact(outline, rules, record);
  else apply_rules(outline, rules, record);
  record.outline = encode_outline_for_record(outline);
  return has_foreign_bases(outline);
}

}  // namespace

bool describe_source(std::string_view source, const NameRules& rules, FileRecord& record) {
  return describe(source, rules, record, false);
}

bool describe_source_compact(std::string_view source, const NameRules& rules, FileRecord& record) {
  return describe(source, rules, record, true);
}

namespace {

// "prefix*suffix" with no other glob character: matched on bytes, as fnmatch would.
bool simple_glob(std::string_view pattern, std::string_view name, bool& matched) {
  auto star = pattern.find('*');
  if (star == std::string_view::npos || pattern.find_first_of("*?[/", star + 1) != std::string_view::npos ||
      pattern.substr(0, star).find_first_of("?[/") != std::string_view::npos)
    return false;
  std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
  matched = name.size() >= prefix.size() + suffix.size() && name.substr(0, prefix.size()) == prefix &&
            name.substr(name.size() - suffix.size()) == suffix;
  return true;
}

}  // namespace

bool is_test_file_name(std::string_view name, const FileRules& rules) {
  if (name.size() < 3 || name.substr(name.size() - 3) != ".py") return false;
  for (const auto& p : rules.python_files) {
    bool matched = false;
    if (simple_glob(p, name, matched) ? matched : fnmatch_path(p, name)) return true;
  }
  return false;
}

namespace {

bool skip_dir(const std::string& path, const std::string& name, const FileRules& rules) {
  if (name == "__pycache__") return true;
  for (const auto& p : rules.norecursedirs)
    if (fnmatch_path(p, path)) return true;
  // pytest does not look inside virtualenvs (collect_in_virtualenv is off by default).
  return ::access(join_path(path, "pyvenv.cfg").c_str(), F_OK) == 0 ||
         ::access(join_path(path, "conda-meta/history").c_str(), F_OK) == 0;
}

void walk(const std::string& dir, const FileRules& rules, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  // Names, not paths, are kept and sorted: they sort alike (one folder, one prefix), and
  // comparing names is cheaper. A path is made only for what is kept.
  std::vector<std::pair<std::string, bool>> entries;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      auto st = stat_path(join_path(dir, name));
      is_dir = st && st->is_dir;
    }
    if (is_dir || is_test_file_name(name, rules)) entries.emplace_back(name, is_dir);
  }
  ::closedir(d);
  // pytest visits a folder's entries sorted by name, files and folders interleaved.
  std::sort(entries.begin(), entries.end());
  for (auto& [name, is_dir] : entries) {
    std::string full = join_path(dir, name);
    if (!is_dir) out.push_back(std::move(full));
    else if (!skip_dir(full, name, rules)) walk(full, rules, out);
  }
}

}  // namespace

std::vector<std::string> find_test_files(const std::vector<std::string>& paths, const FileRules& rules) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    auto st = stat_path(p);
    if (st && st->is_dir) walk(p, rules, out);
    else if (st) out.push_back(p);
  }
  return out;
}

}  // namespace dxpy::discovery
