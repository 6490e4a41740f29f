// Throughput of the two Outline front ends: scan_outline (the scanner) and
// outline_with_tree_sitter, over every *.py file under the given folders, read into memory
// first so that only parsing is timed. One core each, then the scanner on N threads.
//
//   scan_speed [--threads N] [--min-seconds S] FOLDER...
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dxpy/discovery/scanner.h"
#include "dxpy/discovery/ts_outline.h"
#include "dxpy/util/fs.h"

namespace {

using Clock = std::chrono::steady_clock;

void walk(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == "__pycache__") continue;
    std::string full = dxpy::join_path(dir, name);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) walk(full, out);
    else if (S_ISREG(st.st_mode) && name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0)
      out.push_back(full);
  }
  ::closedir(d);
}

// Seconds for one pass of `parse` over `sources`; `sink` keeps the work from being elided.
template <class F>
double pass(const std::vector<std::string>& sources, F parse, size_t& sink) {
  auto t0 = Clock::now();
  for (const auto& s : sources) sink += parse(s).defs.size();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The best of repeated passes, until `min_seconds` have been spent.
template <class F>
double best_pass(const std::vector<std::string>& sources, F parse, double min_seconds, size_t& sink) {
  double best = 1e300, spent = 0;
  do {
    double s = pass(sources, parse, sink);
    best = std::min(best, s);
    spent += s;
  } while (spent < min_seconds);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  double min_seconds = 2.0;
  std::vector<std::string> roots;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) min_seconds = std::atof(argv[++i]);
    else roots.emplace_back(argv[i]);
  }
  if (roots.empty()) {
    std::fprintf(stderr, "usage: scan_speed [--threads N] [--min-seconds S] FOLDER...\n");
    return 2;
  }
  std::vector<std::string> paths, sources;
  for (const auto& r : roots) walk(r, paths);
  std::sort(paths.begin(), paths.end());
  size_t bytes = 0;
  for (const auto& p : paths) {
    auto s = dxpy::read_file(p);
    if (!s) continue;
    bytes += s->size();
    sources.push_back(std::move(*s));
  }
  double mb = static_cast<double>(bytes) / 1e6;
  std::printf("%zu files, %.1f MB\n", sources.size(), mb);

  size_t sink = 0;
  double scan = best_pass(sources, dxpy::discovery::scan_outline, min_seconds, sink);
  std::printf("scanner      1 thread : %8.1f MB/s  (%.3f s per pass, best of >= %.1f s)\n", mb / scan, scan,
              min_seconds);
  double ts = pass(sources, dxpy::discovery::outline_with_tree_sitter, sink);
  std::printf("tree-sitter  1 thread : %8.1f MB/s  (%.3f s, one pass)\n", mb / ts, ts);

  if (threads > 1) {
    double best = 1e300, spent = 0;
    do {
      std::atomic<size_t> next{0}, total{0};
      auto t0 = Clock::now();
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          size_t local = 0;
          for (size_t i; (i = next.fetch_add(1)) < sources.size();)
            local += dxpy::discovery::scan_outline(sources[i]).defs.size();
          total += local;
        });
      }
      for (auto& th : pool) th.join();
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      sink += total;
      best = std::min(best, s);
      spent += s;
    } while (spent < min_seconds);
    std::printf("scanner     %2u threads: %8.1f MB/s\n", threads, mb / best);
  }
  return sink == 42 ? 1 : 0;  // never: keeps the results alive
}
