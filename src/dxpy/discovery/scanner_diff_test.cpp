// The differential test: scan_outline against outline_with_tree_sitter on every *.py file
// under DXPY_DIFF_ROOTS (colon-separated folders; default: the configured Python's
// site-packages), test files first. Any difference fails.
//
// Where exactly one front end reports a syntax error, CPython (ast.parse, the interpreter in
// DXPY_DIFF_PYTHON or the one CMake found) decides, and every such file is listed:
//   tree-sitter rejects, CPython parses   -> an oracle bug: excluded from the comparison;
//   tree-sitter rejects, CPython rejects  -> invalid Python the scanner lets through: allowed;
//   scanner rejects, CPython parses       -> a scanner bug: fails;
//   scanner rejects, CPython rejects      -> the scanner is stricter (indentation): allowed.
// The test files of the suites in DXPY_DIFF_SUITES (default: toolz, simplejson, mpmath,
// networkx), when present, must all agree with no exclusion at all.
//
// It also prints each front end's single-core throughput over the files read from memory.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "dxpy/util/test_command.h"
#include "dxpy/util/text.h"
#include "dxpy/discovery/scanner.h"
#include "dxpy/discovery/ts_outline.h"
#include "dxpy/util/fs.h"

#ifndef DXPY_PYTHON
#define DXPY_PYTHON "python3"
#endif

namespace dxpy::discovery {
namespace {

using testing::run_command;
using testing::shell_quote;

std::string python() {
  const char* p = std::getenv("DXPY_DIFF_PYTHON");
  return p && *p ? p : DXPY_PYTHON;
}


std::vector<std::string> roots() {
  if (const char* env = std::getenv("DXPY_DIFF_ROOTS")) return split_nonempty(env, ':');
  std::string out;
  if (!run_command(shell_quote(python()) + " -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])' 2>/dev/null",
           out))
    return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? std::vector<std::string>{} : std::vector<std::string>{out};
}

void walk(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> dirs;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == "__pycache__") continue;
    std::string full = join_path(dir, name);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) continue;  // symlinks are not followed: no cycles
    if (S_ISDIR(st.st_mode)) dirs.push_back(full);
    else if (S_ISREG(st.st_mode) && name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0)
      out.push_back(full);
  }
  ::closedir(d);
  for (const auto& sub : dirs) walk(sub, out);
}

bool is_test_file(const std::string& path) {
  std::string name(basename(path));
  return name == "conftest.py" || name.rfind("test_", 0) == 0 ||
         (name.size() >= 8 && name.compare(name.size() - 8, 8, "_test.py") == 0);
}

// The first path component under its root: the package, or "(modules)" for a single file.
std::string suite_of(const std::string& root, const std::string& path) {
  std::string rel = relative_to(path, root);
  size_t slash = rel.find('/');
  return slash == std::string::npos ? "(modules)" : rel.substr(0, slash);
}

struct Suite {
  size_t files = 0, test_files = 0, compared = 0, mismatches = 0, excluded = 0, both_errors = 0;
};

enum class Verdict { kAgree, kMismatch, kOracleBug, kInvalidAccepted, kScannerFalseError, kStricter, kBothError };

const char* verdict_text(Verdict v) {
  switch (v) {
    case Verdict::kOracleBug: return "oracle bug (tree-sitter rejects, CPython parses): excluded";
    case Verdict::kInvalidAccepted: return "invalid Python that only tree-sitter rejects: allowed";
    case Verdict::kScannerFalseError: return "SCANNER REJECTS VALID PYTHON";
    case Verdict::kStricter: return "invalid Python that only the scanner rejects: allowed";
    default: return "";
  }
}

