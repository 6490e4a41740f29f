#pragma once
/// pytest's junit_* ini options into report::JunitOptions.

#include <string>
#include <vector>

#include "dxpy/config/config.h"
#include "dxpy/report/junit.h"
#include "dxpy/util/expected.h"

namespace dxpy::session {

/// junit_suite_name, junit_logging (an unknown word is "no", as in pytest),
/// junit_log_passing_tests, junit_family (xunit2, xunit1 or legacy; else kUsage: pytest
/// fails with a KeyError) and junit_duration_report (total or call; else kUsage). dx-py
/// times setup, call and teardown as one, so "call" reports that total, with a note.
Expected<void> apply_junit_ini(const config::Config& c, report::JunitOptions& o, std::vector<std::string>& notes);

}  // namespace dxpy::session
