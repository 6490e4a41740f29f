// Property 19 (JUnit XML Validity): over random results whose names, messages, tracebacks,
// captured output and properties hold hostile strings (control characters, "]]>", markup,
// bytes that are not UTF-8, encoded surrogates, characters above U+FFFF), the report is
// well-formed XML (expat reads it back), and every text reads back as pytest's
// bin_xml_escape of the original (with XML's line-end normalization of element text, which
// pytest's own file gets from every reader too).
#include <expat.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "dxpy/report/junit.h"

namespace dxpy::report {
namespace {

namespace gen = rc::gen;

rc::Gen<std::string> hostile() {
  static const std::vector<std::string> pieces = {
      "a", "test", " ", "\t", "\n", "\r", "\r\n", "\x01", "\x08", "\x0b", "\x1f", "\x7f", "]]>", "<", ">", "&",
      "&amp;", "\"", "'", "<![CDATA[", "-->", "\xff", "\xc3", "\xc3\xa9", "\xed\xa0\x80", "\xef\xbf\xbe",
      "\xf0\x9f\x98\x80", "\xe2\x82", "#x07", std::string(1, '\0')};
  return gen::map(gen::container<std::vector<std::string>>(gen::elementOf(pieces)), [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& p : v) s += p;
    return s;
  });
}

// What a reader gives back for element text: \r\n and a lone \r become \n.
std::string normalized(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string section(const char* header, const std::string& text) {
  std::string h = header;
  size_t fill = 80 - h.size(), left = fill / 2 + (fill & 80 & 1);
  return std::string(left, '-') + h + std::string(fill - left, '-') + "\n" + text + "\n";
}

struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;
  int depth = 0;
};

struct Parsed {
  bool ok = false;
  std::string error;
  std::vector<Element> elements;  // in document order
  std::vector<size_t> open;
};

Parsed parse(const std::string& doc) {
  Parsed p;
  XML_Parser x = XML_ParserCreate(nullptr);
  XML_SetUserData(x, &p);
  XML_SetElementHandler(
      x,
      [](void* d, const XML_Char* name, const XML_Char** atts) {
        auto* p = static_cast<Parsed*>(d);
        Element e;
        e.name = name;
        e.depth = static_cast<int>(p->open.size());
        for (size_t i = 0; atts[i]; i += 2) e.attrs[atts[i]] = atts[i + 1];
        p->open.push_back(p->elements.size());
        p->elements.push_back(std::move(e));
      },
      [](void* d, const XML_Char*) { static_cast<Parsed*>(d)->open.pop_back(); });
  XML_SetCharacterDataHandler(x, [](void* d, const XML_Char* s, int len) {
    auto* p = static_cast<Parsed*>(d);
    p->elements[p->open.back()].text.append(s, static_cast<size_t>(len));
  });
  p.ok = XML_Parse(x, doc.data(), static_cast<int>(doc.size()), 1) == XML_STATUS_OK;
  if (!p.ok) p.error = XML_ErrorString(XML_GetErrorCode(x));
  XML_ParserFree(x);
  return p;
}

const Element* child(const Parsed& p, size_t testcase, const std::string& name, int nth = 0) {
  for (size_t i = testcase + 1; i < p.elements.size() && p.elements[i].depth > p.elements[testcase].depth; ++i)
    if (p.elements[i].name == name && p.elements[i].depth == p.elements[testcase].depth + 1 && nth-- == 0)
      return &p.elements[i];
  return nullptr;
}

RC_GTEST_PROP(JunitXml, AlwaysWellFormedAndTextReadsBackAsPytestEscapesIt, ()) {
  JunitOptions o;
  o.path = "unused.xml";
  o.suite_name = *hostile();
  o.logging = JunitOptions::Logging::kOutErr;
  JunitReporter j(o);
  struct Sent {
    TestResult r;
    TestCase tc;
  };
  std::vector<Sent> sent;
  int n = *gen::inRange(0, 6);
  for (int i = 0; i < n; ++i) {
    Sent s;
    // A unique, well-formed node id whose function name and parameter are hostile.
    s.r.id.path = "tests/test_" + std::to_string(i) + ".py";
    s.r.id.name = "test_" + *hostile();
    s.r.id.param = *hostile();
    for (char& c : s.r.id.name)
      if (c == '[' || c == ':') c = '_';  // these would make another node id
    s.r.status = *gen::elementOf(std::vector<TestStatus>{TestStatus::kPassed, TestStatus::kFailed, TestStatus::kSkipped,
                                                         TestStatus::kXFailed, TestStatus::kCrashed, TestStatus::kError});
    s.r.message = "m" + *hostile();  // "m": never one of the worker's marker prefixes
    s.r.traceback = *gen::element(std::string(), "t" + *hostile());
    s.r.stdout_text = *hostile();
    s.r.stderr_text = *hostile();
    s.r.duration_ns = *gen::inRange<uint64_t>(0, 5'000'000'000);
    if (*gen::arbitrary<bool>()) s.r.properties = {{*hostile(), *hostile()}};
    s.tc.file = s.r.id.path;
    s.tc.line = 3;
    j.on_result(s.tc, s.r);
    sent.push_back(std::move(s));
  }
  std::string doc = j.document(1.5);
  Parsed p = parse(doc);
  RC_ASSERT(p.ok);
  RC_ASSERT(p.elements.size() >= 2u);
  RC_ASSERT(p.elements[1].name == "testsuite");
  RC_ASSERT(p.elements[1].attrs.at("name") == bin_xml_escape(o.suite_name));
  RC_ASSERT(p.elements[1].attrs.at("tests") == std::to_string(sent.size()));

  std::vector<size_t> testcases;
  for (size_t i = 0; i < p.elements.size(); ++i)
    if (p.elements[i].name == "testcase") testcases.push_back(i);
  RC_ASSERT(testcases.size() == sent.size());
  for (size_t k = 0; k < sent.size(); ++k) {
    const TestResult& r = sent[k].r;
    const Element& tc = p.elements[testcases[k]];
    JunitNames names = junit_names(r.id.node_id());
    RC_ASSERT(tc.attrs.at("classname") == bin_xml_escape(names.classname));
    RC_ASSERT(tc.attrs.at("name") == bin_xml_escape(names.name));
    std::string longrepr = r.traceback.empty() ? r.message : r.traceback;
    const Element* e = nullptr;
    switch (r.status) {
      case TestStatus::kFailed:
      case TestStatus::kCrashed:
        e = child(p, testcases[k], "failure");
        RC_ASSERT(e != nullptr);
        RC_ASSERT(e->attrs.at("message") ==
                  bin_xml_escape((r.status == TestStatus::kCrashed ? "[crashed] " : "") + r.message));
        RC_ASSERT(e->text == normalized(bin_xml_escape(longrepr)));
        break;
      case TestStatus::kError:
        e = child(p, testcases[k], "error");
        RC_ASSERT(e != nullptr);
        RC_ASSERT(e->attrs.at("message") == bin_xml_escape("failed on setup with \"" + r.message + "\""));
        RC_ASSERT(e->text == normalized(bin_xml_escape(longrepr)));
        break;
      case TestStatus::kSkipped:
        e = child(p, testcases[k], "skipped");
        RC_ASSERT(e != nullptr);
        RC_ASSERT(e->attrs.at("message") == bin_xml_escape(r.message));
        RC_ASSERT(e->text == normalized(bin_xml_escape(r.id.path + ":3: " + r.message)));
        break;
      case TestStatus::kXFailed:
        e = child(p, testcases[k], "skipped");
        RC_ASSERT(e != nullptr);
        RC_ASSERT(e->attrs.at("type") == std::string("pytest.xfail"));
        RC_ASSERT(e->attrs.at("message") == bin_xml_escape(r.message));
        break;
      default:
        RC_ASSERT(child(p, testcases[k], "failure") == nullptr);
    }
    const Element* out = child(p, testcases[k], "system-out");
    const Element* err = child(p, testcases[k], "system-err");
    RC_ASSERT(out != nullptr);
    RC_ASSERT(err != nullptr);
    RC_ASSERT(out->text == normalized(bin_xml_escape(section(" Captured Out ", r.stdout_text))));
    RC_ASSERT(err->text == normalized(bin_xml_escape(section(" Captured Err ", r.stderr_text))));
    if (!r.properties.empty()) {
      const Element* props = child(p, testcases[k], "properties");
      RC_ASSERT(props != nullptr);
      const Element& prop = *(props + 1);
      RC_ASSERT(prop.name == std::string("property"));
      RC_ASSERT(prop.attrs.at("name") == bin_xml_escape(r.properties[0].first));
      RC_ASSERT(prop.attrs.at("value") == bin_xml_escape(r.properties[0].second));
    }
  }
}

}  // namespace
}  // namespace dxpy::report
