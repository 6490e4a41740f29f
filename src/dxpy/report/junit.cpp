#include "dxpy/report/junit.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "dxpy/util/fs.h"

namespace dxpy::report {

namespace {

// pytest's allowed set, read off its regex as Python compiles it: "\u10000-\u10ffff" is
// "\u1000", "0-\u10ff", "f", "f", so nothing above U+FFFF is allowed, and U+007F is.
bool allowed(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
}

void append_hex(std::string& out, char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, c <= 0xFF ? "#x%02X" : "#x%04X", static_cast<unsigned>(c));
  out += buf;
}

// Length of the valid UTF-8 sequence at s[i] and its code point; 0 when not valid.
size_t decode_one(std::string_view s, size_t i, char32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    cp = (char32_t{c} & 0x1F) << 6 | (b(1) & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    cp = (char32_t{c} & 0x0F) << 12 | (char32_t{b(1)} & 0x3F) << 6 | (b(2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    cp = (char32_t{c} & 0x07) << 18 | (char32_t{b(1)} & 0x3F) << 12 | (char32_t{b(2)} & 0x3F) << 6 | (b(3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

enum class Where { kNone, kAttr, kText };

// bin_xml_escape, then ElementTree's escaping for an attribute value or for text (or none).
void append_escaped(std::string& out, std::string_view s, Where where) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (where != Where::kNone) {
        switch (c) {
          case '&': out += "&amp;"; continue;
          case '<': out += "&lt;"; continue;
          case '>': out += "&gt;"; continue;
          default: break;
        }
      }
      if (where == Where::kAttr) {
        switch (c) {
          case '"': out += "&quot;"; continue;
          case '\r': out += "&#13;"; continue;
          case '\n': out += "&#10;"; continue;
          case '\t': out += "&#09;"; continue;
          default: break;
        }
      }
      if (allowed(c))
        out += static_cast<char>(c);
      else
        append_hex(out, c);
      continue;
    }
    char32_t cp = 0;
    size_t n = decode_one(s, i, cp);
    if (n == 0) {  // not UTF-8: Python's surrogateescape would make it U+DC80..U+DCFF
      append_hex(out, 0xDC00 + c);
      ++i;
      continue;
    }
    if (allowed(cp))
      out.append(s.substr(i, n));
    else
      append_hex(out, cp);
    i += n;
  }
}

void attr(std::string& out, const char* name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_escaped(out, value, Where::kAttr);
  out += '"';
}

// pytest's make_properties_node: the value is bin_xml_escape(str(value)) (the worker did the
// str()). pytest leaves the name as str(name) and ElementTree writes a forbidden character
// in it as it is, which makes the file unreadable: here the name is escaped like the value.
void append_properties(std::string& out, const std::vector<Property>& props) {
  out += "<properties>";
  for (const auto& [name, value] : props) {
    out += "<property";
    attr(out, "name", name);
    attr(out, "value", value);
    out += " />";
  }
  out += "</properties>";
}

std::string seconds3(double s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

// datetime.fromtimestamp(t, timezone.utc).astimezone().isoformat(): local time, microseconds
// unless zero, the UTC offset as +HH:MM.
std::string iso_timestamp(std::chrono::system_clock::time_point tp) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  long micro = static_cast<long>(us % 1000000);
  if (micro < 0) {
    micro += 1000000;
    --secs;
  }
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (micro) {
    std::snprintf(buf, sizeof buf, ".%06ld", micro);
    out += buf;
  }
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
  out += buf;
  if (off % 60) {
    std::snprintf(buf, sizeof buf, ":%02ld", off % 60);
    out += buf;
  }
  return out;
}

std::string hostname() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return u.nodename;
}

std::string_view strip_prefix(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p ? s.substr(p.size()) : s;
}

// The permission bits a plain open() would give a new file: 0666 less the umask, read
// without changing it (umask(2) would race other threads creating files).
mode_t file_mode() {
  mode_t mask = 022;
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      unsigned m = 0;
      if (std::sscanf(line, "Umask: %o", &m) == 1) {
        mask = static_cast<mode_t>(m);
        break;
      }
    }
    std::fclose(f);
  }
  return 0666 & ~mask;
}

Expected<void> make_dirs(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return {};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return {};
  auto parent = make_dirs(std::string(dirname(dir)));
  if (!parent) return parent;
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    return make_error(Errc::kIo, "cannot create " + dir + ": " + std::strerror(errno));
  return {};
}

// pytest's _prepare_content: the header centred in 80 columns with '-', the text, "".
void append_section(std::string& out, std::string_view header, std::string_view content) {
  size_t fill = header.size() < 80 ? 80 - header.size() : 0;
  // str.center puts the extra character on the right when the text is even-sized and the
  // fill odd... as Python: left = fill/2 + (fill & width & 1).
  size_t left = fill / 2 + (fill & 80 & 1);
  out.append(left, '-');
  out += header;
  out.append(fill - left, '-');
  out += '\n';
  out += content;
  out += '\n';
}

}  // namespace

