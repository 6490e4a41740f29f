// Writes one valid message of each type into a folder: the fuzzer's seed corpus.
//   protocol_fuzz_seeds src/dxpy/protocol/fuzz_corpus
#include <cstdio>
#include <string>

#include "dxpy/protocol/message.h"
#include "dxpy/util/fs.h"

using namespace dxpy;
using namespace dxpy::protocol;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
    return 2;
  }
  TestMessage test;
  test.sequence = 17;
  test.timeout_ms = 5000;
  test.worker_id = 2;
  test.last_of_module = true;
  test.test.id = TestId::parse("tests/test_math.py::TestAdd::test_add[1-2]");
  test.test.file = "/src/tests/test_math.py";
  test.test.line = 10;
  test.test.kind = TestKind::kMethod;
  test.test.markers = {Marker{"parametrize", {"'a,b'", "[(1, 2)]"}, {}}, Marker{"timeout", {"5"}, {{"method", "'signal'"}}}};
  test.test.fixtures = {"tmp_path", "a", "b"};

  TestResultMessage result;
  result.sequence = 17;
  result.worker_id = 2;
  result.result.id = test.test.id;
  result.result.status = TestStatus::kFailed;
  result.result.duration_ns = 123456;
  result.result.message = "assert 3 == 4";
  result.result.traceback = "def test_add(a, b):\n>       assert a + b == 4\nE       assert 3 == 4\n";
  result.result.stdout_text = "hello\n";
  result.result.stderr_text = "warning\n";
  result.result.assertions = {2, 1};
  result.result.properties = {{"answer", "42"}};
  result.result.suite_properties = {{"ARCH", "x86_64"}};
  result.result.worker_warnings = {"conftest.py: hook pytest_runtest_makereport is not supported"};

  const std::string payload = "0123456789abcdef";
  const std::pair<const char*, std::string> seeds[] = {
      {"test.bin", encode(test)},
      {"test_result.bin", encode(result)},
      {"hello.bin", encode(HelloMessage{4242, 2, "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]"})},
      {"shutdown.bin", encode(ShutdownMessage{2000, true})},
      {"log.bin", encode(LogMessage{LogLevel::kWarning, 2, 17, "module imported twice"})},
      {"heartbeat.bin", encode(LogMessage{})},
      {"collect_error.bin", encode(CollectErrorMessage{2, 18, "/src/tests/test_bad.py", "ImportError: no module named x",
                                                       "Traceback (most recent call last):\n  ..."})},
      {"chunk.bin", encode(ChunkView{40, 1, false, payload})},
  };
  for (const auto& [name, bytes] : seeds) {
    if (!validate(bytes)) return 1;
    auto written = write_file_atomic(join_path(argv[1], name), bytes, Durability::kCache);
    if (!written) {
      std::fprintf(stderr, "%s\n", written.error().message.c_str());
      return 1;
    }
  }
  return 0;
}
