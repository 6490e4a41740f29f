#pragma once
/// `dx-py merge-junit`: the JUnit XML reports of several shards as one report, as the
/// unsharded run would have written it: one <testsuite> whose counts (tests, errors,
/// failures, skipped) and time are the sums of the inputs', with every input's testcases in
/// the order of the inputs, and the suite <properties> of all of them (a property recorded
/// the same in several shards once). The testcases are copied byte for byte.
///
/// Input: what pytest's junitxml or dx-py writes (<testsuites> around <testsuite>s, or a
/// bare <testsuite>), read with expat. Name, timestamp (the earliest) and hostname come from
/// the first suite that has them.

#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::report {

struct JunitInput {
  std::string name;  // for messages: the file's path
  std::string text;
};

/// kParse (naming the input and the line) when an input is not well-formed XML or not a
/// JUnit report.
Expected<std::string> merge_junit(const std::vector<JunitInput>& inputs);

}  // namespace dxpy::report