std::optional<JunitOptions::Logging> parse_junit_logging(std::string_view v) {
  using L = JunitOptions::Logging;
  if (v == "no") return L::kNo;
  if (v == "log") return L::kLog;
  if (v == "system-out") return L::kSystemOut;
  if (v == "system-err") return L::kSystemErr;
  if (v == "out-err") return L::kOutErr;
  if (v == "all") return L::kAll;
  return std::nullopt;
}

std::string JunitReporter::captured_output(const TestResult& r) const {
  using L = JunitOptions::Logging;
  std::string out;
  if (o_.logging == L::kNo) return out;
  // How many reports pytest writes the output for (write_captured_output): the teardown
  // report unless log_passing_tests is off (it passed); a failure's call report instead when
  // it is off; a skip's own report, and the teardown's too.
  int times = 0;
  switch (r.status) {
    case TestStatus::kFailed:
    case TestStatus::kCrashed:
    case TestStatus::kTimeout:
      times = 1;
      break;
    case TestStatus::kSkipped:
      times = o_.log_passing_tests ? 2 : 1;
      break;
    default:  // passed, xpassed, xfailed, error in setup: the teardown report only
      times = o_.log_passing_tests ? 1 : 0;
  }
  bool out_too = o_.logging == L::kSystemOut || o_.logging == L::kOutErr || o_.logging == L::kAll;
  bool err_too = o_.logging == L::kSystemErr || o_.logging == L::kOutErr || o_.logging == L::kAll;
  bool log_too = o_.logging == L::kLog || o_.logging == L::kAll;
  std::string once;
  auto element = [&](const char* tag, const std::string& text) {
    once += '<';
    once += tag;
    once += '>';
    append_escaped(once, text, Where::kText);
    once += "</";
    once += tag;
    once += '>';
  };
  std::string content;
  if (log_too) append_section(content, " Captured Log ", "");
  if (out_too) {
    append_section(content, " Captured Out ", r.stdout_text);
    element("system-out", content);
    content.clear();
  }
  if (err_too) {
    append_section(content, " Captured Err ", r.stderr_text);
    element("system-err", content);
    content.clear();
  }
  if (!content.empty()) element("system-out", content);
  for (int i = 0; i < times; ++i) out += once;
  return out;
}

std::string bin_xml_escape(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  append_escaped(out, utf8, Where::kNone);
  return out;
}

JunitNames junit_names(std::string_view node_id, std::string_view prefix) {
  // path, "[", params = address.partition("["); names = path.split("::"); names[0] dotted
  // without ".py"; names[-1] gets the params back.
  size_t bracket = node_id.find('[');
  std::string_view head = node_id.substr(0, bracket);
  std::string_view params = bracket == std::string_view::npos ? std::string_view{} : node_id.substr(bracket);
  std::vector<std::string_view> names;
  for (size_t start = 0;;) {
    size_t sep = head.find("::", start);
    names.push_back(head.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
    if (sep == std::string_view::npos) break;
    start = sep + 2;
  }
  std::string first(names[0]);
  for (char& ch : first)
    if (ch == '/') ch = '.';
  if (first.size() >= 3 && first.compare(first.size() - 3, 3, ".py") == 0) first.resize(first.size() - 3);

  JunitNames out;
  out.classname = prefix;  // classnames.insert(0, prefix) when there is one
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    if (!prefix.empty() || i > 0) out.classname += '.';
    out.classname += i == 0 ? std::string_view(first) : names[i];
  }
  out.name = names.size() == 1 ? first : std::string(names.back());
  out.name += params;
  return out;
}

JunitReporter::JunitReporter(JunitOptions opts)
    : o_(std::move(opts)), timestamp_(iso_timestamp(std::chrono::system_clock::now())) {}

std::unique_ptr<JunitReporter> make_junit_reporter(JunitOptions opts) {
  return std::make_unique<JunitReporter>(std::move(opts));
}

void JunitReporter::on_session_start(const SessionInfo&) { timestamp_ = iso_timestamp(std::chrono::system_clock::now()); }

void JunitReporter::on_collected(uint64_t, const std::vector<CollectionError>& errors, uint64_t) {
  for (const auto& e : errors) add_collection_error(e);
}

