#include "dxpy/exec/scheduler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

namespace dxpy::exec {

namespace {

// The median of the known durations, or 1 when none is known (then every test weighs the
// same and durations are test counts).
double median_known(const std::vector<Task>& tasks) {
  std::vector<double> known;
  for (const auto& t : tasks) {
    if (t.expected_seconds && std::isfinite(*t.expected_seconds) && *t.expected_seconds >= 0) {
      known.push_back(*t.expected_seconds);
    }
  }
  if (known.empty()) return 1.0;
  auto mid = known.begin() + static_cast<std::ptrdiff_t>(known.size() / 2);
  std::nth_element(known.begin(), mid, known.end());
  return *mid;
}

std::string str(uint64_t n) { return std::to_string(n); }

}  // namespace

Scheduler::Scheduler(std::vector<Task> tasks, unsigned workers, Options options)
    : slots_(workers), options_(options) {
  DXPY_CHECK(workers > 0);
  DXPY_CHECK(tasks.size() < UINT32_MAX);
  DXPY_CHECK(options_.max_batch > 0);
  DXPY_CHECK(options_.batch_divisor > 0);
  const double fallback = median_known(tasks);
  infos_.resize(tasks.size());

  // One chunk per module, tests in the order given (file order); modules in first-seen
  // order before the stable sort, so that equal modules keep the caller's order.
  std::vector<Chunk> chunks;
  std::unordered_map<uint32_t, size_t> chunk_of;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const Task& t = tasks[i];
    Info& info = infos_[i];
    info.module = t.module;
    const bool known = t.expected_seconds && std::isfinite(*t.expected_seconds) && *t.expected_seconds >= 0;
    info.expected = known ? *t.expected_seconds : fallback;
    auto [it, fresh] = chunk_of.try_emplace(t.module, chunks.size());
    if (fresh) chunks.push_back(Chunk{t.module, 0, {}});
    Chunk& c = chunks[it->second];
    c.tests.push_back(static_cast<uint32_t>(i));
    c.expected += info.expected;
    queued_expected_ += info.expected;
  }
  if (!options_.keep_order)
    std::stable_sort(chunks.begin(), chunks.end(),
                     [](const Chunk& a, const Chunk& b) { return a.expected > b.expected; });
  injector_.assign(std::make_move_iterator(chunks.begin()), std::make_move_iterator(chunks.end()));
  injector_tests_ = tasks.size();
  queued_ = tasks.size();
}

void Scheduler::check_slot(unsigned w) const { DXPY_CHECK(w < slots_.size()); }

SlotState Scheduler::state(unsigned w) const {
  check_slot(w);
  return slots_[w].state;
}

std::vector<uint32_t> Scheduler::running(unsigned w) const {
  check_slot(w);
  std::vector<uint32_t> out;
  for (uint32_t t : slots_[w].batch) {
    if (infos_[t].place == Place::kRunning) out.push_back(t);
  }
  return out;
}

double Scheduler::expected_seconds(uint32_t test) const {
  DXPY_CHECK(test < infos_.size());
  return infos_[test].expected;
}

std::optional<TestStatus> Scheduler::result(uint32_t test) const {
  DXPY_CHECK(test < infos_.size());
  if (infos_[test].place != Place::kFinished) return std::nullopt;
  return infos_[test].status;
}

