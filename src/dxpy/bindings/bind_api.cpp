// The functions behind dx.discover and dx.graph (python/dx_py_test_runner/api.py): static
// discovery through the session's selection (the .dxti index, no import), and the import
// graph of a project with its affected-tests query. Both release the GIL while they work.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "dxpy/bindings/bind.h"
#include "dxpy/config/config.h"
#include "dxpy/graph/graph.h"
#include "dxpy/graph/project.h"
#include "dxpy/graph/store.h"
#include "dxpy/session/selection.h"
#include "dxpy/util/fs.h"

namespace nb = nanobind;

namespace dxpy::bindings {

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Discovered {
  std::vector<TestCase> tests;
  std::vector<report::CollectionError> errors;
  std::string rootdir;
  uint64_t deselected = 0;
};

Discovered discover(const std::vector<std::string>& paths, const std::string& rootdir, const std::string& inifile,
                    const std::string& keyword, const std::string& markexpr) {
  session::SelectionRequest req;
  req.args = paths;
  req.rootdir = rootdir;
  req.inifile = inifile;
  req.keyword = keyword;
  req.markexpr = markexpr;
  Expected<session::Selection> sel = make_error(Errc::kInternal, "");
  {
    nb::gil_scoped_release unlocked;
    sel = session::select_tests(req);
  }
  if (!sel) throw UsageError(sel.error().message);
  return {std::move(sel->tests), std::move(sel->errors), sel->config.rootdir, sel->deselected};
}

/// A project's import graph, synced with the files on disk when made. The graph in
/// .dx-py/graph.dxig is the starting point when it is there (only changed files are
/// scanned); it is not written.
class ProjectGraph {
 public:
  static ProjectGraph load(const std::vector<std::string>& paths, const std::string& rootdir,
                           const std::string& inifile) {
    std::optional<graph::ImportGraph> g;
    std::string error;
    {
      nb::gil_scoped_release unlocked;
      auto cfg = config::load_config(paths, absolute_path("."), inifile, rootdir);
      if (!cfg) {
        error = cfg.error().message;
      } else {
        graph::GraphOptions o;
        o.rootdir = cfg->rootdir;
        o.pythonpath = cfg->pythonpath;
        o.python_files = cfg->python_files;
        o.norecursedirs = cfg->norecursedirs;
        auto loaded = graph::load_graph(join_path(cfg->cache_folder(), "graph.dxig"), o);
        if (loaded) g.emplace(std::move(*loaded));
        else g.emplace(o);
        graph::sync_graph(*g);
      }
    }
    if (!g) throw UsageError(error);
    return ProjectGraph(std::move(*g));
  }

  graph::Affected affected(const std::vector<std::string>& files) const {
    std::vector<std::string> relative;
    for (const auto& f : files)
      if (auto gp = g_.graph_path(absolute_path(f))) relative.push_back(*gp);
    return g_.affected_by(relative);
  }

  const graph::ImportGraph& get() const { return g_; }

 private:
  explicit ProjectGraph(graph::ImportGraph g) : g_(std::move(g)) {}
  graph::ImportGraph g_;
};

}  // namespace

void bind_api(nb::module_& m) {
  nb::exception<UsageError>(m, "UsageError", PyExc_ValueError);

  nb::class_<report::CollectionError>(m, "CollectionError")
      .def_ro("path", &report::CollectionError::path)
      .def_ro("message", &report::CollectionError::message)
      .def_ro("longrepr", &report::CollectionError::longrepr)
      .def("__repr__", [](const report::CollectionError& e) { return "<CollectionError " + e.path + ": " + e.message + ">"; });

  nb::class_<Discovered>(m, "Discovered")
      .def_ro("tests", &Discovered::tests)
      .def_ro("errors", &Discovered::errors)
      .def_ro("rootdir", &Discovered::rootdir)
      .def_ro("deselected", &Discovered::deselected);

  m.def("discover", &discover, nb::arg("paths"), nb::arg("rootdir") = "", nb::arg("inifile") = "",
        nb::arg("keyword") = "", nb::arg("markexpr") = "",
        "Static collection of `paths` as `dx-py test --collect-only` does it (rootdir and config by pytest's "
        "rules, the .dxti index, -k/-m): no test module is imported. UsageError for what pytest calls a usage "
        "error (a missing path, a bad expression).");

  nb::enum_<graph::Reason>(m, "AffectedReason")
      .value("changed", graph::Reason::kChanged)
      .value("depends", graph::Reason::kDepends)
      .value("config", graph::Reason::kConfig)
      .value("folder", graph::Reason::kFolder);

  nb::class_<graph::AffectedTest>(m, "AffectedTest")
      .def_ro("path", &graph::AffectedTest::path)
      .def_ro("reason", &graph::AffectedTest::reason)
      .def_ro("chain", &graph::AffectedTest::chain)
      .def("__repr__", [](const graph::AffectedTest& t) { return "<AffectedTest " + graph::describe(t) + ">"; });

  nb::class_<graph::Affected>(m, "Affected")
      .def_ro("everything", &graph::Affected::everything)
      .def_ro("tests", &graph::Affected::tests)
      .def_ro("files", &graph::Affected::files);

  nb::class_<ProjectGraph>(m, "ProjectGraph")
      .def_static("load", &ProjectGraph::load, nb::arg("paths"), nb::arg("rootdir") = "", nb::arg("inifile") = "")
      .def("affected", &ProjectGraph::affected, nb::arg("files"), nb::call_guard<nb::gil_scoped_release>(),
           "The test files a change to `files` (absolute or relative to the working folder) can break.")
      .def_prop_ro("rootdir", [](const ProjectGraph& g) { return g.get().options().rootdir; })
      .def("paths", [](const ProjectGraph& g) { return g.get().paths(); })
      .def("test_files", [](const ProjectGraph& g) { return g.get().test_files(); })
      .def("dependencies",
           [](const ProjectGraph& g, const std::string& path) {
             std::vector<std::string> out;
             for (const auto& d : g.get().dependencies(path)) out.push_back(d.path);
             return out;
           },
           nb::arg("path"))
      .def("dependents", [](const ProjectGraph& g, const std::string& path) { return g.get().dependents(path); },
           nb::arg("path"))
      .def("external_modules", [](const ProjectGraph& g) { return g.get().external_modules(); });
}

}  // namespace dxpy::bindings
