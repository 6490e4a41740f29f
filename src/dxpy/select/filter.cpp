#include "dxpy/select/filter.h"

#include <string>

#include "dxpy/util/fnmatch.h"

namespace dxpy::select {

bool match_glob(std::string_view pattern, std::string_view node_id) {
  return pattern == node_id || dxpy::fnmatch(node_id, pattern);
}

bool names_literally(std::string_view pattern, const TestCase& test) {
  if (pattern.empty()) return false;
  const std::string& path = test.id.path;
  if (path == pattern) return true;
  // A folder: "tests/unit" or "tests/unit/".
  std::string_view dir = pattern;
  if (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/') return true;
  // The node id itself, a node above it ("f.py::TestA"), or a parametrized function
  // without its id ("f.py::test_x" names "f.py::test_x[1]").
  std::string id = test.id.node_id();
  size_t head = test.id.param ? id.size() - test.id.param->size() - 2 : id.size();
  if (pattern.size() > id.size() || id.compare(0, pattern.size(), pattern) != 0) return false;
  if (pattern.size() == id.size()) return true;
  if (pattern.size() == head) return pattern.find("::") != std::string_view::npos;
  return pattern.size() < head && id.compare(pattern.size(), 2, "::") == 0;
}

bool matches_glob(std::string_view pattern, const TestCase& test) {
  return match_glob(pattern, test.id.node_id()) || match_glob(pattern, test.id.path);
}

std::vector<size_t> filter_indices(const std::vector<TestCase>& tests, std::string_view pattern) {
  std::vector<size_t> out;
  for (size_t i = 0; i < tests.size(); ++i) {
    if (names_literally(pattern, tests[i])) out.push_back(i);
  }
  if (!out.empty()) return out;
  for (size_t i = 0; i < tests.size(); ++i) {
    if (matches_glob(pattern, tests[i])) out.push_back(i);
  }
  return out;
}

std::vector<TestCase> filter(const std::vector<TestCase>& tests, std::string_view pattern) {
  std::vector<TestCase> out;
  for (size_t i : filter_indices(tests, pattern)) out.push_back(tests[i]);
  return out;
}

}  // namespace dxpy::select
