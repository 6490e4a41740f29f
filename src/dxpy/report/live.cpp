#include "dxpy/report/live.h"

#include <algorithm>
#include <cstdio>

namespace dxpy::report {

namespace {

constexpr uint64_t kBarCells = 20;
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

// Columns of UTF-8 text: one per code point (the node ids and the bar have no wide ones).
int columns(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The first `cols` columns of `s`, cut on a code point boundary.
std::string take_columns(const std::string& s, int cols) {
  size_t i = 0;
  int n = 0;
  while (i < s.size()) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == cols) break;
      ++n;
    }
    ++i;
  }
  return s.substr(0, i);
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

}  // namespace

std::string live_status_line(const LiveStatus& s, int width, bool color, bool utf8) {
  int budget = std::max(width - 1, 10);
  // Pieces of plain text and their colour; the line is cut to the budget at the end.
  std::vector<std::pair<std::string, const char*>> parts;
  uint64_t filled = s.total ? std::min<uint64_t>(s.done * kBarCells / s.total, kBarCells) : kBarCells;
  std::string on, off;
  for (uint64_t i = 0; i < kBarCells; ++i) {
    if (i < filled) on += utf8 ? "█" : "#";
    else off += utf8 ? "░" : "-";
  }
  parts.push_back({"[", nullptr});
  parts.push_back({on, s.failed ? kRed : kGreen});
  parts.push_back({off, kDim});
  parts.push_back({"]", nullptr});
  char counts[64];
  int digits = static_cast<int>(std::to_string(s.total).size());  // the count keeps its width
  std::snprintf(counts, sizeof counts, " %*llu/%llu", digits, static_cast<unsigned long long>(s.done),
                static_cast<unsigned long long>(s.total));
  parts.push_back({counts, nullptr});
  bool first = true;
  auto count = [&](uint64_t n, const char* what, const char* c) {
    if (!n) return;
    parts.push_back({first ? "  " : ", ", nullptr});
    parts.push_back({std::to_string(n) + " " + what, c});
    first = false;
  };
  count(s.passed, "passed", kGreen);
  count(s.failed, "failed", kRed);
  count(s.skipped, "skipped", kYellow);
  parts.push_back({"  " + seconds_text(s.seconds), kDim});
  for (size_t i = 0; i < s.running.size(); ++i) {
    std::string r = (i ? ", " : (utf8 ? "  ▸ " : "  > ")) + s.running[i].node_id;
    if (s.running[i].seconds >= 1) r += " (" + seconds_text(s.running[i].seconds) + ")";
    parts.push_back({r, nullptr});
  }
  std::string out;
  int used = 0;
  for (const auto& [text, c] : parts) {
    if (used >= budget) break;
    if (text.empty()) continue;
    std::string piece = take_columns(text, budget - used);
    used += columns(piece);
    if (color && c) out += std::string(c) + piece + kReset;
    else out += piece;
  }
  return out;
}

void RunningTests::started(std::string node_id, Clock::time_point at) {
  for (const auto& e : entries_)
    if (e.node_id == node_id) return;  // the same test again (it reported part of its results)
  entries_.push_back({std::move(node_id), at});
}

void RunningTests::finished(const std::string& node_id) {
  std::erase_if(entries_, [&](const Entry& e) { return e.node_id == node_id; });
}

std::vector<LiveStatus::Running> RunningTests::snapshot(Clock::time_point now) const {
  std::vector<LiveStatus::Running> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back({e.node_id, std::chrono::duration<double>(now - e.since).count()});
  return out;
}

}  // namespace dxpy::report