std::vector<uint32_t> Scheduler::unfinished() const {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < infos_.size(); ++i) {
    if (infos_[i].place != Place::kFinished) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

void Scheduler::worker_started(unsigned w) {
  check_slot(w);
  DXPY_CHECK(slots_[w].state == SlotState::kDown);
  slots_[w].state = SlotState::kIdle;
}

// Keeps the injector longest first; among equals the newcomer goes last.
void Scheduler::insert_chunk(Chunk chunk) {
  auto pos = std::upper_bound(injector_.begin(), injector_.end(), chunk.expected,
                              [](double e, const Chunk& c) { return e > c.expected; });
  for (uint32_t t : chunk.tests) infos_[t].place = Place::kInjector;
  injector_tests_ += chunk.tests.size();
  injector_.insert(pos, std::move(chunk));
}

bool Scheduler::take_from_injector(unsigned w) {
  if (injector_.empty()) return false;
  Chunk chunk = std::move(injector_.front());
  injector_.pop_front();
  injector_tests_ -= chunk.tests.size();
  Slot& s = slots_[w];
  for (uint32_t t : chunk.tests) {
    infos_[t].place = Place::kLocal;
    infos_[t].owner = w;
    s.local.push_back(t);
    s.local_expected += infos_[t].expected;
  }
  return true;
}

bool Scheduler::steal_for(unsigned w) {
  // The victim: the deque with the most expected work; the lowest slot among equals.
  size_t victim = slots_.size();
  for (size_t v = 0; v < slots_.size(); ++v) {
    if (v == w || slots_[v].local.empty()) continue;
    if (victim == slots_.size() || slots_[v].local_expected > slots_[victim].local_expected) victim = v;
  }
  if (victim == slots_.size()) return false;
  Slot& from = slots_[victim];
  Slot& to = slots_[w];
  const size_t take = (from.local.size() + 1) / 2;
  // The back of the victim's deque, kept in file order.
  auto first = from.local.end() - static_cast<std::ptrdiff_t>(take);
  double moved = 0;
  for (auto it = first; it != from.local.end(); ++it) {
    infos_[*it].owner = w;
    moved += infos_[*it].expected;
    to.local.push_back(*it);
  }
  from.local.erase(first, from.local.end());
  from.local_expected = from.local.empty() ? 0 : from.local_expected - moved;
  to.local_expected += moved;
  ++stats_.steals;
  stats_.stolen += take;
  return true;
}

std::vector<uint32_t> Scheduler::batch_from_local(unsigned w) {
  Slot& s = slots_[w];
  const double share =
      queued_expected_ / (static_cast<double>(options_.batch_divisor) * static_cast<double>(slots_.size()));
  std::vector<uint32_t> batch;
  double sum = 0;
  const uint32_t module = infos_[s.local.front()].module;
  while (!s.local.empty() && batch.size() < options_.max_batch) {
    const Info& next = infos_[s.local.front()];
    if (next.module != module) break;
    if (!batch.empty() && sum + next.expected > share) break;
    sum += next.expected;
    batch.push_back(s.local.front());
    s.local.pop_front();
  }
  s.local_expected = s.local.empty() ? 0 : s.local_expected - sum;
  return batch;
}

std::vector<uint32_t> Scheduler::next_for(unsigned w) {
  check_slot(w);
  Slot& s = slots_[w];
  DXPY_CHECK(s.state == SlotState::kIdle);
  std::vector<uint32_t> batch;
  if (!solo_.empty()) {
    batch.push_back(solo_.front());
    solo_.pop_front();
  } else if (!s.local.empty() || take_from_injector(w) || steal_for(w)) {
    batch = batch_from_local(w);
  }
  if (batch.empty()) return batch;

  for (uint32_t t : batch) {
    infos_[t].place = Place::kRunning;
    infos_[t].owner = w;
    queued_expected_ -= infos_[t].expected;
  }
  queued_ -= batch.size();
  if (queued_ == 0) queued_expected_ = 0;  // no drift from the sums
  s.state = SlotState::kBusy;
  s.batch = batch;
  s.open = static_cast<uint32_t>(batch.size());
  ++stats_.batches;
  stats_.handed_out += batch.size();
  return batch;
}

void Scheduler::finish(uint32_t test, TestStatus status) {
  Info& info = infos_[test];
  Slot& s = slots_[info.owner];
  info.place = Place::kFinished;
  info.status = status;
  ++finished_;
  ++stats_.finished;
  if (--s.open == 0) {
    s.batch.clear();
    s.state = SlotState::kIdle;
  }
}

Expected<void> Scheduler::finished(unsigned w, uint32_t test, TestStatus status) {
  check_slot(w);
  if (test >= infos_.size() || infos_[test].place != Place::kRunning || infos_[test].owner != w) {
    return make_error(Errc::kCorrupt, "worker " + std::to_string(w) + " sent a result for test " +
                                          std::to_string(test) + ", which it is not running");
  }
  finish(test, status);
  return {};
}

Loss Scheduler::worker_lost(unsigned w, std::optional<uint32_t> in_flight) {
  check_slot(w);
  Slot& s = slots_[w];
  DXPY_CHECK(s.state != SlotState::kDown);
  if (in_flight) {
    DXPY_CHECK(*in_flight < infos_.size() && infos_[*in_flight].place == Place::kRunning &&
               infos_[*in_flight].owner == w);
  } else if (s.state == SlotState::kBusy) {
    // Nobody knows what it was running: blame the first test without a result, which a
    // worker running its batch in order had started (or was importing the module for).
    for (uint32_t t : s.batch) {
      if (infos_[t].place != Place::kRunning) continue;
      if (++infos_[t].strikes > options_.blameless_losses) in_flight = t;
      break;
    }
  }
  return release(w, in_flight, false);
}

Loss Scheduler::timed_out(unsigned w, uint32_t test) {
  check_slot(w);
  DXPY_CHECK(test < infos_.size() && infos_[test].place == Place::kRunning && infos_[test].owner == w);
  return release(w, test, true);
}

Loss Scheduler::release(unsigned w, std::optional<uint32_t> culprit, bool timeout) {
  Slot& s = slots_[w];
  Loss loss;
  ++stats_.workers_lost;
  if (culprit) {
    Info& info = infos_[*culprit];
    if (timeout) {
      finish(*culprit, TestStatus::kTimeout);
      ++stats_.timed_out;
      loss.finished = culprit;
    } else if (++info.crashes <= options_.crash_retries) {
      // Alone in a fresh worker, first in line: if it crashes again it takes nothing with it.
      info.place = Place::kSolo;
      --s.open;
      solo_.push_back(*culprit);
      ++queued_;
      queued_expected_ += info.expected;
      ++stats_.retried;
      loss.retried = culprit;
    } else {
      finish(*culprit, TestStatus::kCrashed);
      ++stats_.crashed;
      loss.finished = culprit;
    }
  }

  // The rest of the batch, then the deque: one module run after another, in file order.
  std::vector<uint32_t> back;
  for (uint32_t t : s.batch) {
    if (infos_[t].place == Place::kRunning) back.push_back(t);
  }
  back.insert(back.end(), s.local.begin(), s.local.end());
  s.batch.clear();
  s.open = 0;
  s.local.clear();
  s.local_expected = 0;
  s.state = SlotState::kDown;

  Chunk chunk;
  auto flush = [&] {
    if (!chunk.tests.empty()) insert_chunk(std::move(chunk));
    chunk = Chunk{};
  };
  for (uint32_t t : back) {
    const Info& info = infos_[t];
    if (!chunk.tests.empty() && chunk.module != info.module) flush();
    chunk.module = info.module;
    chunk.expected += info.expected;
    chunk.tests.push_back(t);
    if (info.place == Place::kRunning) {  // handed out: queued again
      ++queued_;
      queued_expected_ += info.expected;
    }
  }
  flush();
  stats_.requeued += back.size();
  loss.requeued = std::move(back);
  return loss;
}

std::string Scheduler::check_invariants() const {
  std::vector<uint32_t> seen(infos_.size(), 0);
  std::string bad;
  auto fail = [&](const std::string& what) {
    if (bad.empty()) bad = what;
  };
  auto place_is = [&](uint32_t t, Place p, const char* where) {
    if (t >= infos_.size()) return fail(std::string(where) + " holds test " + str(t) + ", out of range");
    ++seen[t];
    if (infos_[t].place != p) fail("test " + str(t) + " is in " + where + " but marked elsewhere");
  };

  size_t injector_tests = 0;
  double queued_expected = 0;
  for (size_t i = 0; i < injector_.size(); ++i) {
    const Chunk& c = injector_[i];
    if (c.tests.empty()) fail("an empty chunk in the injector");
    if (i > 0 && injector_[i - 1].expected < c.expected) fail("the injector is not longest first");
    for (uint32_t t : c.tests) {
      place_is(t, Place::kInjector, "the injector");
      if (t < infos_.size() && infos_[t].module != c.module) fail("a chunk mixes modules");
      if (t < infos_.size()) queued_expected += infos_[t].expected;
    }
    injector_tests += c.tests.size();
  }
  if (injector_tests != injector_tests_) fail("injector count " + str(injector_tests_) + " != " + str(injector_tests));
  size_t queued = injector_tests + solo_.size();
  for (uint32_t t : solo_) {
    place_is(t, Place::kSolo, "the retry queue");
    if (t < infos_.size()) queued_expected += infos_[t].expected;
  }

  for (size_t w = 0; w < slots_.size(); ++w) {
    const Slot& s = slots_[w];
    const std::string name = "slot " + str(w);
    uint32_t open = 0;
    for (uint32_t t : s.batch) {
      if (t < infos_.size() && infos_[t].place == Place::kRunning) {
        place_is(t, Place::kRunning, "a batch");
        if (infos_[t].owner != w) fail("test " + str(t) + " runs on " + name + " but is owned elsewhere");
        ++open;
      }
    }
    if (open != s.open) fail(name + " counts " + str(s.open) + " open tests, holds " + str(open));
    switch (s.state) {
      case SlotState::kDown:
        if (!s.batch.empty() || !s.local.empty()) fail(name + " is down but holds tests");
        break;
      case SlotState::kIdle:
        if (!s.batch.empty()) fail(name + " is idle but holds a batch");
        break;
      case SlotState::kBusy:
        if (open == 0) fail(name + " is busy without a test to run");
        break;
    }
    double local_expected = 0;
    for (uint32_t t : s.local) {
      place_is(t, Place::kLocal, "a local deque");
      if (t < infos_.size()) {
        if (infos_[t].owner != w) fail("test " + str(t) + " queued on " + name + " but owned elsewhere");
        local_expected += infos_[t].expected;
      }
    }
    if (std::abs(local_expected - s.local_expected) > 1e-6 * (1 + local_expected)) fail(name + ": local sum drifted");
    queued_expected += local_expected;
    queued += s.local.size();
  }
  if (queued != queued_) fail("queued count " + str(queued_) + " != " + str(queued));
  if (std::abs(queued_expected - queued_expected_) > 1e-6 * (1 + queued_expected)) fail("queued sum drifted");

  size_t finished = 0;
  for (size_t t = 0; t < infos_.size(); ++t) {
    if (infos_[t].place == Place::kFinished) {
      ++finished;
      if (seen[t] != 0) fail("finished test " + str(t) + " is still queued or running");
    } else if (seen[t] != 1) {
      fail("test " + str(t) + " is held in " + str(seen[t]) + " places");
    }
  }
  if (finished != finished_) fail("finished count " + str(finished_) + " != " + str(finished));
  return bad;
}

}  // namespace dxpy::exec
