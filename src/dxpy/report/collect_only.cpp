#include "dxpy/report/collect_only.h"

#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

namespace dxpy::report {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

void print_tree(std::FILE* out, const std::string& rootdir, const std::vector<TestCase>& tests,
                const std::function<bool(const std::string&)>& is_package) {
  // The chain of open nodes, as the labels printed at each depth.
  std::vector<std::string> open;
  auto emit = [&](size_t depth, const std::string& label) {
    if (depth < open.size() && open[depth] == label) return;
    open.resize(depth);
    open.push_back(label);
    std::fprintf(out, "%s%s\n", std::string(2 * depth, ' ').c_str(), label.c_str());
  };
  std::string root_name = rootdir.substr(rootdir.rfind('/') + 1);
  // Whether a folder is a package is asked once per folder, not once per test.
  std::unordered_map<std::string, bool> packages;
  auto package = [&](const std::string& dir) {
    auto [it, fresh] = packages.try_emplace(dir, false);
    if (fresh) it->second = is_package(dir);
    return it->second;
  };
  for (const auto& t : tests) {
    emit(0, "<Dir " + root_name + ">");
    auto parts = split_path(t.id.path);
    std::string dir;
    size_t depth = 1;
    for (size_t i = 0; i + 1 < parts.size(); ++i, ++depth) {
      dir += (dir.empty() ? "" : "/") + parts[i];
      emit(depth, (package(dir) ? "<Package " : "<Dir ") + parts[i] + ">");
    }
    emit(depth++, "<Module " + parts.back() + ">");
    bool unittest = t.kind == TestKind::kUnittest;
    for (const auto& c : t.id.classes) emit(depth++, (unittest ? "<UnitTestCase " : "<Class ") + c + ">");
    std::string name = t.id.name + (t.id.param ? "[" + *t.id.param + "]" : "");
    emit(depth, (unittest ? "<TestCaseFunction " : "<Function ") + name + ">");
  }
}

}  // namespace

void list_tests(std::span<const TestCase> tests, std::vector<ListedFile>& out, std::deque<std::string>& tails,
                std::deque<std::vector<uint32_t>>& ends) {
  for (size_t i = 0; i < tests.size();) {
    const std::string& path = tests[i].id.path;
    std::string& t = tails.emplace_back();
    std::vector<uint32_t>& e = ends.emplace_back();
    for (; i < tests.size() && tests[i].id.path == path; ++i) {
      tests[i].id.append_node_tail(t);
      e.push_back(static_cast<uint32_t>(t.size()));
    }
    out.push_back({path, t.data(), e.data(), nullptr, static_cast<uint32_t>(e.size())});
  }
}

void print_collection(std::FILE* out, const std::string& rootdir, const std::vector<TestCase>& tests, int verbosity,
                      const std::function<bool(const std::string&)>& is_package) {
  if (verbosity >= 0) {
    print_tree(out, rootdir, tests, is_package);
  } else {
    std::vector<ListedFile> files;
    std::deque<std::string> tails;
    std::deque<std::vector<uint32_t>> ends;
    list_tests(tests, files, tails, ends);
    print_node_ids(out, files, verbosity);
  }
}

void print_node_ids(std::FILE* out, const std::vector<ListedFile>& files, int verbosity) {
  if (verbosity != -1) {
    // -qq: tests per file, files sorted by path (pytest's sorted(Counter(...))), whatever
    // order the tests are in.
    std::map<std::string_view, size_t> counts;
    for (const ListedFile& f : files)
      if (f.count) counts[f.path] += f.count;
    for (const auto& [path, n] : counts)
      std::fprintf(out, "%.*s: %zu\n", static_cast<int>(path.size()), path.data(), n);
    return;
  }
  // Lines gathered in a block of our own and written a block at a time.
  constexpr size_t kBlock = size_t{1} << 16;
  std::unique_ptr<char[]> buf(new char[kBlock]);
  size_t used = 0;
  for (const ListedFile& f : files) {
    for (size_t k = 0; k < f.count; ++k) {
      const std::string_view tail = f.tail(k);
      const size_t size = f.path.size() + tail.size();
      if (kBlock - used <= size) {
        std::fwrite(buf.get(), 1, used, out);
        used = 0;
        if (size >= kBlock) {  // a line longer than the block goes out on its own
          std::fwrite(f.path.data(), 1, f.path.size(), out);
          std::fwrite(tail.data(), 1, tail.size(), out);
          std::fputc('\n', out);
          continue;
        }
      }
      std::memcpy(buf.get() + used, f.path.data(), f.path.size());
      used += f.path.size();
      std::memcpy(buf.get() + used, tail.data(), tail.size());
      used += tail.size();
      buf[used++] = '\n';
    }
  }
  std::fwrite(buf.get(), 1, used, out);
}

}  // namespace dxpy::report
