#pragma once
/// The graph against the project's files on disk: a whole walk for a run (sync_graph), one
/// path at a time for the watch mode (update_graph).
///
/// The walk covers every *.py file under the rootdir, not only test files: modules and
/// conftests are nodes too. It skips options().norecursedirs (pytest's globs, matched as
/// pytest does against the folder's path), __pycache__, .git, .hg, .svn and .dx-py
/// whatever norecursedirs says, and virtualenvs (a folder holding pyvenv.cfg or
/// conda-meta/history); symlinked folders are not followed (no cycles).

#include <cstddef>
#include <string_view>

#include "dxpy/graph/graph.h"

namespace dxpy::graph {

struct SyncStats {
  size_t scanned = 0;    // new or changed files read and scanned
  size_t unchanged = 0;  // same size and mtime: kept as they were
  size_t removed = 0;    // gone from disk (or now skipped)
  bool changed() const { return scanned > 0 || removed > 0; }
};

/// Walks the rootdir, reads and scans the Python files that are new or whose size or mtime
/// changed, drops the files that are gone, and resolves.
SyncStats sync_graph(ImportGraph& g);

/// One path reported changed (absolute, or relative to the rootdir): a Python file is
/// read and scanned again, or dropped when it is gone; a folder is walked (a folder that
/// is gone drops every file below it). Anything else, or a path in a skipped folder, is
/// ignored. Resolves; returns whether the graph changed.
bool update_graph(ImportGraph& g, std::string_view path);

}  // namespace dxpy::graph
