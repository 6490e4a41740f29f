#pragma once
/// Selecting tests by a pattern given on the command line (Property 18: Test Pattern
/// Filtering). A pattern is a glob with Python fnmatch semantics ('*' and '?' also match
/// '/' and "::", "[seq]" and "[!seq]" are sets), matched against each test's node id and
/// its file path. A pattern that names tests literally, the way pytest's arguments do,
/// selects just those: a node id equal to it, a file path equal to it, or node ids under
/// it ("f.py::TestA" selects its methods, "f.py::test_x" every "f.py::test_x[...]"). So
/// "f.py::test_x[1]" selects that one case and not "f.py::test_x1", which the glob reading
/// of "[1]" would also match.

#include <cstddef>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::select {

/// fnmatch(node_id, pattern), or the two are equal.
bool match_glob(std::string_view pattern, std::string_view node_id);

/// Whether `pattern` names `test` literally (see above).
bool names_literally(std::string_view pattern, const TestCase& test);

/// Whether `test` matches `pattern` as a glob: by node id or by file path.
bool matches_glob(std::string_view pattern, const TestCase& test);

/// Indices of the selected tests, in order: if any test is named literally, exactly those;
/// otherwise every test that matches as a glob.
std::vector<size_t> filter_indices(const std::vector<TestCase>& tests, std::string_view pattern);
std::vector<TestCase> filter(const std::vector<TestCase>& tests, std::string_view pattern);

}  // namespace dxpy::select
