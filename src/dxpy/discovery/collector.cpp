#include "dxpy/discovery/collector.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "dxpy/discovery/outline_codec.h"
#include "dxpy/discovery/ts_outline.h"
#include "dxpy/util/fs.h"


namespace dxpy::discovery {

Outline parse_outline(std::string_view source) { return outline_with_tree_sitter(source); }

void describe_source(std::string_view source, const std::string& abs_path, const NameRules& rules,
                     FileRecord& record) {
  Outline outline = parse_outline(source);
  apply_rules(outline, abs_path, rules, record);
  record.outline = encode_outline(outline);
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
