#include "dxpy/discovery/collector.h"

#include <gtest/gtest.h>
#include <tree_sitter/api.h>

#include "dxpy/discovery/outline_codec.h"
#include "dxpy/discovery/rules.h"
#include "dxpy/discovery/scanner.h"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace dxpy::discovery {
namespace {

FileRecord collect_module(std::string_view src, const std::string& rel, const std::string& /*abs*/) {
  FileRecord rec;
  rec.path = rel;
  describe_source(src, NameRules{}, rec);
  return rec;
}

std::vector<std::string> ids(const FileRecord& m) {
  std::vector<std::string> out;
  for (const auto& t : m.tests) out.push_back(t.id.node_id());
  return out;
}

TEST(Grammar, AbiIsWithinTheRuntimesRange) {
  uint32_t abi = ts_language_version(tree_sitter_python());
  EXPECT_GE(abi, static_cast<uint32_t>(TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION));
  EXPECT_LE(abi, static_cast<uint32_t>(TREE_SITTER_LANGUAGE_VERSION));
}

TEST(Collect, FunctionsClassesAndUnittest) {
  const char* src = R"(
import pytest, unittest

def helper(): pass

def test_one(): assert True

async def test_async(tmp_path): pass

class TestThing:
    def test_a(self, x): pass
    def helper(self): pass
    class TestInner:
        def test_b(self): pass

class TestWithInit:
    def __init__(self): pass
    def test_never(self): pass

class Cases(unittest.TestCase):
    def test_u(self): pass
)";
  auto m = collect_module(src, "tests/test_x.py", "/r/tests/test_x.py");
  EXPECT_TRUE(m.error.empty());
  EXPECT_EQ(ids(m), (std::vector<std::string>{
                        "tests/test_x.py::test_one", "tests/test_x.py::test_async",
                        "tests/test_x.py::TestThing::test_a", "tests/test_x.py::TestThing::TestInner::test_b",
                        "tests/test_x.py::Cases::test_u"}));
  EXPECT_TRUE(m.tests[1].is_async);
  EXPECT_EQ(m.tests[1].fixtures, std::vector<std::string>{"tmp_path"});
  EXPECT_EQ(m.tests[2].fixtures, std::vector<std::string>{"x"});
  EXPECT_EQ(m.tests[0].line, 6u);
  EXPECT_EQ(m.tests[4].kind, TestKind::kUnittest);
}

// The compact form differs only in the tests' paths, and the Outline a thread reuses
// from file to file carries nothing over.
TEST(Collect, CompactRecordsAndReusedOutlines) {
  const char* a = R"(
import pytest

pytestmark = pytest.mark.slow

@pytest.fixture
def db(): pass

@pytest.mark.parametrize("x", [1, 2])
def test_p(x, db): pass

class TestC:
    def test_m(self): pass
)";
  const char* b = "def test_only(): pass\n";
  const char* broken = "def test_x(:\n  pass\n";
  for (const char* src : {a, b, broken, a, b}) {
    FileRecord full = collect_module(src, "t/test_a.py", "");
    FileRecord compact;
    compact.path = "t/test_a.py";
    describe_source_compact(src, NameRules{}, compact);
    for (const auto& t : compact.tests) EXPECT_TRUE(t.id.path.empty());
    for (auto& t : compact.tests) t.id.path = compact.path;
    EXPECT_EQ(compact, full);
    FileRecord fresh;
    fresh.path = "t/test_a.py";
    apply_rules(scan_outline(src), NameRules{}, fresh);
    fresh.outline = full.outline;
    EXPECT_EQ(fresh, full);
  }
  Outline reused;
  scan_outline_into(a, reused);
  scan_outline_into(b, reused);
  EXPECT_EQ(reused, scan_outline(b));
  scan_outline_into(broken, reused);
  EXPECT_EQ(reused, scan_outline(broken));
  scan_outline_into(a, reused);
  EXPECT_EQ(reused, scan_outline(a));
}

// A record keeps its module's whole outline when the module defines a class (its classes
// may be bases of other files' classes, or have bases elsewhere), else the outline without
// its defs: other files only look for classes in it, then follow its imports.
TEST(Collect, RecordOutlineDropsTheDefsOfAModuleWithoutClasses) {
  const char* functions = R"(
from .base import TestBase as Base
import helpers
X = 1

def test_a(): pass

@pytest.mark.slow
async def test_b(x): pass
)";
  const char* with_class = "def test_a(): pass\n\nclass TestC(Base):\n    def test_m(self): pass\n";
  const char* conditional = "import sys\nif sys.platform:\n    class TestC:\n        def test_m(self): pass\n";
  const char* broken = "def test_x(:\n  pass\n";
  for (const char* src : {functions, with_class, conditional, broken}) {
    const Outline whole = scan_outline(src);
    FileRecord rec;
    rec.path = "t/test_a.py";
    describe_source(src, NameRules{}, rec);
    auto stored = decode_outline(rec.outline);
    ASSERT_TRUE(stored) << src;
    Outline want = whole;
    bool has_class = false;
    for (const Def& d : whole.defs) has_class |= d.kind == DefKind::kClass;
    if (!has_class) want.defs.clear();
    EXPECT_EQ(*stored, want) << src;
    EXPECT_EQ(rec.outline, encode_outline_for_record(whole));
  }
  FileRecord rec;
  rec.path = "t/test_a.py";
  describe_source(functions, NameRules{}, rec);
  auto stored = decode_outline(rec.outline);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->defs.empty());
  EXPECT_EQ(stored->imports.size(), 2u);
  EXPECT_EQ(stored->assignments.size(), 1u);
  EXPECT_LT(rec.outline.size(), encode_outline(scan_outline(functions)).size());
  EXPECT_EQ(ids(rec), (std::vector<std::string>{"t/test_a.py::test_a", "t/test_a.py::test_b"}));
}

TEST(Collect, Markers) {
  const char* src = R"(
import pytest
@pytest.mark.skipif(sys.platform == "win32", reason="posix only")
@pytest.mark.slow
def test_m(): pass
)";
  auto m = collect_module(src, "t_test.py", "/t_test.py");
  ASSERT_EQ(m.tests.size(), 1u);
  const auto& mk = m.tests[0].markers;
  ASSERT_EQ(mk.size(), 2u);
  // pytest's order: the decorator nearest the def first.
  EXPECT_EQ(mk[0].name, "slow");
  EXPECT_EQ(mk[1].name, "skipif");
  EXPECT_EQ(mk[1].args, std::vector<std::string>{"sys.platform == \"win32\""});
  ASSERT_EQ(mk[1].kwargs.size(), 1u);
  EXPECT_EQ(mk[1].kwargs[0].first, "reason");
}

TEST(Collect, SyntaxErrorIsACollectErrorWithItsLine) {
  auto m = collect_module("def test_ok():\n    pass\n\ndef test_bad(:\n    pass\n", "test_s.py", "/test_s.py");
  ASSERT_FALSE(m.error.empty());
  EXPECT_EQ(m.error_line, 4u);
  EXPECT_TRUE(m.tests.empty());
}

TEST(Files, TestFileNames) {
  EXPECT_TRUE(is_test_file_name("test_a.py"));
  EXPECT_TRUE(is_test_file_name("a_test.py"));
  EXPECT_FALSE(is_test_file_name("testa.py"));
  EXPECT_FALSE(is_test_file_name("test_a.pyc"));
  EXPECT_TRUE(is_test_file_name("_test.py"));  // fnmatch("*_test.py") matches it too
}

}  // namespace
}  // namespace dxpy::discovery
