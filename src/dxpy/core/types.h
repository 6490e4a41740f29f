#pragma once
/// The vocabulary every component speaks: what a test is and what running it gave.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dxpy/util/bytes.h"

namespace dxpy {

/// A test's outcome. Crashed and Timeout are dx-py's own: pytest has no process to lose.
enum class TestStatus : uint8_t {
  kPassed = 0,
  kFailed = 1,
  kError = 2,  // setup or teardown failed, or the module could not be collected
  kSkipped = 3,
  kXFailed = 4,
  kXPassed = 5,
  kCrashed = 6,  // the worker died while running it
  kTimeout = 7,
};
inline constexpr uint8_t kTestStatusCount = 8;
std::string_view to_string(TestStatus s);

/// A pytest node id, `path::Class::Inner::name[param]`, kept in its parts.
struct TestId {
  std::string path;                  // rootdir-relative, '/'-separated: "tests/test_a.py"
  std::vector<std::string> classes;  // enclosing classes, outermost first
  std::string name;                  // function or method name
  /// The parametrize id without brackets; none when the test is not parametrized. An empty
  /// id is a real one: `parametrize("x", [""])` is pytest's `test_x[]`.
  std::optional<std::string> param;

  std::string node_id() const;
  /// Appends node_id() to `out`, without a temporary.
  void append_node_id(std::string& out) const;
  /// Appends what node_id() holds after the path ("::TestC::test_m[1]").
  void append_node_tail(std::string& out) const;
  /// Parses a node id. The param is what lies inside the final "[...]" of the last part
  /// ("" for "test_x[]"); none without brackets.
  static TestId parse(std::string_view node_id);
  friend bool operator==(const TestId&, const TestId&) = default;
};

/// A node id in its two pieces, which need not lie together in memory: the file's path and
/// the rest ("::TestC::test_m[1]"), as the index stores them (index/dxti.h).
struct NodeIdView {
  std::string_view path;
  std::string_view tail;
  size_t size() const { return path.size() + tail.size(); }
  std::string str() const {
    std::string s;
    s.reserve(size());
    s.append(path);
    s.append(tail);
    return s;
  }
};

/// One file's node ids as a listing takes them where they lie (the index's mapping, the
/// records prepared for it): the path, the tails back to back, and where each tail ends,
/// counted from `tails`, as u32 in host order (`ends`) or as little-endian bytes
/// (`ends_le`: the index's test table).
struct ListedFile {
  std::string_view path;
  const char* tails = nullptr;
  const uint32_t* ends = nullptr;
  const char* ends_le = nullptr;
  uint32_t count = 0;