void JunitReporter::add_collection_error(const CollectionError& e) {
  if (!collect_error_paths_.insert(e.path).second) return;
  JunitNames n = junit_names(e.path, o_.prefix);
  body_ += "<testcase";
  attr(body_, "classname", n.classname);
  attr(body_, "name", n.name);
  if (o_.xunit1) attr(body_, "file", e.path);
  body_ += " time=\"0.000\"><error message=\"collection failure\"";
  // str(report.longrepr): the long report, else the one-line message.
  const std::string& text = e.longrepr.empty() ? e.message : e.longrepr;
  if (text.empty()) {
    body_ += " /></testcase>";
  } else {
    body_ += '>';
    append_escaped(body_, text, Where::kText);
    body_ += "</error></testcase>";
  }
  ++errors_;
}

void JunitReporter::add_collection_skip(const std::string& path, const std::string& text) {
  if (!collect_error_paths_.insert(path).second) return;
  JunitNames n = junit_names(path, o_.prefix);
  body_ += "<testcase";
  attr(body_, "classname", n.classname);
  attr(body_, "name", n.name);
  if (o_.xunit1) attr(body_, "file", path);
  body_ += " time=\"0.000\"><skipped message=\"collection skipped\"";
  if (text.empty()) {
    body_ += " /></testcase>";
  } else {
    body_ += '>';
    append_escaped(body_, text, Where::kText);
    body_ += "</skipped></testcase>";
  }
  ++skipped_;
}

void JunitReporter::on_result(const TestCase& tc, const TestResult& r) {
  suite_properties_.insert(suite_properties_.end(), r.suite_properties.begin(), r.suite_properties.end());
  if (r.status == TestStatus::kError && r.message.compare(0, kImportErrorPrefix.size(), kImportErrorPrefix) == 0) {
    add_collection_error({r.id.path, r.message, r.traceback});
    return;
  }
  if (r.status == TestStatus::kSkipped && r.traceback.compare(0, kModuleSkipMarker.size(), kModuleSkipMarker) == 0) {
    add_collection_skip(r.id.path, r.traceback.substr(kModuleSkipMarker.size()));
    return;
  }
  std::string node_id;
  r.id.append_node_id(node_id);
  JunitNames n = junit_names(node_id, o_.prefix);
  if (is_teardown_error(r) && merge_teardown_error(n.classname, n.name, r)) return;
  bool subtest = is_subtest_failure(r);
  std::string child = element(tc, r, subtest ? subtest_traceback(r) : std::string_view(r.traceback));
  if (!subtest) child += captured_output(r);
  // record_property's pairs open the testcase, before any failure or skip in it.
  std::string props;
  if (!r.properties.empty()) append_properties(props, r.properties);
  // pytest keeps a test's testcase open from its first failed subtest on: the other failed
  // subtests and the test's own outcome go into the same element.
  std::string key = n.classname + '\n' + n.name;
  if (auto open = subtest_open_.find(key); open != subtest_open_.end()) {
    if (!subtest) subtest_open_.erase(open);
    size_t end = 0;
    size_t at = find_testcase(n.classname, n.name, &end);
    static constexpr std::string_view kClose = "</testcase>";
    if (at != std::string::npos && std::string_view(body_).substr(at, end - at).ends_with(kClose)) {
      body_.insert(end - kClose.size(), child);
      if (!props.empty()) body_.insert(body_.find('>', at) + 1, props);  // '>' is escaped in attributes
      return;
    }
  }
  if (subtest) subtest_open_.insert(std::move(key));
  body_ += "<testcase";
  attr(body_, "classname", n.classname);
  attr(body_, "name", n.name);
  if (o_.xunit1) {  // the test's location: pytest's 0-based line of its definition
    attr(body_, "file", r.id.path);
    if (tc.line > 0) attr(body_, "line", std::to_string(tc.line - 1));
  }
  attr(body_, "time", seconds3(static_cast<double>(r.duration_ns) / 1e9));
  if (child.empty() && props.empty()) {
    body_ += " />";
    return;
  }
  body_ += '>';
  body_ += props;
  body_ += child;
  body_ += "</testcase>";
}