TEST(ScannerDiff, AgreesWithTreeSitterOnRealCode) {
  std::vector<std::string> rs = roots();
  if (rs.empty()) GTEST_SKIP() << "no roots: set DXPY_DIFF_ROOTS, or configure with a Python";

  struct File {
    std::string root, path;
    bool test = false;
  };
  std::vector<File> files;
  for (const auto& r : rs) {
    std::vector<std::string> found;
    walk(r, found);
    for (auto& p : found) files.push_back(File{r, std::move(p), false});
  }
  for (auto& f : files) f.test = is_test_file(f.path);
  std::stable_sort(files.begin(), files.end(), [](const File& a, const File& b) {
    return a.test != b.test ? a.test : a.path < b.path;
  });
  if (files.empty()) GTEST_SKIP() << "no .py files under the roots";

  using Clock = std::chrono::steady_clock;
  Clock::duration scan_time{}, ts_time{};
  uint64_t bytes = 0;
  std::vector<Verdict> verdicts(files.size(), Verdict::kAgree);
  std::vector<std::string> notes(files.size());
  std::vector<size_t> one_sided;  // files where exactly one front end reports an error
  for (size_t i = 0; i < files.size(); ++i) {
    auto src = read_file(files[i].path);
    if (!src) continue;
    bytes += src->size();
    auto t0 = Clock::now();
    Outline a = scan_outline(*src);
    auto t1 = Clock::now();
    Outline b = outline_with_tree_sitter(*src);
    scan_time += t1 - t0;
    ts_time += Clock::now() - t1;
    if (!a.errors.empty() && !b.errors.empty()) {
      verdicts[i] = Verdict::kBothError;
    } else if (!a.errors.empty() || !b.errors.empty()) {
      one_sided.push_back(i);
      const SyntaxIssue& e = a.errors.empty() ? b.errors[0] : a.errors[0];
      notes[i] = std::string(a.errors.empty() ? "tree-sitter" : "scanner") + " line " + std::to_string(e.line) +
                 ": " + e.message;
    } else if (std::string diff = first_difference(a, b); !diff.empty()) {
      verdicts[i] = Verdict::kMismatch;
      notes[i] = "scanner != tree-sitter: " + diff;
    }
  }

  // CPython decides the one-sided errors.
  if (!one_sided.empty()) {
    char list[] = "/tmp/dxpy_diff_XXXXXX";
    int fd = ::mkstemp(list);
    ASSERT_GE(fd, 0);
    std::string paths;
    for (size_t i : one_sided) paths += files[i].path + '\n';
    ASSERT_EQ(::write(fd, paths.data(), paths.size()), static_cast<ssize_t>(paths.size()));
    ::close(fd);
    const char* script =
        "import ast, sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "for p in open(sys.argv[1]).read().splitlines():\n"
        "    try:\n"
        "        ast.parse(open(p, 'rb').read(), p)\n"
        "        print('ok')\n"
        "    except (SyntaxError, ValueError):\n"
        "        print('error')\n";
    std::string out;
    bool ok = run_command(shell_quote(python()) + " -c " + shell_quote(script) + " " + list, out);
    ::unlink(list);
    std::vector<std::string> answers = split_nonempty(out, '\n');
    ASSERT_TRUE(ok && answers.size() == one_sided.size())
        << "could not ask " << python() << " about " << one_sided.size() << " files with one-sided errors";
    for (size_t k = 0; k < one_sided.size(); ++k) {
      size_t i = one_sided[k];
      bool cpython_ok = answers[k] == "ok";
      bool scanner_side = notes[i].rfind("scanner", 0) == 0;
      verdicts[i] = scanner_side ? (cpython_ok ? Verdict::kScannerFalseError : Verdict::kStricter)
                                 : (cpython_ok ? Verdict::kOracleBug : Verdict::kInvalidAccepted);
    }
  }

  std::map<std::string, Suite> suites;
  size_t failures = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    Suite& s = suites[suite_of(files[i].root, files[i].path)];
    ++s.files;
    s.test_files += files[i].test;
    Verdict v = verdicts[i];
    if (v == Verdict::kAgree || v == Verdict::kMismatch) ++s.compared;
    if (v == Verdict::kMismatch) ++s.mismatches;
    if (v == Verdict::kBothError) ++s.both_errors;
    if (v == Verdict::kOracleBug || v == Verdict::kInvalidAccepted || v == Verdict::kStricter) ++s.excluded;
    if (v == Verdict::kMismatch || v == Verdict::kScannerFalseError) {
      ++failures;
      ADD_FAILURE() << files[i].path << ": " << notes[i] << (v == Verdict::kScannerFalseError ? " -- " : "")
                    << (v == Verdict::kScannerFalseError ? verdict_text(v) : "");
    } else if (v != Verdict::kAgree && v != Verdict::kBothError) {
      std::printf("  %s: %s -- %s\n", files[i].path.c_str(), notes[i].c_str(), verdict_text(v));
    }
  }

  std::printf("%-28s %6s %6s %8s %10s %8s %11s\n", "suite", "files", "tests", "compared", "mismatches",
              "excluded", "both-error");
  for (const auto& [name, s] : suites) {
    std::printf("%-28s %6zu %6zu %8zu %10zu %8zu %11zu\n", name.c_str(), s.files, s.test_files, s.compared,
                s.mismatches, s.excluded, s.both_errors);
  }
  double mb = static_cast<double>(bytes) / 1e6;
  double scan_s = std::chrono::duration<double>(scan_time).count();
  double ts_s = std::chrono::duration<double>(ts_time).count();
  std::printf("%zu files, %.1f MB: scanner %.1f MB/s, tree-sitter %.1f MB/s (one core)\n", files.size(), mb,
              scan_s > 0 ? mb / scan_s : 0.0, ts_s > 0 ? mb / ts_s : 0.0);

  // The pinned real suites: every test file compared, and equal.
  const char* env = std::getenv("DXPY_DIFF_SUITES");
  for (const std::string& name : split_nonempty(env ? env : "toolz:simplejson:mpmath:networkx", ':')) {
    auto it = suites.find(name);
    if (it == suites.end()) {
      std::printf("suite %s: not under the roots\n", name.c_str());
      continue;
    }
    size_t tests = 0, clean = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      if (!files[i].test || suite_of(files[i].root, files[i].path) != name) continue;
      ++tests;
      clean += verdicts[i] == Verdict::kAgree;
    }
    EXPECT_EQ(clean, tests) << "suite " << name << ": test files that do not agree exactly";
    std::printf("suite %s: %zu of %zu test files agree exactly\n", name.c_str(), clean, tests);
  }
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace dxpy::discovery
