#include "dxpy/session/junit_ini.h"

namespace dxpy::session {

Expected<void> apply_junit_ini(const config::Config& c, report::JunitOptions& o, std::vector<std::string>& notes) {
  if (auto name = c.get_string("junit_suite_name"); name && *name) o.suite_name = **name;
  if (auto v = c.get_string("junit_logging"); v && *v) {
    auto logging = report::parse_junit_logging(**v);
    o.logging = logging ? *logging : report::JunitOptions::Logging::kNo;
  }
  auto passing = c.get_bool("junit_log_passing_tests");
  if (!passing) return make_error(Errc::kUsage, "junit_log_passing_tests: " + passing.error().message);
  if (*passing) o.log_passing_tests = **passing;
  if (auto v = c.get_string("junit_family"); v && *v) {
    if (**v == "xunit1" || **v == "legacy")
      o.xunit1 = true;
    else if (**v != "xunit2")
      return make_error(Errc::kUsage, "junit_family: '" + **v + "' is not one of xunit2, xunit1, legacy");
  }
  if (auto v = c.get_string("junit_duration_report"); v && *v) {
    if (**v == "call")
      notes.push_back("junit_duration_report=call: dx-py times setup, call and teardown together; "
                      "the JUnit XML reports that total");
    else if (**v != "total")
      return make_error(Errc::kUsage, "junit_duration_report: '" + **v + "' is not one of total, call");
  }
  return {};
}

}  // namespace dxpy::session
