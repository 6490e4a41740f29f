// Property 1 (Test Function Detection): over generated modules, the collected node ids are
// exactly the test functions and the test methods of collectable test classes, in pytest's
// order, with their markers.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "dxpy/discovery/rules.h"
#include "dxpy/discovery/ts_outline.h"

namespace dxpy::discovery {
namespace {

struct Fn {
  std::string name;
  bool is_async = false;
  bool fixture = false;
  bool marked = false;
};
struct Cls {
  std::string name;
  bool has_init = false;
  bool test_false = false;
  std::vector<Fn> methods;
};

rc::Gen<std::string> name_gen(std::vector<std::string> prefixes) {
  return rc::gen::apply([](std::string p, int n) { return p + std::to_string(n); }, rc::gen::elementOf(prefixes),
                        rc::gen::inRange(0, 1000));
}

rc::Gen<Fn> fn_gen() {
  return rc::gen::build<Fn>(rc::gen::set(&Fn::name, name_gen({"test_", "test", "helper_", "tst_", "_test_", "check_"})),
                            rc::gen::set(&Fn::is_async), rc::gen::set(&Fn::fixture), rc::gen::set(&Fn::marked));
}

rc::Gen<Cls> cls_gen() {
  return rc::gen::build<Cls>(rc::gen::set(&Cls::name, name_gen({"Test", "TestCase", "Helper", "Tests", "MyTest"})),
                             rc::gen::set(&Cls::has_init), rc::gen::set(&Cls::test_false),
                             rc::gen::set(&Cls::methods, rc::gen::container<std::vector<Fn>>(fn_gen())));
}

void emit_fn(std::string& src, const Fn& f, const std::string& indent, bool method) {
  if (f.fixture) src += indent + "@pytest.fixture\n";
  if (f.marked) src += indent + "@pytest.mark.slow\n";
  src += indent + (f.is_async ? "async def " : "def ") + f.name + (method ? "(self):\n" : "():\n");
  src += indent + "    \"\"\"def test_not_this(): a docstring\"\"\"\n" + indent + "    return 1  # class TestNo:\n";
}

bool is_test_name(const std::string& n) { return n.rfind("test", 0) == 0; }

RC_GTEST_PROP(Rules, DetectsExactlyTheTestFunctions, ()) {
  auto fns = *rc::gen::container<std::vector<Fn>>(fn_gen());
  auto classes = *rc::gen::container<std::vector<Cls>>(cls_gen());
  std::string src = "import pytest\n\n";
  std::vector<std::string> expected;
  std::set<std::string> used;
  for (const auto& f : fns) {
    if (!used.insert(f.name).second) continue;  // one definition per name
    emit_fn(src, f, "", false);
    if (is_test_name(f.name) && !f.fixture) expected.push_back("t/test_m.py::" + f.name);
  }
  for (const auto& c : classes) {
    if (!used.insert(c.name).second) continue;
    src += "class " + c.name + ":\n";
    if (c.test_false) src += "    __test__ = False\n";
    if (c.has_init) src += "    def __init__(self):\n        pass\n";
    std::set<std::string> mused;
    bool collectable = c.name.rfind("Test", 0) == 0 && !c.has_init && !c.test_false;
    for (const auto& m : c.methods) {
      if (m.name == "__init__" || !mused.insert(m.name).second) continue;
      emit_fn(src, m, "    ", true);
      if (collectable && is_test_name(m.name) && !m.fixture) expected.push_back("t/test_m.py::" + c.name + "::" + m.name);
    }
    src += "    x = 1\n";
  }
  FileRecord rec;
  rec.path = "t/test_m.py";
  apply_rules(outline_with_tree_sitter(src), NameRules{}, rec);
  std::vector<std::string> got;
  for (const auto& t : rec.tests) got.push_back(t.id.node_id());
  RC_ASSERT(rec.error.empty());
  RC_ASSERT(got == expected);
  for (const auto& t : rec.tests) RC_ASSERT(t.markers.size() <= 1u);
}

TEST(Rules, InheritedMethodsComeFirstAndOverridesHide) {
  const char* src = R"(
class Base:
    def test_a(self): pass
    def test_b(self): pass

class TestChild(Base):
    def test_c(self): pass
    def test_a(self): pass
)";
  FileRecord rec;
  rec.path = "test_i.py";
  apply_rules(outline_with_tree_sitter(src), NameRules{}, rec);
  std::vector<std::string> got;
  for (const auto& t : rec.tests) got.push_back(t.id.node_id());
  EXPECT_EQ(got, (std::vector<std::string>{"test_i.py::TestChild::test_b", "test_i.py::TestChild::test_c",
                                           "test_i.py::TestChild::test_a"}));
}

TEST(Rules, UnittestMethodsAreSortedAndNamesDoNotMatter) {
  const char* src = R"(
import unittest
class Checks(unittest.TestCase):
    def test_z(self): pass
    def test_a(self): pass
    def helper(self): pass
)";
  FileRecord rec;
  rec.path = "test_u.py";
  apply_rules(outline_with_tree_sitter(src), NameRules{}, rec);
  ASSERT_EQ(rec.tests.size(), 2u);
  EXPECT_EQ(rec.tests[0].id.node_id(), "test_u.py::Checks::test_a");
  EXPECT_EQ(rec.tests[0].kind, TestKind::kUnittest);
}

