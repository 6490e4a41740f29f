#include "dxpy/report/junit_merge.h"

#include <expat.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>

namespace dxpy::report {

namespace {

struct Suite {
  std::string name, timestamp, hostname;
  uint64_t tests = 0, errors = 0, failures = 0, skipped = 0;
  double time = 0;
};

// What one input contributes, gathered by expat's callbacks.
struct Reader {
  std::string_view text;
  XML_Parser parser = nullptr;
  int depth = 0;
  int suite_depth = -1;       // depth of the <testsuite> being read; -1: none open
  int properties_depth = -1;  // depth of a suite's <properties>
  size_t child_start = 0, start_tag_end = 0;
  std::vector<Suite> suites;
  std::vector<std::string> properties;  // raw <property .../> elements
  std::string body;                     // raw testcases (and other suite children)
  std::string error;
};

const char* attr_of(const XML_Char** atts, const char* name) {
  for (size_t i = 0; atts[i]; i += 2)
    if (std::strcmp(atts[i], name) == 0) return atts[i + 1];
  return nullptr;
}

bool count(const char* v, uint64_t& out) {
  if (!v) return true;  // skipped is optional
  size_t n = std::strlen(v);
  auto [end, ec] = std::from_chars(v, v + n, out);
  return ec == std::errc{} && end == v + n;
}

void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** atts) {
  auto* r = static_cast<Reader*>(data);
  size_t at = static_cast<size_t>(XML_GetCurrentByteIndex(r->parser));
  size_t len = static_cast<size_t>(XML_GetCurrentByteCount(r->parser));
  ++r->depth;
  if (!r->error.empty()) return;
  bool root = r->depth == 1;
  if (root && std::strcmp(name, "testsuites") != 0 && std::strcmp(name, "testsuite") != 0) {
    r->error = std::string("the root element is <") + name + ">, not <testsuites> or <testsuite>";
    return;
  }
  if (std::strcmp(name, "testsuite") == 0 && r->suite_depth < 0 && r->depth <= 2) {
    Suite s;
    if (const char* v = attr_of(atts, "name")) s.name = v;
    if (const char* v = attr_of(atts, "timestamp")) s.timestamp = v;
    if (const char* v = attr_of(atts, "hostname")) s.hostname = v;
    if (!count(attr_of(atts, "tests"), s.tests) || !count(attr_of(atts, "errors"), s.errors) ||
        !count(attr_of(atts, "failures"), s.failures) || !count(attr_of(atts, "skipped"), s.skipped)) {
      r->error = "a <testsuite> count (tests, errors, failures, skipped) is not a whole number";
      return;
    }
    if (const char* v = attr_of(atts, "time")) {
      // The SUREFIRE_TIME pattern allows thousands separators: "1,234.5".
      std::string t;
      for (const char* p = v; *p; ++p)
        if (*p != ',') t += *p;
      double secs = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), secs);
      if (ec != std::errc{} || end != t.data() + t.size() || !(secs >= 0)) {
        r->error = std::string("the <testsuite> time \"") + v + "\" is not a number of seconds";
        return;
      }
      s.time = secs;
    }
    r->suites.push_back(std::move(s));
    r->suite_depth = r->depth;
    return;
  }
  if (r->suite_depth < 0) return;
  if (r->depth == r->suite_depth + 1) {
    if (std::strcmp(name, "properties") == 0) {
      r->properties_depth = r->depth;
      return;
    }
    r->child_start = at;
    r->start_tag_end = at + len;
  } else if (r->properties_depth >= 0 && r->depth == r->properties_depth + 1) {
    r->child_start = at;
    r->start_tag_end = at + len;
  }
}

void XMLCALL on_end(void* data, const XML_Char* name) {
  auto* r = static_cast<Reader*>(data);
  size_t at = static_cast<size_t>(XML_GetCurrentByteIndex(r->parser));
  size_t len = static_cast<size_t>(XML_GetCurrentByteCount(r->parser));
  int depth = r->depth--;
  if (!r->error.empty() || r->suite_depth < 0) return;
  // An empty element (<x/>) ends where its start tag ends: expat gives no bytes for it.
  size_t end = len == 0 ? r->start_tag_end : at + len;
  if (depth == r->suite_depth) {
    r->suite_depth = -1;
  } else if (depth == r->properties_depth) {
    r->properties_depth = -1;
  } else if (r->properties_depth >= 0 && depth == r->properties_depth + 1) {
    if (std::strcmp(name, "property") == 0) r->properties.emplace_back(r->text.substr(r->child_start, end - r->child_start));
  } else if (r->properties_depth < 0 && depth == r->suite_depth + 1) {
    r->body.append(r->text.substr(r->child_start, end - r->child_start));
  }
}

void attr(std::string& out, const char* name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  for (char c : value) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#09;"; break;
      default: out += c;
    }
  }
  out += '"';
}

}  // namespace

Expected<std::string> merge_junit(const std::vector<JunitInput>& inputs) {
  Suite total;
  bool named = false;
  std::vector<std::string> properties;
  std::set<std::string> seen_properties;
  std::string body;
  for (const auto& in : inputs) {
    Reader r;
    r.text = in.text;
    XML_Parser p = XML_ParserCreate(nullptr);
    if (!p) return make_error(Errc::kInternal, "out of memory");
    r.parser = p;
    XML_SetUserData(p, &r);
    XML_SetElementHandler(p, on_start, on_end);
    bool ok = XML_Parse(p, in.text.data(), static_cast<int>(in.text.size()), 1) == XML_STATUS_OK;
    std::string why = ok ? r.error : XML_ErrorString(XML_GetErrorCode(p));
    unsigned long line = XML_GetCurrentLineNumber(p);
    XML_ParserFree(p);
    if (!ok || !r.error.empty())
      return make_error(Errc::kParse, in.name + ":" + std::to_string(line) + ": " + why);
    if (r.suites.empty()) return make_error(Errc::kParse, in.name + ": no <testsuite> in it");
    for (const Suite& s : r.suites) {
      total.tests += s.tests;
      total.errors += s.errors;
      total.failures += s.failures;
      total.skipped += s.skipped;
      total.time += s.time;
      if (!named && !s.name.empty()) {
        total.name = s.name;
        named = true;
      }
      if (!s.timestamp.empty() && (total.timestamp.empty() || s.timestamp < total.timestamp)) total.timestamp = s.timestamp;
      if (total.hostname.empty()) total.hostname = s.hostname;
    }
    for (auto& prop : r.properties)
      if (seen_properties.insert(prop).second) properties.push_back(std::move(prop));
    body += r.body;
  }
  if (!named) total.name = "pytest";
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites name=\"pytest tests\"><testsuite";
  attr(out, "name", total.name);
  attr(out, "errors", std::to_string(total.errors));
  attr(out, "failures", std::to_string(total.failures));
  attr(out, "skipped", std::to_string(total.skipped));
  attr(out, "tests", std::to_string(total.tests));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", total.time);
  attr(out, "time", buf);
  if (!total.timestamp.empty()) attr(out, "timestamp", total.timestamp);
  if (!total.hostname.empty()) attr(out, "hostname", total.hostname);
  if (properties.empty() && body.empty()) {
    out += " /></testsuites>";
    return out;
  }
  out += '>';
  if (!properties.empty()) {
    out += "<properties>";
    for (const auto& prop : properties) out += prop;
    out += "</properties>";
  }
  out += body;
  out += "</testsuite></testsuites>";
  return out;
}

}  // namespace dxpy::report