  uint32_t end(size_t k) const { return ends ? ends[k] : load_le<uint32_t>(ends_le + 4 * k); }
  std::string_view tail(size_t k) const {
    const uint32_t begin = k ? end(k - 1) : 0;
    return {tails + begin, end(k) - begin};
  }
  NodeIdView id(size_t k) const { return {path, tail(k)}; }
};

/// `@pytest.mark.NAME(args..., key=value...)`, with arguments kept as their source text.
struct Marker {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> kwargs;
  friend bool operator==(const Marker&, const Marker&) = default;
};

/// Where a fixture is defined: its name and the file (conftest.py or test module) and line.
struct FixtureId {
  std::string name;
  std::string path;
  uint32_t line = 0;
  friend bool operator==(const FixtureId&, const FixtureId&) = default;
};

enum class TestKind : uint8_t { kFunction = 0, kMethod = 1, kUnittest = 2 };

/// One collected test item.
struct TestCase {
  TestId id;
  std::string file;  // path of the module as given to the worker (absolute)
  uint32_t line = 0;  // 1-based line of the `def`
  TestKind kind = TestKind::kFunction;
  bool is_async = false;
  bool expand_at_runtime = false;  // parametrize arguments not literal: the worker expands it
  std::vector<Marker> markers;
  std::vector<std::string> fixtures;  // argument names the test requests
  friend bool operator==(const TestCase&, const TestCase&) = default;
};

struct AssertionStats {
  uint32_t passed = 0;
  uint32_t failed = 0;
  friend bool operator==(const AssertionStats&, const AssertionStats&) = default;
};

/// A (name, value) pair a test recorded for the JUnit XML, the value already str()-converted.
using Property = std::pair<std::string, std::string>;

/// What running one test gave. A failure, crash or timeout is data here, never an error.
struct TestResult {
  TestId id;
  TestStatus status = TestStatus::kPassed;
  uint64_t duration_ns = 0;
  std::string message;    // one line: "assert 1 == 2", the skip reason, the signal
  std::string traceback;  // the long report
  std::string stdout_text;
  std::string stderr_text;
  AssertionStats assertions;
  /// pytest's `item.user_properties` (record_property): the testcase's <property> elements.
  std::vector<Property> properties;
  /// record_testsuite_property calls made while the test ran: the <testsuite>'s own
  /// <property> elements. They travel with a test's result because the worker has no other
  /// message that reaches the JUnit reporter.
  std::vector<Property> suite_properties;
  /// The worker's own warnings since its last result (an unsupported hook, a plugin it does
  /// not load, a failed preload): not the test's; the orchestrator prints each distinct one
  /// once after the run.
  std::vector<std::string> worker_warnings;
  friend bool operator==(const TestResult&, const TestResult&) = default;
};

enum class FixtureScope : uint8_t { kFunction = 0, kClass = 1, kModule = 2, kPackage = 3, kSession = 4 };
inline constexpr uint8_t kFixtureScopeCount = 5;

/// A fixture definition found by static discovery (`@pytest.fixture` or `@dx.fixture`).
struct FixtureDef {
  FixtureId id;
  FixtureScope scope = FixtureScope::kFunction;
  bool autouse = false;
  std::string params;                 // source text of params=..., empty if none
  std::vector<std::string> requests;  // the fixture function's own parameters
  friend bool operator==(const FixtureDef&, const FixtureDef&) = default;
};

/// An import statement. `import a.b` -> {"a.b", {}, 0}; `from ..x import y` -> {"x", {"y"}, 2}.
/// `nested`: inside a function, class or block (try/except ImportError, if TYPE_CHECKING).
struct ImportRef {
  std::string module;
  std::vector<std::string> names;
  /// `from m import a as b`: aliases[i] is names[i]'s local name, or "" when not renamed
  /// (empty, or as long as names). `import a.b as c`: alias is "c".
  std::vector<std::string> aliases;
  std::string alias;
  uint32_t level = 0;
  uint32_t line = 0;
  bool nested = false;
  friend bool operator==(const ImportRef&, const ImportRef&) = default;
};

/// The leading fields of a FileRecord: what a reader needs to decide whether the rest is
/// needed (the index decodes just these when listing tests from its test table).
struct FileRecordHead {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::array<uint8_t, 32> content_hash{};
  std::string error;
  uint32_t error_line = 0;
  std::vector<std::string> depends_on;
};

/// Everything discovery learned from one source file: what the .dxti index stores per file.
struct FileRecord {
  std::string path;  // rootdir-relative
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::array<uint8_t, 32> content_hash{};  // BLAKE3 of the bytes
  std::vector<TestCase> tests;
  std::vector<FixtureDef> fixtures;
  std::vector<ImportRef> imports;
  std::string error;  // a collection error ("SyntaxError: ..."), empty if none
  uint32_t error_line = 0;
  /// Discovery's encoded Outline of the file, opaque here: classes in other files read
  /// it to resolve base classes defined in this one.
  std::string outline;
  /// Other modules (rootdir-relative) whose outlines decided `tests`: base classes found
  /// through imports. The tests are stale when one of them changes.
  std::vector<std::string> depends_on;
  friend bool operator==(const FileRecord&, const FileRecord&) = default;
};

}  // namespace dxpy
