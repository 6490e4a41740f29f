#include "dxpy/session/run_control.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace dxpy::session {

Expected<int> effective_retries(const RunControl& rc, const config::Config& cfg) {
  if (rc.retries) return *rc.retries;
  return static_cast<int>(cfg.dx.retries.value_or(0));  // checked by config (dx_py.cpp)
}

std::string run_control_json(const RunControl& rc, int retries) {
  // Names as pytest's option dests, so that config.getoption sees them.
  std::string j;
  j += ",\"maxfail\":" + std::to_string(rc.maxfail);
  j += std::string(",\"exitfirst\":") + (rc.maxfail == 1 ? "true" : "false");
  j += ",\"capture\":\"" + rc.capture + "\"";  // one of a fixed set: no escaping needed
  j += ",\"tbstyle\":\"" + rc.tbstyle + "\"";
  j += std::string(",\"showlocals\":") + (rc.showlocals ? "true" : "false");
  j += ",\"durations\":" + (rc.durations ? std::to_string(*rc.durations) : std::string("null"));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.17g", rc.durations_min.value_or(0.005));
  j += std::string(",\"durations_min\":") + buf;
  j += ",\"retries\":" + std::to_string(retries);
  return j;
}

void DurationsReport::record(TestResult& r) {
  std::string node = r.id.node_id();
  auto it = std::find_if(r.properties.begin(), r.properties.end(),
                         [](const Property& p) { return p.first == kPhasesProperty; });
  // The second result of a test whose teardown failed: its time is the first one's.
  if (report::is_teardown_error(r) || report::is_runtime_deselected(r)) return;
  unsigned long long ns[3] = {0, static_cast<unsigned long long>(r.duration_ns), 0};  // without phases: the call
  if (it != r.properties.end()) {
    std::sscanf(it->second.c_str(), "%llu %llu %llu", &ns[0], &ns[1], &ns[2]);
    r.properties.erase(it);
  }
  static constexpr const char* kWhen[3] = {"setup", "call", "teardown"};
  for (int i = 0; i < 3; ++i) {
    // A test that stopped in its setup has no call phase (pytest reports none).
    if (i == 1 && ns[1] == 0 && r.status != TestStatus::kPassed && r.status != TestStatus::kFailed &&
        r.status != TestStatus::kXFailed && r.status != TestStatus::kXPassed)
      continue;
    entries_.push_back({static_cast<double>(ns[i]) / 1e9, kWhen[i], node});
  }
}

std::vector<std::string> DurationsReport::lines() const {
  std::vector<std::string> out;
  if (entries_.empty()) return out;
  std::vector<const Entry*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& e : entries_) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) { return a->seconds > b->seconds; });
  if (count_ > 0 && sorted.size() > static_cast<size_t>(count_)) sorted.resize(static_cast<size_t>(count_));
  out.push_back(count_ > 0 ? "slowest " + std::to_string(count_) + " durations" : "slowest durations");
  char buf[64];
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Entry& e = *sorted[i];
    if (e.seconds < min_) {
      out.push_back("");
      std::snprintf(buf, sizeof buf, "%g", min_);
      std::string msg = "(" + std::to_string(sorted.size() - i) + " durations < " + buf + "s hidden.";
      if (!min_given_) msg += "  Use -vv to show these durations.";
      out.push_back(msg + ")");
      break;
    }
    std::snprintf(buf, sizeof buf, "%.2fs %-8s ", e.seconds, e.when);
    out.push_back(buf + e.node_id);
  }
  return out;
}

}  // namespace dxpy::session