TEST(Rules, ParametrizeExpandsLiteralsWithPytestIds) {
  const char* src = R"(
import pytest
@pytest.mark.parametrize("x", [1, 2])
@pytest.mark.parametrize("y, z", [("a", 1.5), pytest.param("b", None, id="custom"), ([1], 0)])
def test_p(x, y, z): pass

@pytest.mark.parametrize("v", ["a", "a", "b"])
def test_dup(v): pass

@pytest.mark.parametrize("v", ["a", "a", "a0"])
def test_dup_collides(v): pass

@pytest.mark.parametrize("v", [1, 1])
def test_dup_digit(v): pass

@pytest.mark.parametrize("v", make_values())
def test_dynamic(v): pass
)";
  FileRecord rec;
  rec.path = "test_p.py";
  apply_rules(outline_with_tree_sitter(src), NameRules{}, rec);
  std::vector<std::string> got;
  for (const auto& t : rec.tests) got.push_back(t.id.node_id());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "test_p.py::test_p[a-1.5-1]", "test_p.py::test_p[a-1.5-2]", "test_p.py::test_p[custom-1]",
                     "test_p.py::test_p[custom-2]", "test_p.py::test_p[y2-0-1]", "test_p.py::test_p[y2-0-2]",
                     "test_p.py::test_dup[a0]", "test_p.py::test_dup[a1]", "test_p.py::test_dup[b]",
                     // pytest 7 and 8 make these unique differently: the worker, which knows
                     // the installed pytest, expands them.
                     "test_p.py::test_dup_collides", "test_p.py::test_dup_digit", "test_p.py::test_dynamic"}));
  for (size_t i = rec.tests.size() - 3; i < rec.tests.size(); ++i) EXPECT_TRUE(rec.tests[i].expand_at_runtime);
}

// Empty ids are ids: pytest names these tests exactly so (checked with pytest 9).
TEST(Rules, EmptyParametrizeIdsKeepTheirBrackets) {
  const char* src = R"(
import pytest
@pytest.mark.parametrize("x", [""])
def test_e(x): pass

@pytest.mark.parametrize("a", [1])
@pytest.mark.parametrize("b", [""])
def test_stack(a, b): pass

@pytest.mark.parametrize("v", ["", ""])
def test_dup(v): pass

@pytest.mark.parametrize("v", [1], ids=[""])
def test_ids(v): pass

@pytest.mark.parametrize("v", [pytest.param(1, id="")])
def test_param_id(v): pass

@pytest.mark.parametrize("a,b", [("", "")])
def test_two(a, b): pass
)";
  FileRecord rec;
  rec.path = "test_e.py";
  apply_rules(outline_with_tree_sitter(src), NameRules{}, rec);
  std::vector<std::string> got;
  for (const auto& t : rec.tests) got.push_back(t.id.node_id());
  EXPECT_EQ(got, (std::vector<std::string>{"test_e.py::test_e[]", "test_e.py::test_stack[-1]", "test_e.py::test_dup[0]",
                                           "test_e.py::test_dup[1]", "test_e.py::test_ids[]",
                                           "test_e.py::test_param_id[]", "test_e.py::test_two[-]"}));
  ASSERT_FALSE(rec.tests.empty());
  EXPECT_EQ(rec.tests[0].id.param, std::optional<std::string>(""));
}

TEST(Rules, FixturesAreRecordedNotCollected) {
  const char* src = R"(
import pytest
@pytest.fixture(scope="module", autouse=True, params=[1, 2])
def test_resource(request): return 1
)";
  FileRecord rec;
  rec.path = "conftest.py";
  apply_rules(outline_with_tree_sitter(src), NameRules{}, rec);
  EXPECT_TRUE(rec.tests.empty());
  ASSERT_EQ(rec.fixtures.size(), 1u);
  EXPECT_EQ(rec.fixtures[0].id.name, "test_resource");
  EXPECT_EQ(rec.fixtures[0].scope, FixtureScope::kModule);
  EXPECT_TRUE(rec.fixtures[0].autouse);
  EXPECT_EQ(rec.fixtures[0].params, "[1, 2]");
  EXPECT_EQ(rec.fixtures[0].requests, std::vector<std::string>{"request"});
}

TEST(Rules, ModuleTestFalseAndPytestmark) {
  FileRecord rec;
  rec.path = "test_m.py";
  apply_rules(outline_with_tree_sitter("__test__ = False\ndef test_a(): pass\n"), NameRules{}, rec);
  EXPECT_TRUE(rec.tests.empty());
  apply_rules(outline_with_tree_sitter("import pytest\npytestmark = [pytest.mark.a, pytest.mark.b(1)]\n"
                                       "@pytest.mark.c\ndef test_a(): pass\n"),
              NameRules{}, rec);
  ASSERT_EQ(rec.tests.size(), 1u);
  std::vector<std::string> names;
  for (const auto& m : rec.tests[0].markers) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"c", "a", "b"}));
}

}  // namespace
}  // namespace dxpy::discovery
