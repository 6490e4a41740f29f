// Timings of the import graph on a project folder, and, on a suite from
// gen_suite.py --mix realistic, the check of issue 6's first target: editing an
// app/modNNN.py selects exactly the test files that import that module directly or through
// the app package's DAG (computed here from the generated `from app import modNNN` lines,
// independently of the graph).
//
//   graph_bench [--edits N] [--rounds R] [--pythonpath DIR]... [--list] ROOT
//
// Reports: a cold sync (walk, read, scan, resolve every *.py), a warm sync (nothing
// changed: walk and stat), encode/save/load of the .dxig file, and per edit the time of
// update_graph (stat, read, scan, resolve the file) plus affected_by, median and max over
// the edits and rounds; a new module added and removed (the path that re-resolves the files
// naming it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dxpy/graph/project.h"
#include "dxpy/graph/store.h"
#include "dxpy/util/fs.h"

namespace {

using Clock = std::chrono::steady_clock;
using dxpy::graph::ImportGraph;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The `from app import modNNN` lines of a generated file: the DAG as gen_suite.py wrote it.
std::vector<std::string> app_imports(const std::string& source) {
  std::vector<std::string> out;
  const std::string marker = "from app import ";
  for (size_t pos = source.find(marker); pos != std::string::npos; pos = source.find(marker, pos + 1)) {
    if (pos > 0 && source[pos - 1] != '\n') continue;
    size_t b = pos + marker.size(), e = source.find('\n', b);
    out.push_back("app/" + source.substr(b, e == std::string::npos ? std::string::npos : e - b) + ".py");
  }
  return out;
}

void walk_files(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  for (const auto& name : dxpy::list_dir(dxpy::join_path(root, rel))) {
    std::string r = rel.empty() ? name : rel + "/" + name;
    auto st = dxpy::stat_path(dxpy::join_path(root, r));
    if (!st) continue;
    if (st->is_dir && name != "__pycache__" && name[0] != '.') walk_files(root, r, out);
    else if (st->is_file && r.size() > 3 && r.compare(r.size() - 3, 3, ".py") == 0) out.push_back(r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  size_t edits = 10;
  int rounds = 5;
  bool list = false;
  std::vector<std::string> pythonpath;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--edits" && i + 1 < argc) edits = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (a == "--pythonpath" && i + 1 < argc) pythonpath.push_back(dxpy::absolute_path(argv[++i]));
    else if (a == "--list") list = true;
    else if (!a.empty() && a[0] != '-') root = dxpy::absolute_path(a);
    else {
      std::fprintf(stderr, "usage: graph_bench [--edits N] [--rounds R] [--pythonpath DIR]... [--list] ROOT\n");
      return 2;
    }
  }
  if (root.empty()) {
    std::fprintf(stderr, "usage: graph_bench [--edits N] [--rounds R] [--pythonpath DIR]... [--list] ROOT\n");
    return 2;
  }
  dxpy::graph::GraphOptions opts;
  opts.rootdir = root;
  opts.pythonpath = pythonpath;

  auto t0 = Clock::now();
  ImportGraph g(opts);
  auto cold = dxpy::graph::sync_graph(g);
  const double cold_ms = ms_since(t0);
  size_t edges = 0;
  for (const auto& p : g.paths()) edges += g.dependencies(p).size();
  std::printf("files %zu (tests %zu), edges %zu, external modules %zu\n", g.size(), g.test_files().size(), edges,
              g.external_modules().size());
  std::printf("cold sync (walk, read, scan, resolve)   %8.2f ms  (%zu scanned)\n", cold_ms, cold.scanned);

  std::vector<double> warm;
  for (int r = 0; r < rounds; ++r) {
    t0 = Clock::now();
    auto s = dxpy::graph::sync_graph(g);
    warm.push_back(ms_since(t0));
    if (s.changed()) std::printf("warning: warm sync changed the graph\n");
  }
  std::printf("warm sync (walk, stat; nothing changed) %8.2f ms  median of %d\n", median(warm), rounds);

  const std::string cache = "/tmp/dxpy_graph_bench.dxig";
  std::vector<double> enc, save, load;
  std::string bytes;
  for (int r = 0; r < rounds; ++r) {
    t0 = Clock::now();
    bytes = dxpy::graph::encode_graph(g);
    enc.push_back(ms_since(t0));
    t0 = Clock::now();
    if (!dxpy::graph::save_graph(cache, g)) std::printf("warning: save failed\n");
    save.push_back(ms_since(t0));
    t0 = Clock::now();
    auto loaded = dxpy::graph::load_graph(cache, opts);
    load.push_back(ms_since(t0));
    if (!loaded || !(*loaded == g)) std::printf("warning: the loaded graph differs\n");
  }
  std::printf(".dxig %zu bytes: encode %.2f ms, save %.2f ms, load (read, decode, resolve all) %.2f ms\n",
              bytes.size(), median(enc), median(save), median(load));
  std::remove(cache.c_str());

  // Edits: app/modNNN.py spread over the package (else any non-test modules).
  std::vector<std::string> candidates;
  for (const auto& p : g.paths())
    if (p.rfind("app/mod", 0) == 0) candidates.push_back(p);
  if (candidates.empty())
    for (const auto& p : g.paths())
      if (!g.is_test_file(p) && p.find("conftest") == std::string::npos) candidates.push_back(p);
  std::vector<std::string> chosen;
  for (size_t k = 0; k < edits && !candidates.empty(); ++k) {
    const std::string& c = candidates[(k * candidates.size()) / edits];
    if (chosen.empty() || chosen.back() != c) chosen.push_back(c);
  }

  // The DAG's answer, for a generated suite.
  std::map<std::string, std::set<std::string>> importers;  // module -> files importing it
  std::vector<std::string> all;
  walk_files(root, "", all);
  for (const auto& f : all)
    if (auto src = dxpy::read_file(dxpy::join_path(root, f)))
      for (const auto& m : app_imports(*src)) importers[m].insert(f);

  std::vector<double> update_ms, affected_ms;
  size_t checked = 0, agree = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const auto& rel : chosen) {
      const std::string abs = dxpy::join_path(root, rel);
      auto original = dxpy::read_file(abs);
      if (!original) continue;
      if (!dxpy::write_file_atomic(abs, *original + "# edited\n", dxpy::Durability::kCache)) continue;
      t0 = Clock::now();
      bool changed = dxpy::graph::update_graph(g, abs);
      update_ms.push_back(ms_since(t0));
      t0 = Clock::now();
      auto a = g.affected_by({rel});
      affected_ms.push_back(ms_since(t0));
      if (!changed) std::printf("warning: %s: update saw no change\n", rel.c_str());
      if (r == 0) {
        std::set<std::string> want, seen{rel};
        std::vector<std::string> todo{rel};
        while (!todo.empty()) {
          std::string m = todo.back();
          todo.pop_back();
          if (m.rfind("tests/", 0) == 0 && m.find("/test_") != std::string::npos) want.insert(m);
          for (const auto& i : importers[m])
            if (seen.insert(i).second) todo.push_back(i);
        }
        std::set<std::string> got;
        for (const auto& t : a.tests) got.insert(t.path);
        ++checked;
        agree += got == want;
        std::printf("edit %-22s selects %4zu test files; the DAG says %4zu: %s\n", rel.c_str(), got.size(), want.size(),
                    got == want ? "same" : "DIFFERENT");
        if (list)
          for (const auto& t : a.tests) std::printf("    %s\n", describe(t).c_str());
      }
      if (!dxpy::write_file_atomic(abs, *original, dxpy::Durability::kCache)) return 1;
      dxpy::graph::update_graph(g, abs);
    }
  }
  std::printf("edits agreeing with the DAG: %zu of %zu\n", agree, checked);
  if (!update_ms.empty()) {
    std::printf("update_graph after one edit           %8.3f ms median, %.3f ms max (%zu edits)\n", median(update_ms),
                *std::max_element(update_ms.begin(), update_ms.end()), update_ms.size());
    std::printf("affected_by one file                  %8.3f ms median, %.3f ms max\n", median(affected_ms),
                *std::max_element(affected_ms.begin(), affected_ms.end()));
  }

  // A module added then removed: the files naming it are re-resolved.
  std::vector<double> add_ms, remove_ms;
  const std::string dir = chosen.empty() ? std::string() : std::string(dxpy::dirname(chosen[0]));
  const std::string added = dxpy::join_path(dxpy::join_path(root, dir), "bench_new_module.py");
  for (int r = 0; r < rounds; ++r) {
    if (!dxpy::write_file_atomic(added, "import os\n", dxpy::Durability::kCache)) break;
    t0 = Clock::now();
    dxpy::graph::update_graph(g, added);
    add_ms.push_back(ms_since(t0));
    std::remove(added.c_str());
    t0 = Clock::now();
    dxpy::graph::update_graph(g, added);
    remove_ms.push_back(ms_since(t0));
  }
  std::printf("update_graph, a module added / removed %7.3f / %.3f ms median\n", median(add_ms), median(remove_ms));
  return agree == checked ? 0 : 1;
}
