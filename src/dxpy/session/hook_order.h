#pragma once
/// The order a conftest's pytest_collection_modifyitems gives the session's tests.
///
/// pytest calls the hook once with every collected item and runs (and reports) what it
/// leaves, in the order it leaves them. dx-py's workers call it with one test's items at a
/// time (its marks, skips and deselection apply there), so the order across tests is asked
/// for before the run, and only when a conftest of the run names the hook in its text:
/// `python -m dx_py_test_runner.worker.order` (worker/order.py) looks at those conftests
/// without importing them and answers `keep` when no hook can change the order; else it
/// collects the session once, calls the hooks with all the items and answers with the
/// order. The run then follows it: with -n 1 tests run in that order; with more workers
/// each takes the next run of one module's tests in that order (no longest first). Tests
/// whose items the hooks all took away are deselected before the run, as in pytest.
/// Suites without the hook pay a look for conftest.py in their test folders, nothing more.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/util/expected.h"

namespace dxpy::session {

struct Selection;  // selection.h

struct HookOrder {
  /// A test, or one item of a test the worker expands at run time (its parametrize id).
  struct Entry {
    uint32_t test = 0;
    std::optional<std::string> param;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> kept;        // in the order the hooks left the items
  std::vector<Entry> deselected;  // the tests (and items) the hooks took away
};

/// The conftest.py files that apply to `tests` (each test's folder and those above it, inside
/// `confcutdir` when it is set, as the worker's HookManager finds them) whose text names
/// pytest_collection_modifyitems, sorted.
std::vector<std::string> modifyitems_conftests(const std::vector<TestCase>& tests, const std::string& rootdir,
                                               const std::string& confcutdir);
/// The same for modules given by path (rootdir-relative, or absolute), as a listing of node
/// ids gives them (the part before "::").
std::vector<std::string> modifyitems_conftests(const std::vector<std::string_view>& module_paths,
                                               const std::string& rootdir, const std::string& confcutdir);

/// Whether the pytest_collection_modifyitems of a conftest (its source) surely leaves the
/// order of `items` as it is, by a look at its tokens in C++: then no Python process is
/// started to ask worker/order.py, whose `may_reorder` decides otherwise. Conservative: true
/// only when the hook is one plain top-level `def` (its name nowhere else, no `specname`),
/// and every use of `items` in its body reads it: iterated (`in items`), compared, tested,
/// returned, a non-mutating method (`items.index`), or passed to a function that is neither
/// a function of the conftest nor named like one that orders (sort, shuffle, order, random,
/// reverse, priority, permute; `sorted`/`reversed` copy). Anything else (an assignment, a
/// subscript, `del`, a mutating method, an alias, a string it cannot read) is false, and
/// worker/order.py decides: true implies that it would answer `keep`.
bool hook_surely_keeps_order(std::string_view conftest_source);
/// hook_surely_keeps_order of each file (false if one cannot be read).
bool conftests_keep_order(const std::vector<std::string>& conftests);

/// The answer of worker/order.py for `n` tests: nullopt for `keep`, the order for `order`
/// (lines `INDEX`, or `INDEX<TAB>HEX` for an item of an expanded test, its id's UTF-8 in
/// hex); an error for `error MESSAGE` or an answer that is not well formed (an index out
/// of range, an entry named twice, a test named both whole and by item).
Expected<std::optional<HookOrder>> parse_hook_order(std::string_view answer, size_t n);

/// Puts `tests` in the hooks' order: tests the answer does not name first (they have no
/// item: their module's collection error, reported first as in pytest), in the order they
/// had, then the kept ones; the deselected are removed. An expanded test named by item
/// becomes one test per kept item, its id's param set to the item's id (the worker then
/// runs that item alone). The first `failed_first` tests (--ff) stay ahead of the others,
/// each group in the hooks' order, as pytest's cacheprovider reorders after the conftests'
/// hooks. Returns how many entries were deselected (pytest's items).
size_t apply_hook_order(std::vector<TestCase>& tests, size_t& failed_first, const HookOrder& order);

/// Asks `python -m dx_py_test_runner.worker.order` (with the workers' DXPY_ROOTDIR and
/// DXPY_CONFIG) for the order of `tests` under `conftests`.
Expected<std::optional<HookOrder>> ask_hook_order(const std::string& python, const std::string& rootdir,
                                                  const std::string& worker_config,
                                                  const std::vector<std::string>& conftests,
                                                  const std::vector<TestCase>& tests);

/// All of the above for a run: true when `selected.tests` are now in an order to keep
/// (ExecOptions::keep_order). A failure is a warning on stderr; the run keeps its order.
bool follow_hook_order(Selection& selected, const std::string& python, const std::string& worker_config,
                       int verbosity);

}  // namespace dxpy::session
