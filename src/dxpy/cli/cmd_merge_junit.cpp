// dx-py merge-junit A.xml B.xml ... -o ALL.xml: the shards' JUnit reports as one
// (report/junit_merge.h). Exit 0 when written, 1 when an input cannot be read or is not a
// JUnit report, or the output cannot be written; 4 for bad arguments.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "dxpy/cli/commands.h"
#include "dxpy/report/junit_merge.h"
#include "dxpy/util/fs.h"

namespace dxpy::cli {

namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string output;
};

int run_merge(const MergeArgs& a) {
  std::vector<report::JunitInput> inputs;
  for (const auto& path : a.inputs) {
    auto text = read_file(path);
    if (!text) {
      std::fprintf(stderr, "dx-py merge-junit: error: cannot read %s: %s\n", path.c_str(), text.error().message.c_str());
      return 1;
    }
    inputs.push_back({path, std::move(*text)});
  }
  auto merged = report::merge_junit(inputs);
  if (!merged) {
    std::fprintf(stderr, "dx-py merge-junit: error: %s\n", merged.error().message.c_str());
    return 1;
  }
  if (auto written = write_file_atomic(a.output, *merged); !written) {
    std::fprintf(stderr, "dx-py merge-junit: error: cannot write %s: %s\n", a.output.c_str(),
                 written.error().message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Command merge_junit_command() {
  return {"merge-junit", "merge the JUnit XML reports of --shard runs into one",
          [](CLI::App& app) -> std::function<int()> {
            auto a = std::make_shared<MergeArgs>();
            app.add_option("reports", a->inputs, "the shards' JUnit XML files (--junit-xml), in order")
                ->required()
                ->check(CLI::ExistingFile);
            app.add_option("-o,--output", a->output, "where the merged report goes")->required();
            return [a] { return run_merge(*a); };
          }};
}

}  // namespace dxpy::cli
