#pragma once
/// `--collect-only` output in pytest's three forms: the tree (`<Dir>`, `<Package>`,
/// `<Module>`, `<Class>`, `<Function>`; verbosity >= 0), node ids (-q), and per-file
/// counts (-qq).

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::report {

/// `is_package(dir)` tells whether a rootdir-relative folder holds an __init__.py.
void print_collection(std::FILE* out, const std::string& rootdir, const std::vector<TestCase>& tests, int verbosity,
                      const std::function<bool(const std::string&)>& is_package);

/// The -q and -qq forms from node ids alone (verbosity -1 and below).
void print_node_ids(std::FILE* out, const std::vector<NodeIdView>& node_ids, int verbosity);
/// The same, a file at a time.
void print_node_ids(std::FILE* out, const std::vector<ListedFile>& files, int verbosity);

}  // namespace dxpy::report
