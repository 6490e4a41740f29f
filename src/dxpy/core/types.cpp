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
  for (const auto& c : classes) {
    out += "::";
    out += c;
  }
  out += "::";
  out += name;
  if (!param.empty()) {
    out += '[';
    out += param;
    out += ']';
  }
}

TestId TestId::parse(std::string_view node_id) {
  TestId id;
  // A path may hold '[' and a param may hold "::", but names cannot hold '[': the param
  // starts at the first '[' after the first "::".
  std::string_view head = node_id;
  auto first_sep = node_id.find("::");
  auto bracket = first_sep == std::string_view::npos ? first_sep : node_id.find('[', first_sep);
  if (bracket != std::string_view::npos && node_id.back() == ']') {
    id.param = std::string(node_id.substr(bracket + 1, node_id.size() - bracket - 2));
    head = node_id.substr(0, bracket);
  }
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    auto sep = head.find("::", start);
    parts.emplace_back(head.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
    if (sep == std::string_view::npos) break;
    start = sep + 2;
  }
  id.path = std::move(parts.front());
  if (parts.size() >= 2) {
    id.name = std::move(parts.back());
    id.classes.assign(std::make_move_iterator(parts.begin() + 1), std::make_move_iterator(parts.end() - 1));
  }
  return id;
}

}  // namespace dxpy
