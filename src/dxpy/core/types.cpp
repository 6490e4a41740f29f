#include "dxpy/core/types.h"

namespace dxpy {

std::string_view to_string(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed: return "passed";
    case TestStatus::kFailed: return "failed";
    case TestStatus::kError: return "error";
    case TestStatus::kSkipped: return "skipped";
    case TestStatus::kXFailed: return "xfailed";
    case TestStatus::kXPassed: return "xpassed";
    case TestStatus::kCrashed: return "crashed";
    case TestStatus::kTimeout: return "timeout";
  }
  return "unknown";
}

std::string TestId::node_id() const {
  std::string out;
  append_node_id(out);
  return out;
}

void TestId::append_node_id(std::string& out) const {
  out += path;
  append_node_tail(out);
}

void TestId::append_node_tail(std::string& out) const {
  for (const auto& c : classes) {
    out += "::";
    out += c;
  }
  out += "::";
  out += name;
  if (param) {
    out += '[';
    out += *param;
    out += ']';
  }
}

TestId TestId::parse(std::string_view node_id) {
  TestId id;
  // A path may hold '[' and a param may hold "::", but names cannot hold '[': the param
  // starts at the first '[' after the first "::".
  auto first_sep = node_id.find("::");
  if (first_sep == std::string_view::npos) {
    id.path = std::string(node_id);
    return id;
  }
  std::string_view head = node_id;
  auto bracket = node_id.find('[', first_sep);
  if (bracket != std::string_view::npos && node_id.back() == ']') {
    id.param.emplace(node_id.substr(bracket + 1, node_id.size() - bracket - 2));
    head = node_id.substr(0, bracket);
  }
  id.path = std::string(head.substr(0, first_sep));
  size_t start = first_sep + 2;
  for (;;) {
    auto sep = head.find("::", start);
    if (sep == std::string_view::npos) {
      id.name = std::string(head.substr(start));
      return id;
    }
    id.classes.emplace_back(head.substr(start, sep - start));
    start = sep + 2;
  }
}

}  // namespace dxpy
