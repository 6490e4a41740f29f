// The differential test: scan_imports against CPython's ast on every *.py file under
// DXPY_DIFF_ROOTS (colon-separated folders; default: the configured Python's site-packages)
// that CPython parses. Per file, the rows (line, module, level, names, nested) must be
// equal as multisets:
//   ast.Import            one row per alias;
//   ast.ImportFrom        one row, names in order;
//   import_module(...), __import__(...) calls (a name or an attribute) whose first argument
//                         is one plain literal of a dotted name, as the scanner's doc says.
// `nested`: the statement is not directly in the module body. The interpreter is
// DXPY_DIFF_PYTHON or the one CMake found.
#include <gtest/gtest.h>
#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "dxpy/util/test_command.h"
#include "dxpy/util/text.h"
#include "dxpy/graph/imports.h"
#include "dxpy/util/fs.h"

#ifndef DXPY_PYTHON
#define DXPY_PYTHON "python3"
#endif

namespace dxpy::graph {
namespace {

using testing::run_command;
using testing::shell_quote;

constexpr const char* kOracle = R"PY(
import ast, re, sys
PLAIN = re.compile(r'''^[rRuU]?(['"])[^'"\\\n]*\1$''')
DOTTED = re.compile(r'^\.*(?:[^\W\d]\w*(?:\.[^\W\d]\w*)*)?$')
def rows(src, tree):
    top = set(id(s) for s in tree.body)
    out = []
    def visit(node, stmt):
        if isinstance(node, ast.stmt):
            stmt = node
        nested = int(id(stmt) not in top) if stmt is not None else 0
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append(f"{node.lineno}|{a.name}|0||{nested}")
        elif isinstance(node, ast.ImportFrom):
            names = ",".join(a.name for a in node.names)
            out.append(f"{node.lineno}|{node.module or ''}|{node.level}|{names}|{nested}")
        elif isinstance(node, ast.Call) and node.args:
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            arg = node.args[0]
            if name in ("import_module", "__import__") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                seg = ast.get_source_segment(src, arg) or ""
                text = arg.value
                if PLAIN.match(seg) and text and DOTTED.match(text) and text.strip("."):
                    level = len(text) - len(text.lstrip("."))
                    out.append(f"{f.end_lineno}|{text[level:]}|{level}||{nested}")
                elif PLAIN.match(seg) and text and set(text) == {"."}:
                    out.append(f"{f.end_lineno}||{len(text)}||{nested}")
        for child in ast.iter_child_nodes(node):
            visit(child, stmt)
    visit(tree, None)
    return out
for path in sys.stdin.read().split("\0"):
    if not path:
        continue
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        src = data.decode("utf-8")
        tree = ast.parse(data)
    except Exception:
        print("E\t" + path)
        continue
    print("F\t" + path)
    for r in rows(src, tree):
        print("R\t" + r)
)PY";

std::string python() {
  const char* p = std::getenv("DXPY_DIFF_PYTHON");
  return p && *p ? p : DXPY_PYTHON;
}


void walk(const std::string& dir, std::vector<std::string>& out) {
  for (const auto& name : list_dir(dir)) {
    if (name == "__pycache__") continue;
    std::string full = join_path(dir, name);
    auto st = stat_path(full);
    if (!st) continue;
    if (st->is_dir) walk(full, out);
    else if (st->is_file && name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0) out.push_back(full);
  }
}

std::string row(const ImportRef& r) {
  std::string s = std::to_string(r.line) + "|" + r.module + "|" + std::to_string(r.level) + "|";
  for (size_t k = 0; k < r.names.size(); ++k) s += (k ? "," : "") + r.names[k];
  return s + "|" + (r.nested ? "1" : "0");
}

TEST(GraphImportsDiff, AgreesWithCPythonsAst) {
  std::vector<std::string> roots;
  if (const char* env = std::getenv("DXPY_DIFF_ROOTS")) {
    roots = split_nonempty(env, ':');
  } else {
    std::string out;
    const std::string ask = " -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])' 2>/dev/null";
    if (run_command(shell_quote(python()) + ask, out)) {
      while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
      if (!out.empty()) roots.push_back(out);
    }
  }
  if (roots.empty()) GTEST_SKIP() << "no Python to find site-packages with; set DXPY_DIFF_ROOTS";
  std::vector<std::string> files;
  for (const auto& r : roots) walk(r, files);
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());

  // The oracle reads the file list on stdin (NUL-separated) from a temp file.
  const std::string list = ::testing::TempDir() + "dxpy_imports_diff_files";
  const std::string script = ::testing::TempDir() + "dxpy_imports_diff.py";
  {
    std::ofstream l(list, std::ios::binary);
    for (const auto& f : files) l << f << '\0';
    std::ofstream s(script);
    s << kOracle;
  }
  std::string out;
  ASSERT_TRUE(run_command(shell_quote(python()) + " " + shell_quote(script) + " < " + shell_quote(list), out));
  std::map<std::string, std::vector<std::string>> want;
  std::vector<std::string>* current = nullptr;
  size_t rejected = 0;
  for (const auto& line : split_nonempty(out, '\n')) {
    if (line.rfind("F\t", 0) == 0) current = &want[line.substr(2)];
    else if (line.rfind("E\t", 0) == 0) current = nullptr, ++rejected;
    else if (line.rfind("R\t", 0) == 0 && current) current->push_back(line.substr(2));
  }
  ASSERT_FALSE(want.empty());

  size_t bytes = 0, imports = 0, mismatched = 0;
  double seconds = 0;
  for (auto& [path, rows] : want) {
    auto source = read_file(path);
    ASSERT_TRUE(source) << path;
    bytes += source->size();
    auto t0 = std::chrono::steady_clock::now();
    auto refs = scan_imports(*source);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::string> got;
    for (const auto& r : refs) got.push_back(row(r));
    std::sort(got.begin(), got.end());
    std::sort(rows.begin(), rows.end());
    imports += rows.size();
    if (got != rows) {
      if (++mismatched <= 10) {
        std::string detail;
        for (const auto& r : rows)
          if (!std::binary_search(got.begin(), got.end(), r)) detail += "\n  missing    " + r;
        for (const auto& r : got)
          if (!std::binary_search(rows.begin(), rows.end(), r)) detail += "\n  unexpected " + r;
        ADD_FAILURE() << path << detail;
      }
    }
  }
  EXPECT_EQ(mismatched, 0u);
  std::printf("%zu files (%zu rejected by CPython), %zu imports, %.1f MB scanned at %.0f MB/s\n", want.size(),
              rejected, imports, static_cast<double>(bytes) / 1e6, static_cast<double>(bytes) / 1e6 / seconds);
}

}  // namespace
}  // namespace dxpy::graph
