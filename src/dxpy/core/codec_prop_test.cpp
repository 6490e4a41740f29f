// Property 5 (Protocol Message Round-Trip) for every core type, and decoding of
// truncated or garbage bytes, which must give an error and never crash.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "dxpy/core/codec.h"
#include "dxpy/core/test_arbitrary.h"


namespace dxpy {
namespace {

template <class T>
void check_round_trip(const T& v) {
  auto bytes = encode(v);
  auto back = decode<T>(bytes);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == v);
}

// Every strict prefix is rejected, and so is any trailing byte.
template <class T>
void check_truncation(const T& v) {
  auto bytes = encode(v);
  auto cut = *rc::gen::inRange<size_t>(0, bytes.size());
  RC_ASSERT(!decode<T>(std::string_view(bytes).substr(0, cut)).has_value());
  RC_ASSERT(!decode<T>(bytes + std::string(1, '\0')).has_value());
}

RC_GTEST_PROP(CoreCodec, TestIdRoundTrips, (const TestId& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, MarkerRoundTrips, (const Marker& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, FixtureIdRoundTrips, (const FixtureId& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, TestCaseRoundTrips, (const TestCase& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, AssertionStatsRoundTrips, (const AssertionStats& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, TestResultRoundTrips, (const TestResult& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, FixtureDefRoundTrips, (const FixtureDef& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, ImportRefRoundTrips, (const ImportRef& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, FileRecordRoundTrips, (const FileRecord& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, TruncatedFileRecordIsAnError, (const FileRecord& v)) { check_truncation(v); }

RC_GTEST_PROP(CoreCodec, RecordHeadDecodesFromTheFrontOfARecord, (const FileRecord& v)) {
  auto head = decode_record_head(encode(v));
  RC_ASSERT(head.has_value());
  RC_ASSERT(head->path == v.path);
  RC_ASSERT(head->size == v.size);
  RC_ASSERT(head->mtime_ns == v.mtime_ns);
  RC_ASSERT(head->content_hash == v.content_hash);
  RC_ASSERT(head->error == v.error);
  RC_ASSERT(head->error_line == v.error_line);
  RC_ASSERT(head->depends_on == v.depends_on);
}

RC_GTEST_PROP(CoreCodec, TruncatedTestCaseIsAnError, (const TestCase& v)) { check_truncation(v); }
RC_GTEST_PROP(CoreCodec, TruncatedTestResultIsAnError, (const TestResult& v)) { check_truncation(v); }

// Fuzz-style: arbitrary bytes, with or without a valid header, never crash the decoder.
RC_GTEST_PROP(CoreCodec, GarbageNeverCrashes, (const std::string& junk, bool valid_header, uint8_t tag)) {
  std::string bytes = valid_header ? std::string{static_cast<char>(tag % 10), static_cast<char>(kCodecVersion)} + junk
                                   : junk;
  (void)decode<TestId>(bytes);
  (void)decode<Marker>(bytes);
  (void)decode<FixtureId>(bytes);
  (void)decode<TestCase>(bytes);
  (void)decode<AssertionStats>(bytes);
  (void)decode<TestResult>(bytes);
  (void)decode<FixtureDef>(bytes);
  (void)decode<ImportRef>(bytes);
  (void)decode<FileRecord>(bytes);
}

// Flipping one byte of a valid encoding gives an error or some value, never a crash.
RC_GTEST_PROP(CoreCodec, BitFlipsNeverCrash, (const TestResult& v, uint8_t flip)) {
  auto bytes = encode(v);
  auto at = *rc::gen::inRange<size_t>(0, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ (flip | 1));
  (void)decode<TestResult>(bytes);
}

TEST(CoreCodec, RejectsWrongTagAndVersion) {
  auto bytes = encode(TestId{"a.py", {}, "test_a", std::nullopt});
  auto wrong_tag = decode<TestCase>(bytes);
  ASSERT_FALSE(wrong_tag);
  EXPECT_EQ(wrong_tag.error().code, Errc::kCorrupt);
  bytes[1] = static_cast<char>(kCodecVersion + 1);
  auto wrong_version = decode<TestId>(bytes);
  ASSERT_FALSE(wrong_version);
  EXPECT_EQ(wrong_version.error().code, Errc::kVersion);
}

TEST(CoreCodec, HugeCountIsRejectedWithoutAllocating) {
  // tag, version, path "", classes count = 2^60
  std::string bytes = {static_cast<char>(CodecTag::kTestId), static_cast<char>(kCodecVersion), 0};
  for (int i = 0; i < 8; ++i) bytes.push_back('\x80');
  bytes.push_back('\x10');
  auto r = decode<TestId>(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
}

RC_GTEST_PROP(TestIdText, NodeIdRoundTrips, ()) {
  TestId id;
  id.path = *rc::gen::map(rc::identifier(), [](std::string s) { return "tests/" + s + ".py"; });
  id.classes = *rc::gen::container<std::vector<std::string>>(rc::identifier());
  id.name = *rc::identifier();
  id.param = *rc::gen::arbitrary<std::optional<std::string>>();
  RC_ASSERT(TestId::parse(id.node_id()) == id);
}

// The codec tells "no param" from the empty one, which a string alone could not.
TEST(CoreCodec, EmptyParamDiffersFromNone) {
  TestId none{"a.py", {}, "test_a", std::nullopt};
  TestId empty{"a.py", {}, "test_a", ""};
  EXPECT_NE(encode(none), encode(empty));
  auto back = decode<TestId>(encode(empty));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, empty);
  back = decode<TestId>(encode(none));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, none);
}

TEST(CoreCodec, PresenceByteAboveOneIsCorrupt) {
  std::string bytes = encode(TestId{"a.py", {}, "test_a", "p"});
  // The presence byte follows path, classes and name: 1+4, 1, 1+6 bytes after tag and version.
  const size_t at = 2 + 5 + 1 + 7;
  ASSERT_EQ(bytes[at], 1);
  bytes[at] = 2;
  auto r = decode<TestId>(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
}

TEST(CoreCodec, ResultPropertiesRoundTripInOrder) {
  TestResult r;
  r.id = TestId{"a.py", {}, "test_a", std::nullopt};
  r.properties = {{"answer", "42"}, {"answer", "43"}, {"", ""}};
  r.suite_properties = {{"ARCH", "PPC"}};
  auto back = decode<TestResult>(encode(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->properties, r.properties);
  EXPECT_EQ(back->suite_properties, r.suite_properties);
}

}  // namespace
}  // namespace dxpy
