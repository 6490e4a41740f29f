// Property 9: Watch Mode Filtering. For any sequence of file events (relevant and ignored
// paths, at any spacing) and polls at any times, the debouncer's batches are exactly the
// relevant paths: each relevant event's path is in the first batch emitted after it, no
// ignored path is ever in a batch, a batch holds each path once (sorted), it is never
// emitted before its quiet period or max wait ran out and never withheld after; a burst of
// events closer than the quiet period (and within the max wait) gives one batch.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "dxpy/watch/debounce.h"

namespace dxpy::watch {
namespace {

struct GenPath {
  std::string path;
  bool relevant = true;
};

// A path of 0-3 folders and a file name, with whether it must pass the filter, decided by
// construction (which lists each part came from), not by calling `ignored`.
rc::Gen<GenPath> gen_path() {
  static const std::vector<std::string> kDirs = {"pkg", "tests", "src", "sub", "git", "cache"};
  static const std::vector<std::string> kBadDirs = {".git", "__pycache__", ".venv", ".dx-py", ".pytest_cache",
                                                    "venv", ".tox", "x.egg-info", "node_modules"};
  static const std::vector<std::string> kFiles = {"a.py", "b.py", "conftest.py", "pytest.ini", "data.json", "c.pyi"};
  static const std::vector<std::string> kBadFiles = {"a.py.swp", ".a.py.swo", "a.py~", "4913", ".#a.py",
                                                     "#a.py#", "a.cpython-311.pyc", "x.tmp"};
  return rc::gen::exec([] {
    GenPath g;
    int depth = *rc::gen::inRange(0, 4);
    for (int i = 0; i < depth; ++i) {
      bool bad = *rc::gen::weightedElement<bool>({{5, false}, {1, true}});
      g.path += (bad ? *rc::gen::elementOf(kBadDirs) : *rc::gen::elementOf(kDirs)) + "/";
      if (bad) g.relevant = false;
    }
    bool bad = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    g.path += bad ? *rc::gen::elementOf(kBadFiles) : *rc::gen::elementOf(kFiles);
    if (bad) g.relevant = false;
    return g;
  });
}

struct Step {
  bool poll = false;
  int64_t dt = 0;
  GenPath path;
};

RC_GTEST_PROP(WatchFilteringProperty, BatchesAreExactlyTheRelevantPathsOnTime, ()) {
  DebounceOptions o;
  o.quiet_ms = *rc::gen::inRange<int64_t>(1, 50);
  o.max_wait_ms = o.quiet_ms + *rc::gen::inRange<int64_t>(0, 200);
  auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::exec([] {
    Step s;
    s.poll = *rc::gen::arbitrary<bool>();
    s.dt = *rc::gen::weightedElement<int64_t>({{4, 0}, {4, 5}, {2, 30}, {1, 300}});
    s.dt += *rc::gen::inRange<int64_t>(0, 3);
    if (!s.poll) s.path = *gen_path();
    return s;
  }));
  Debouncer d(o);
  int64_t now = 0;
  std::set<std::string> pending;  // the model
  int64_t first = 0, last = 0;
  auto check_poll = [&](int64_t t) {
    std::vector<std::string> batch = d.poll(t);
    bool due = !pending.empty() && (t >= last + o.quiet_ms || t >= first + o.max_wait_ms);
    RC_ASSERT(due == !batch.empty());
    if (!due) return;
    RC_ASSERT(std::is_sorted(batch.begin(), batch.end()));
    RC_ASSERT(std::adjacent_find(batch.begin(), batch.end()) == batch.end());
    RC_ASSERT(std::set<std::string>(batch.begin(), batch.end()) == pending);
    for (const auto& p : batch) RC_ASSERT(!ignored(p));
    pending.clear();
  };
  for (const auto& s : steps) {
    now += s.dt;
    if (s.poll) {
      check_poll(now);
      continue;
    }
    RC_ASSERT(ignored(s.path.path) == !s.path.relevant);
    if (!s.path.relevant) continue;  // what the watch loop does with an ignored path
    if (pending.empty()) first = now;
    pending.insert(s.path.path);
    last = now;
    d.add(s.path.path, now);
    RC_ASSERT(d.deadline() == std::min(last + o.quiet_ms, first + o.max_wait_ms));
  }
  // Once the events stop, what is pending comes out by the deadline.
  if (!pending.empty()) {
    RC_ASSERT(d.deadline().has_value());
    RC_ASSERT(*d.deadline() <= last + o.quiet_ms);
    check_poll(*d.deadline());
  }
  RC_ASSERT(!d.pending());
}

RC_GTEST_PROP(WatchFilteringProperty, ABurstWithinTheQuietPeriodIsOneBatch, ()) {
  DebounceOptions o;
  o.quiet_ms = *rc::gen::inRange<int64_t>(2, 50);
  o.max_wait_ms = 10'000;
  auto paths = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(
      rc::gen::element<std::string>("a.py", "b.py", "pkg/c.py", "tests/test_d.py")));
  Debouncer d(o);
  int64_t now = 0;
  for (const auto& p : paths) {
    now += *rc::gen::inRange<int64_t>(0, o.quiet_ms);  // closer than the quiet period
    d.add(p, now);
    // Polled in between, at any time before the quiet period ran out: nothing yet.
    RC_ASSERT(d.poll(now + *rc::gen::inRange<int64_t>(0, o.quiet_ms)).empty());
  }
  auto batch = d.poll(now + o.quiet_ms);
  RC_ASSERT(std::set<std::string>(batch.begin(), batch.end()) == std::set<std::string>(paths.begin(), paths.end()));
  RC_ASSERT(d.poll(now + 100 * o.quiet_ms).empty());
}

}  // namespace
}  // namespace dxpy::watch
