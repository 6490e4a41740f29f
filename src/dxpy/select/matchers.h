#pragma once
/// The matchers pytest evaluates -k and -m expressions with (_pytest/mark/__init__.py),
/// built from the static view of a test.

#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/select/expression.h"
#include "dxpy/util/expected.h"

namespace dxpy::select {

/// -k: an identifier matches if it is a case-insensitive substring of any of the item's
/// names. pytest's KeywordMatcher.from_item takes the names of the item's listchain() minus
/// the Session and the root Directory, its extra keywords, its function's __dict__ keys,
/// and the names of all markers (iter_markers: function, class and module marks).
class KeywordMatcher {
 public:
  /// `names` as given; matching lowercases both sides (ASCII only; Python's lower() also
  /// folds other scripts).
  explicit KeywordMatcher(std::vector<std::string> names);

  /// The names pytest would collect for `test`, statically:
  ///  - each folder of the rootdir-relative path below the rootdir ("tests", "unit"): the
  ///    Dir/Package nodes; the root one is skipped. (This assumes confcutdir == rootdir,
  ///    pytest's default; collection then starts at the rootdir.)
  ///  - the module's file name ("test_a.py"), each enclosing class, and the function's
  ///    name with its parameter id ("test_x[1-a]"): not the bare name of a parametrized one
  ///  - every marker name in `test.markers` (including "parametrize", "usefixtures")
  /// `extra`: what the static view cannot see, chiefly "pytestmark" when the function
  /// itself carries @pytest.mark decorators (they live in function.__dict__), and
  /// keywords that plugins add.
  static KeywordMatcher from_test(const TestCase& test, const std::vector<std::string>& extra = {});

  /// kUsage "Keyword expressions do not support call parameters." for `name(k=v)`.
  Expected<bool> operator()(std::string_view subname, const std::vector<Kwarg>& kwargs) const;

  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;  // as given
  std::vector<std::string> lower_;  // lowercased
};

/// -m: an identifier matches if a marker of exactly that name is present; with kwargs,
/// if one such marker has every given keyword argument with an equal value. Marker
/// arguments are source text, so equality is Python's on the literal they spell
/// ('x' == "x", 1 == True == 1.0, None); a value that is not a literal (a name, a call)
/// never matches, as its runtime value is unknown here.
class MarkMatcher {
 public:
  explicit MarkMatcher(const std::vector<Marker>& markers) : markers_(&markers) {}
  explicit MarkMatcher(const TestCase& test) : markers_(&test.markers) {}

  bool operator()(std::string_view name, const std::vector<Kwarg>& kwargs) const;

 private:
  const std::vector<Marker>* markers_;
};

/// Whether the Python source text `literal` evaluates to a value equal to `value`
/// (see MarkMatcher). Exposed for tests.
bool literal_equals(std::string_view literal, const KwargValue& value);

}  // namespace dxpy::select
