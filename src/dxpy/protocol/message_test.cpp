#include "dxpy/protocol/message.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace dxpy::protocol {
namespace {

TestMessage sample_test() {
  TestMessage m;
  m.sequence = 0x0102030405060708;
  m.timeout_ms = 30000;
  m.worker_id = 3;
  m.attempt = 1;
  m.last_of_module = true;
  m.test.id = TestId::parse("tests/test_a.py::TestA::test_x[1-2]");
  m.test.file = "/root/tests/test_a.py";
  m.test.line = 12;
  m.test.kind = TestKind::kMethod;
  m.test.markers = {Marker{"slow", {}, {}}};
  return m;
}

TEST(ProtocolMessage, TestHeaderBytesAreFixed) {
  const std::string b = encode(sample_test());
  const std::string want_header("DXPM\x02\x02\x01\x00", 8);  // version 2, test, last of module
  EXPECT_EQ(b.substr(0, 8), want_header);
  EXPECT_EQ(b.substr(12, 20), std::string("\x30\x75\x00\x00"           // timeout 30000
                                          "\x08\x07\x06\x05\x04\x03\x02\x01"  // sequence
                                          "\x03\x00\x01\x00"           // worker 3, attempt 1
                                          "\x00\x00\x00\x00",          // reserved
                                          20));
  const auto h = read_header(b);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, MessageType::kTest);
  EXPECT_EQ(h->header_size, 32u);
  EXPECT_EQ(h->total_size(), b.size());
}

TEST(ProtocolMessage, TestMessageCarriesTheTestCase) {
  auto m = decode_test(encode(sample_test()));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->test.id.node_id(), "tests/test_a.py::TestA::test_x[1-2]");
  EXPECT_EQ(m->test.file, "/root/tests/test_a.py");
  EXPECT_EQ(qualname(m->test.id), "TestA.test_x");
  EXPECT_EQ(m->test.id.param, "1-2");
  EXPECT_EQ(*m, sample_test());
}

TEST(ProtocolMessage, ResultCountsTravelInTheHeader) {
  TestResultMessage m;
  m.sequence = 9;
  m.result.status = TestStatus::kFailed;
  m.result.duration_ns = 1500;
  m.result.assertions = {4, 1};
  m.result.stdout_text = "out";
  const std::string b = encode(m);
  EXPECT_EQ(static_cast<uint8_t>(b[12]), static_cast<uint8_t>(TestStatus::kFailed));
  EXPECT_EQ(static_cast<uint8_t>(b[24]), 1500 & 0xff);
  EXPECT_EQ(static_cast<uint8_t>(b[32]), 4);
  EXPECT_EQ(static_cast<uint8_t>(b[36]), 1);
  auto back = decode_test_result(b);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

// record_property's pairs and an empty parametrize id ("test_x[]") reach the orchestrator.
TEST(ProtocolMessage, ResultCarriesPropertiesAndAnEmptyParam) {
  TestResultMessage m;
  m.result.id = TestId::parse("tests/test_a.py::test_x[]");
  m.result.properties = {{"answer", "42"}, {"note", ""}};
  m.result.suite_properties = {{"ARCH", "PPC"}};
  auto back = decode_test_result(encode(m));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->result.id.node_id(), "tests/test_a.py::test_x[]");
  EXPECT_EQ(back->result.properties, m.result.properties);
  EXPECT_EQ(back->result.suite_properties, m.result.suite_properties);
}

// The worker's own warnings travel beside the test's properties, never among them.
TEST(ProtocolMessage, ResultCarriesTheWorkersWarningsApartFromItsProperties) {
  TestResultMessage m;
  m.result.id = TestId::parse("tests/test_a.py::test_x");
  m.result.properties = {{"answer", "42"}};
  m.result.worker_warnings = {"conftest.py: hook pytest_runtest_makereport is not supported", ""};
  auto back = decode_test_result(encode(m));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->result.worker_warnings, m.result.worker_warnings);
  EXPECT_EQ(back->result.properties, m.result.properties);
}

TEST(ProtocolMessage, ErrorsSayWhatIsWrong) {
  std::string b = encode(sample_test());
  auto wrong_type = decode_test_result(b);
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().message, "test-result message: the header says test");

  auto short_prefix = read_header("DXP");
  ASSERT_FALSE(short_prefix);
  EXPECT_EQ(short_prefix.error().code, Errc::kTruncated);
  EXPECT_NE(short_prefix.error().message.find("shorter than the 12-byte prefix"), std::string::npos);

  std::string bad_magic = b;
  bad_magic[0] = 'X';
  EXPECT_NE(decode_test(bad_magic).error().message.find("bad magic"), std::string::npos);

  std::string bad_version = b;
  bad_version[4] = 9;
  EXPECT_EQ(decode_test(bad_version).error().message, "protocol version 9, expected " + std::to_string(kVersion));

  std::string bad_type = b;
  bad_type[5] = 42;
  EXPECT_EQ(decode_test(bad_type).error().message, "unknown message type 42");

  auto over = decode_test(b, 10);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Errc::kLimit);
  EXPECT_NE(over.error().message.find("exceeds the limit of 10"), std::string::npos);

  auto cut = decode_test(std::string_view(b).substr(0, b.size() - 1));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("truncated"), std::string::npos);

  std::string reserved = b;
  reserved[30] = 1;
  EXPECT_EQ(decode_test(reserved).error().message, "test message: reserved field reserved is 65536");

  std::string bad_payload = b;
  bad_payload[32] = '\x7f';  // the node path's length, now far beyond the payload
  auto p = decode_test(bad_payload);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message.rfind("test message: payload: ", 0), 0u) << p.error().message;
}

TEST(ProtocolMessage, ShutdownAndHeartbeat) {
  ShutdownMessage s{2000, true};
  const std::string sb = encode(s);
  EXPECT_EQ(sb.size(), 16u);
  EXPECT_EQ(decode_shutdown(sb).value(), s);
  std::string with_payload = sb + "x";
  with_payload[8] = 1;
  EXPECT_FALSE(decode_shutdown(with_payload));

  LogMessage heartbeat;  // a heartbeat is an empty log line at level kHeartbeat
  const std::string hb = encode(heartbeat);
  EXPECT_EQ(hb.size(), 25u);  // 24-byte header, one byte for the empty text's length
  EXPECT_EQ(decode_log(hb).value(), heartbeat);
  std::string bad_level = hb;
  bad_level[12] = 9;
  EXPECT_EQ(decode_log(bad_level).error().message, "log message: unknown level 9");
}

TEST(ProtocolMessage, ChunkSliceMustFitTheTotal) {
  ChunkView c{3, 0, false, "abcd"};
  auto r = decode_chunk(encode(c));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
}

TEST(ProtocolMessage, ValidateNamesTheType) {
  EXPECT_EQ(validate(encode(HelloMessage{42, 1, "3.12.1"})).value(), MessageType::kHello);
  EXPECT_EQ(validate(encode(CollectErrorMessage{1, 2, "a.py", "ImportError", "tb"})).value(),
            MessageType::kCollectError);
  EXPECT_FALSE(validate(""));
}

// The seeds of the fuzzer stay valid messages: regenerate them (protocol_fuzz_seeds) when
// the format changes.
TEST(ProtocolMessage, FuzzSeedsDecode) {
  namespace fs = std::filesystem;
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(DXPY_PROTOCOL_FUZZ_CORPUS)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_TRUE(validate(ss.str()).has_value()) << entry.path();
    ++seen;
  }
  EXPECT_GE(seen, 7);
}

}  // namespace
}  // namespace dxpy::protocol