std::string JunitReporter::element(const TestCase& tc, const TestResult& r, std::string_view traceback) {
  // One child element: tag, type (or null), message, text (empty: no text, "<x ... />").
  const char* tag = nullptr;
  const char* type = nullptr;
  std::string message;
  std::string skip_text;
  std::string_view text;  // str(report.longrepr): the traceback, else the message
  std::string_view longrepr = traceback.empty() ? std::string_view(r.message) : traceback;
  switch (r.status) {
    case TestStatus::kPassed:
    case TestStatus::kXPassed:
      ++passed_;
      break;
    case TestStatus::kFailed:
      tag = "failure";
      message = r.message;
      text = longrepr;
      break;
    case TestStatus::kCrashed:
    case TestStatus::kTimeout:
      tag = "failure";
      message = (r.status == TestStatus::kCrashed ? "[crashed] " : "[timeout] ") + r.message;
      text = longrepr;
      break;
    case TestStatus::kError:
      tag = "error";
      // The worker says "failed on teardown with ..." itself for a teardown error.
      message = is_teardown_error(r) ? r.message : "failed on setup with \"" + r.message + "\"";
      text = longrepr;
      break;
    case TestStatus::kSkipped: {
      tag = "skipped";
      type = "pytest.skip";
      message = strip_prefix(r.message, "Skipped: ");
      // pytest's longrepr of a skip is (file, line, reason): "file:line: reason".
      skip_text = (tc.file.empty() ? r.id.path : tc.file) + ":" + std::to_string(tc.line) + ": " + message;
      text = skip_text;
      break;
    }
    case TestStatus::kXFailed:
      tag = "skipped";
      type = "pytest.xfail";
      message = strip_prefix(r.message, "reason: ");
      break;
  }
  std::string out;
  if (tag == nullptr) return out;
  out += '<';
  out += tag;
  if (type) attr(out, "type", type);
  attr(out, "message", message);
  if (text.empty()) {
    out += " />";
  } else {
    out += '>';
    append_escaped(out, text, Where::kText);
    out += "</";
    out += tag;
    out += '>';
  }
  if (tag[0] == 'f')
    ++failures_;
  else if (tag[0] == 'e')
    ++errors_;
  else
    ++skipped_;
  return out;
}

size_t JunitReporter::find_testcase(const std::string& classname, const std::string& name, size_t* end) const {
  std::string probe = "<testcase";
  attr(probe, "classname", classname);
  attr(probe, "name", name);
  probe += ' ';  // the time attribute follows: test_x does not match test_x2
  // The test's earlier result came just before, give or take the other workers' results.
  size_t at = body_.rfind(probe);
  if (at == std::string::npos) return at;
  size_t next = body_.find("<testcase", at + probe.size());
  *end = next == std::string::npos ? body_.size() : next;
  return at;
}

bool JunitReporter::merge_teardown_error(const std::string& classname, const std::string& name, const TestResult& r) {
  size_t end = 0;
  size_t at = find_testcase(classname, name, &end);
  if (at == std::string::npos) return false;
  std::string_view testcase(body_.data() + at, end - at);
  static constexpr std::string_view kSelfClosed = " />", kClose = "</testcase>";
  if (testcase.find("<failure") != std::string_view::npos || testcase.find("<error") != std::string_view::npos)
    return false;  // pytest closes a failed test's testcase: the error gets its own
  std::string child = element({}, r, r.traceback);
  if (testcase.ends_with(kSelfClosed)) {
    body_.replace(end - kSelfClosed.size(), kSelfClosed.size(), ">" + child + std::string(kClose));
  } else if (testcase.ends_with(kClose)) {
    body_.insert(end - kClose.size(), child);
  } else {
    --errors_;  // counted by element(): not written after all
    return false;
  }
  return true;
}

std::string JunitReporter::document(double seconds) const {
  std::string out;
  out.reserve(body_.size() + 512);
  out += "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites name=\"pytest tests\"><testsuite";
  attr(out, "name", o_.suite_name);
  attr(out, "errors", std::to_string(errors_));
  attr(out, "failures", std::to_string(failures_));
  attr(out, "skipped", std::to_string(skipped_));
  attr(out, "tests", std::to_string(passed_ + failures_ + skipped_ + errors_));
  attr(out, "time", seconds3(seconds));
  attr(out, "timestamp", timestamp_);
  attr(out, "hostname", hostname());
  if (body_.empty() && suite_properties_.empty()) {
    out += " />";
  } else {
    out += '>';
    if (!suite_properties_.empty()) append_properties(out, suite_properties_);
    out += body_;
    out += "</testsuite>";
  }
  out += "</testsuites>";
  return out;
}

void JunitReporter::on_session_end(const Summary& s) {
  std::string doc = document(s.seconds);
  auto dirs = make_dirs(std::string(dirname(o_.path)));
  if (!dirs) {
    write_error_ = dirs.error();
    return;
  }
  auto written = write_file_atomic(o_.path, doc);
  if (!written) {
    write_error_ = written.error();
    return;
  }
  ::chmod(o_.path.c_str(), file_mode());  // the temp file was made 0600
}

}  // namespace dxpy::report
