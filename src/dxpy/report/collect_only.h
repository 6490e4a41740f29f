#pragma once
/// `--collect-only` output in pytest's three forms: the tree (`<Dir>`, `<Package>`,
/// `<Module>`, `<Class>`, `<Function>`; verbosity >= 0), node ids (-q), and per-file
/// counts (-qq).

#include <cstdio>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::report {

/// `is_package(dir)` tells whether a rootdir-relative folder holds an __init__.py.
void print_collection(std::FILE* out, const std::string& rootdir, const std::vector<TestCase>& tests, int verbosity,
                      const std::function<bool(const std::string&)>& is_package);

/// The -q and -qq forms from node ids alone (verbosity -1 and below), a file at a time
/// (files without tests are not listed).
void print_node_ids(std::FILE* out, const std::vector<ListedFile>& files, int verbosity);

/// Appends `tests` to `out` as listed files, one per run of tests of the same path; their
/// node id tails and ends are kept in `tails` and `ends` (deques: what `out` points into
/// stays in place as they grow).
void list_tests(std::span<const TestCase> tests, std::vector<ListedFile>& out, std::deque<std::string>& tails,
                std::deque<std::vector<uint32_t>>& ends);

}  // namespace dxpy::report
